"""One record per frequency/dropout family: every family-specific formula, in one place.

A :class:`Family` carries a family's natural parameter names, its log-likelihood (and the
count and timing parts the models evaluate apart), P(alive), the unconditional and
conditional expected purchases, its generative process (in windows, and in continuous time
for simulators that need purchase times), and what scoring needs for the future of a
customer alive at T: the parameters of their purchase process after T, its
expectation and generative process there (the family's own from-birth ones for Pareto/NBD
and BG/NBD; BG/NBD's for MBG/NBD, whose dropout chance at the first purchase lies behind a
customer alive at T), and how a retention action's multiplicative effects change those
parameters. Code above ``maths`` looks a family up here instead of branching on its name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np

from bayesclv.maths.backend import ops_for
from bayesclv.maths.bgnbd import (
    bgnbd_conditional_expected_purchases,
    bgnbd_count_loglik,
    bgnbd_expected_purchases,
    bgnbd_loglik,
    bgnbd_p_alive,
    bgnbd_timing_loglik,
)
from bayesclv.maths.mbgnbd import (
    mbgnbd_alive_parameters,
    mbgnbd_conditional_expected_purchases,
    mbgnbd_count_loglik,
    mbgnbd_expected_purchases,
    mbgnbd_loglik,
    mbgnbd_p_alive,
    mbgnbd_timing_loglik,
)
from bayesclv.maths.paretonbd import (
    paretonbd_conditional_expected_purchases,
    paretonbd_count_loglik,
    paretonbd_expected_purchases,
    paretonbd_loglik,
    paretonbd_p_alive,
    paretonbd_timing_loglik,
)

__all__ = [
    "BG_NBD",
    "FAMILIES",
    "MBG_NBD",
    "PARETO_NBD",
    "Family",
    "FuturePurchases",
    "PurchaseEvents",
    "family",
]

Arrays = Sequence[np.ndarray]


@dataclass(frozen=True)
class Family:
    """The formulas of one frequency/dropout family.

    Attributes
    ----------
    name
        ``"pareto_nbd"``, ``"bg_nbd"`` or ``"mbg_nbd"``.
    natural
        The paper's parameter names, in the order every function here takes them.
    time_scales
        Those measured in the model's time unit (a fit in weeks has them in weeks): the
        rate α of the purchase rates' Gamma and, for Pareto/NBD, the rate β of the dropout
        rates'; the others (shapes, Beta parameters) have no unit.
    loglik, count_loglik, timing_loglik
        Per-customer log-likelihood ``f(*natural, x, t_x, T)`` and its parts
        ``f(*natural, x)`` (every special function) and ``f(*natural, x, t_x, T)``.
    p_alive
        ``f(*natural, x, t_x, T)``: P(alive at T | history).
    expected_purchases
        ``f(*natural, t)``: E[X(t)] for a customer acquired at 0.
    conditional_expected_purchases
        ``f(*natural, x, t_x, T, t)``: E[X(T, T+t] | history].
    future
        ``f(rng, natural, alive)``: the generative process from the first purchase, one draw
        of every customer's latent rates (arrays of any common shape), whose
        ``purchases(start, end)`` gives the purchases in each successive window; ``alive``
        (a boolean mask, or None for "everyone") marks who has not dropped out before time
        0. The predictive check runs it with the fitted parameters.
    alive_parameters
        ``f(natural, x, T)``: the parameters of the purchase process after T for a customer
        alive at T (the conditional posterior of the latent rates given the history).
    alive_expected_purchases
        ``f(*alive_parameters, t)``: purchases expected in (T, T+t] if alive at T, so that
        ``conditional_expected_purchases = p_alive × alive_expected_purchases``.
    alive_future
        ``f(rng, alive_parameters, alive)``: the generative process from T of customers
        alive at T (``alive`` masks who is); predictive CLV runs it.
    treated_parameters
        ``f(alive_parameters, purchase, dropout)``: the same after scaling the purchase rate
        by ``purchase`` and the dropout (rate or probability) by ``dropout``.
    purchase_events
        ``f(rng, natural, rate, window, per_unit)``: the generative process in continuous
        time, for simulators that need purchase *times* (the day-level transaction logs of
        :mod:`bayesclv.simulate`): given each customer's purchase rate λ per clock unit,
        draws their dropout and the purchases they make while alive in (0, window], on their
        own clock from the first purchase; ``per_unit`` is clock units per time unit of the
        parameters (7 for days against weekly rates). Returns :class:`PurchaseEvents`. The
        random draws come in a fixed order: a seeded simulation depends on it.
    dropout_latent
        The name of a customer's latent dropout quantity drawn by ``purchase_events``:
        ``"mu"`` (a rate per time unit) or ``"dropout_prob"`` (a chance per purchase).
    covariate_parameters
        ``f(natural, purchase_shift, dropout_shift)``: a customer's parameters when their
        covariates add ``purchase_shift`` to the log of the mean purchase rate and
        ``dropout_shift`` to the log of the mean dropout rate (Pareto/NBD) or to the log-odds
        of the mean dropout probability ((M)BG/NBD), the shapes unchanged. Written once for
        NumPy arrays and PyTensor tensors.
    """

    name: str
    natural: tuple[str, ...]
    time_scales: tuple[str, ...]
    loglik: Callable[..., object]
    count_loglik: Callable[..., object]
    timing_loglik: Callable[..., object]
    p_alive: Callable[..., np.ndarray]
    expected_purchases: Callable[..., np.ndarray]
    conditional_expected_purchases: Callable[..., np.ndarray]
    future: Callable[[np.random.Generator, Arrays, np.ndarray | None], FuturePurchases]
    alive_parameters: Callable[[Arrays, np.ndarray, np.ndarray], list[np.ndarray]]
    alive_expected_purchases: Callable[..., np.ndarray]
    alive_future: Callable[[np.random.Generator, Arrays, np.ndarray | None], FuturePurchases]
    treated_parameters: Callable[[Arrays, np.ndarray, np.ndarray], list[np.ndarray]]
    purchase_events: Callable[..., PurchaseEvents]
    dropout_latent: str
    covariate_parameters: Callable[[Arrays, object, object], list[object]]


class FuturePurchases(Protocol):
    """One draw of the latent purchase and dropout processes of many customers."""

    def purchases(self, start: float | np.ndarray, end: float | np.ndarray) -> np.ndarray:
        """Purchases in (start, end]; windows must be asked for in order, without gaps."""


class PurchaseEvents(NamedTuple):
    """Purchases of many customers in continuous time, each on their own clock.

    Attributes
    ----------
    dropout
        Each customer's latent dropout: rate μ per time unit (Pareto/NBD) or chance p per
        purchase ((M)BG/NBD); shape (customers,).
    lifetime
        When each customer drops out (clock units after the first purchase; 0 for a
        dropout at the first purchase, ``inf`` for never); shape (customers,).
    customer, time
        The customer and time (clock units, in (0, window]) of every purchase made while
        alive within the window, by customer and, for (M)BG/NBD, in time order.
    """

    dropout: np.ndarray
    lifetime: np.ndarray
    customer: np.ndarray
    time: np.ndarray


def _pareto_alive(params: Arrays, x: np.ndarray, T: np.ndarray) -> list[np.ndarray]:
    """λ | alive ~ Gamma(r + x, α + T), μ | alive ~ Gamma(s, β + T) (SMC 1987)."""
    r, alpha, s, beta = params
    return [r + x, alpha + T, s, beta + T]


def _pareto_treated(params: Arrays, purchase: np.ndarray, dropout: np.ndarray
                    ) -> list[np.ndarray]:
    """λ ~ Gamma(r, α) scaled by f is Gamma(r, α / f), exactly; so is μ ~ Gamma(s, β)."""
    r, alpha, s, beta = params
    return [r, alpha / purchase, s, beta / dropout]


def _pareto_covariates(params: Arrays, purchase: object, dropout: object) -> list[object]:
    """λ ~ Gamma(r, α e^(−Δλ)) has mean (r / α) e^(Δλ); μ likewise with β and Δμ."""
    r, alpha, s, beta = params
    ops = ops_for(alpha, purchase, dropout)
    return [r, alpha * ops.exp(-purchase), s, beta * ops.exp(-dropout)]


def _bg_alive(params: Arrays, x: np.ndarray, T: np.ndarray) -> list[np.ndarray]:
    """λ | alive ~ Gamma(r + x, α + T), p | alive ~ Beta(a, b + x) (FHL 2005)."""
    r, alpha, a, b = params
    return [r + x, alpha + T, a, b + x]


def _bg_treated(params: Arrays, purchase: np.ndarray, dropout: np.ndarray
                ) -> list[np.ndarray]:
    """λ as for Pareto/NBD; p ~ Beta(a, b) has no such closure: its mean a / (a + b) is
    scaled by ``dropout`` keeping a + b (moment matching), the new mean capped at 0.999."""
    r, alpha, a, b = params
    total = a + b
    a_new = np.minimum(a * dropout, 0.999 * total)
    return [r, alpha / purchase, a_new, total - a_new]


def _bg_covariates(params: Arrays, purchase: object, dropout: object) -> list[object]:
    """λ as for Pareto/NBD; p ~ Beta(a', b') with a' + b' = a + b and the log-odds of its mean
    a / (a + b) shifted by Δ: a' = (a + b) a e^Δ / (a e^Δ + b)."""
    r, alpha, a, b = params
    ops = ops_for(alpha, purchase, dropout)
    odds = a * ops.exp(dropout)
    total = a + b
    return [r, alpha * ops.exp(-purchase), total * odds / (odds + b), total * b / (odds + b)]


def _mbg_alive(params: Arrays, x: np.ndarray, T: np.ndarray) -> list[np.ndarray]:
    """λ | alive ~ Gamma(r + x, α + T), p | alive ~ Beta(a, b + x + 1): BG/NBD's from T."""
    return mbgnbd_alive_parameters(*params, x, T)


class _ParetoFuture:
    """λ ~ Gamma(r, α) and a lifetime ~ Exponential(μ), μ ~ Gamma(s, β); Poisson(λ) while alive."""

    def __init__(self, rng: np.random.Generator, params: Arrays,
                 alive: np.ndarray | None) -> None:
        r, alpha, s, beta = params
        self._rng = rng
        self._rate = rng.gamma(r, 1.0 / alpha)
        mu = rng.gamma(s, 1.0 / beta)
        with np.errstate(divide="ignore"):
            # a rate that underflows to 0 is a lifetime beyond any window
            lifetime = rng.standard_exponential(mu.shape) / mu
        self._lifetime = lifetime if alive is None else np.where(alive, lifetime, 0.0)

    def purchases(self, start: float | np.ndarray, end: float | np.ndarray) -> np.ndarray:
        return self._rng.poisson(self._rate * np.clip(self._lifetime - start, 0.0, end - start))


class _BGFuture:
    """λ ~ Gamma(r, α); after each purchase the customer drops out with p ~ Beta(a, b): at
    most K ~ Geometric(p) purchases in all, the Poisson(λ) process cut at the K-th."""

    #: Dropout chances before the first purchase of the window (MBG/NBD: one, at time 0).
    chances_at_start = 0

    def __init__(self, rng: np.random.Generator, params: Arrays,
                 alive: np.ndarray | None) -> None:
        r, alpha, a, b = params
        self._rng = rng
        self._rate = rng.gamma(r, 1.0 / alpha)
        # A Beta draw can be 0 in floating point: the limit is "never drops out".
        p = np.clip(rng.beta(a, b), np.finfo(float).tiny, 1.0)
        remaining = rng.geometric(p) - self.chances_at_start
        self._remaining = remaining if alive is None else np.where(alive, remaining, 0)
        self._events = np.zeros(remaining.shape, dtype=np.int64)
        self._done = np.zeros_like(self._events)

    def purchases(self, start: float | np.ndarray, end: float | np.ndarray) -> np.ndarray:
        self._events = self._events + self._rng.poisson(self._rate * (end - start))
        now = np.minimum(self._events, self._remaining)
        bought, self._done = now - self._done, now
        return bought


class _MBGFuture(_BGFuture):
    """As the BG/NBD's, with one more dropout chance right after the first purchase (time
    0): at most K − 1 purchases, K ~ Geometric(p)."""

    chances_at_start = 1


def _pareto_events(rng: np.random.Generator, params: Arrays, rate: np.ndarray,
                   window: np.ndarray, per_unit: float) -> PurchaseEvents:
    """μ ~ Gamma(s, β), a lifetime ~ Exponential(μ); Poisson(rate) purchases while alive,
    uniform over the part of the window alive."""
    _, _, s, beta = params
    n = window.size
    dropout = rng.gamma(s, 1.0 / beta, size=n)
    with np.errstate(divide="ignore"):
        # A rate that underflows to 0 means a lifetime beyond any window.
        lifetime = rng.standard_exponential(n) / (dropout / per_unit)
    alive_span = np.minimum(lifetime, window)
    counts = rng.poisson(rate * alive_span)
    customer = np.repeat(np.arange(n), counts)
    # 1 - U lies in (0, 1], so no purchase falls at time 0, the first purchase.
    time = (1.0 - rng.random(customer.size)) * alive_span[customer]
    return PurchaseEvents(dropout, lifetime, customer, time)


def _bg_events(rng: np.random.Generator, params: Arrays, rate: np.ndarray,
               window: np.ndarray, per_unit: float, *,
               chances_at_start: int = 0) -> PurchaseEvents:
    """p ~ Beta(a, b); the customer drops out right after repeat purchase K, Poisson(rate)
    purchases until then.

    ``chances_at_start`` is the number of dropout chances at the first purchase: 0 for
    BG/NBD, 1 for MBG/NBD, where K = 0 is a dropout at time 0. ``per_unit`` is unused:
    the dropout is a chance per purchase, in no time unit.
    """
    _, _, a, b = params
    n = window.size
    dropout_prob = rng.beta(a, b, size=n)
    # The dropout chances survived, Geometric(p) on {0, 1, ...}, by inversion in floating
    # point: numpy's integer geometric overflows for the tiny p a Beta with small a
    # produces. K, the repeat purchase right after which the customer drops out (0: the
    # first purchase), is that count + 1 - chances_at_start.
    with np.errstate(divide="ignore", invalid="ignore"):
        last_purchase = (np.floor(np.log1p(-rng.random(n)) / np.log1p(-dropout_prob))
                         + 1.0 - chances_at_start)
    # 0/0 arises only for p == 0, a customer who never drops out.
    last_purchase = np.where(np.isnan(last_purchase), np.inf, last_purchase)

    counts = rng.poisson(rate * window)
    customer = np.repeat(np.arange(n), counts)
    # 1 - U lies in (0, 1], so no purchase falls at time 0, the first purchase.
    event_time = (1.0 - rng.random(customer.size)) * window[customer]
    order = np.lexsort((event_time, customer))
    customer = customer[order]
    event_time = event_time[order]
    starts = np.cumsum(counts) - counts
    rank = np.arange(customer.size) - starts[customer] + 1

    kept = rank <= last_purchase[customer]
    dropped_inside = last_purchase <= counts
    lifetime = np.full(n, np.inf)
    lifetime[customer[kept & (rank == last_purchase[customer])]] = event_time[
        kept & (rank == last_purchase[customer])
    ]
    lifetime[last_purchase == 0] = 0.0
    # Past the window the process is memoryless: the remaining K - N purchases
    # take a Gamma(K - N) time at the customer's rate.
    beyond = ~dropped_inside & np.isfinite(last_purchase)
    remaining = last_purchase[beyond] - counts[beyond]
    with np.errstate(divide="ignore"):
        lifetime[beyond] = window[beyond] + rng.standard_gamma(remaining) / rate[beyond]
    return PurchaseEvents(dropout_prob, lifetime, customer[kept], event_time[kept])


def _mbg_events(rng: np.random.Generator, params: Arrays, rate: np.ndarray,
                window: np.ndarray, per_unit: float) -> PurchaseEvents:
    """As the BG/NBD's, with one more dropout chance right after the first purchase."""
    return _bg_events(rng, params, rate, window, per_unit, chances_at_start=1)


PARETO_NBD = Family(
    name="pareto_nbd",
    natural=("r", "alpha", "s", "beta"),
    time_scales=("alpha", "beta"),
    loglik=paretonbd_loglik,
    count_loglik=paretonbd_count_loglik,
    timing_loglik=paretonbd_timing_loglik,
    p_alive=paretonbd_p_alive,
    expected_purchases=paretonbd_expected_purchases,
    conditional_expected_purchases=paretonbd_conditional_expected_purchases,
    future=_ParetoFuture,
    alive_parameters=_pareto_alive,
    alive_expected_purchases=paretonbd_expected_purchases,
    alive_future=_ParetoFuture,
    treated_parameters=_pareto_treated,
    purchase_events=_pareto_events,
    dropout_latent="mu",
    covariate_parameters=_pareto_covariates,
)
BG_NBD = Family(
    name="bg_nbd",
    natural=("r", "alpha", "a", "b"),
    time_scales=("alpha",),
    loglik=bgnbd_loglik,
    count_loglik=bgnbd_count_loglik,
    timing_loglik=bgnbd_timing_loglik,
    p_alive=bgnbd_p_alive,
    expected_purchases=bgnbd_expected_purchases,
    conditional_expected_purchases=bgnbd_conditional_expected_purchases,
    future=_BGFuture,
    alive_parameters=_bg_alive,
    alive_expected_purchases=bgnbd_expected_purchases,
    alive_future=_BGFuture,
    treated_parameters=_bg_treated,
    purchase_events=_bg_events,
    dropout_latent="dropout_prob",
    covariate_parameters=_bg_covariates,
)
# Alive at T, an MBG/NBD customer has passed the dropout chance at the first purchase and
# buys on as a BG/NBD customer: the BG/NBD's expectation, process and action map from T.
MBG_NBD = Family(
    name="mbg_nbd",
    natural=("r", "alpha", "a", "b"),
    time_scales=("alpha",),
    loglik=mbgnbd_loglik,
    count_loglik=mbgnbd_count_loglik,
    timing_loglik=mbgnbd_timing_loglik,
    p_alive=mbgnbd_p_alive,
    expected_purchases=mbgnbd_expected_purchases,
    conditional_expected_purchases=mbgnbd_conditional_expected_purchases,
    future=_MBGFuture,
    alive_parameters=_mbg_alive,
    alive_expected_purchases=bgnbd_expected_purchases,
    alive_future=_BGFuture,
    treated_parameters=_bg_treated,
    purchase_events=_mbg_events,
    dropout_latent="dropout_prob",
    covariate_parameters=_bg_covariates,
)
FAMILIES: dict[str, Family] = {f.name: f for f in (PARETO_NBD, BG_NBD, MBG_NBD)}


def family(name: str) -> Family:
    """The record of the family called ``name``.

    Raises
    ------
    ValueError
        Naming the known families.
    """
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"unknown family {name!r}; known: {', '.join(FAMILIES)}") from None
