"""BG/NBD closed forms (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

While alive a customer buys as Poisson(λ), λ ~ Gamma(shape r, rate α); after each
repeat purchase they drop out with probability p, p ~ Beta(a, b). Time is in one
unit throughout (weeks in the tests); α has units of that time unit.

Per customer: ``x`` repeat purchases, ``t_x`` time of the last purchase since the
first, ``T`` time from the first purchase to the end of calibration.
Everything broadcasts: parameters may carry a segment or draws axis.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from bayesclv.maths.backend import NUMPY_OPS, ops_for

__all__ = [
    "bgnbd_loglik",
    "bgnbd_count_loglik",
    "bgnbd_timing_loglik",
    "bgnbd_p_alive",
    "bgnbd_expected_purchases",
    "bgnbd_conditional_expected_purchases",
]


def bgnbd_loglik(r: Any, alpha: Any, a: Any, b: Any, x: Any, t_x: Any, T: Any) -> Any:
    """Log-likelihood of one customer's (x, t_x, T) under the BG/NBD model.

    Works on NumPy arrays (SciPy special functions, float64) and on PyTensor
    variables (inside a PyMC model); gradients are finite at x = 0. It is the sum of
    :func:`bgnbd_count_loglik` and :func:`bgnbd_timing_loglik`.

    Parameters
    ----------
    r, alpha : array_like or TensorVariable
        Shape and rate of the Gamma purchase-rate heterogeneity (alpha in time units).
    a, b : array_like or TensorVariable
        Beta parameters of the dropout probability.
    x : array_like or TensorVariable
        Number of repeat purchases in calibration.
    t_x, T : array_like or TensorVariable
        Time of the last purchase and length of calibration, both since the first
        purchase, in time units; ``0 <= t_x <= T``.

    Returns
    -------
    ndarray or TensorVariable
        Per-row log-likelihood, broadcast over all arguments.
    """
    return bgnbd_count_loglik(r, alpha, a, b, x) + bgnbd_timing_loglik(
        r, alpha, a, b, x, t_x, T
    )


def bgnbd_count_loglik(r: Any, alpha: Any, a: Any, b: Any, x: Any) -> Any:
    """The part of the BG/NBD log-likelihood that depends on the history only through x.

    log Γ(r+x) − log Γ(r) + r log α + log B(a, b+x) − log B(a, b): all the special
    functions of the likelihood. A model evaluates it once per distinct (segment, x)
    instead of once per customer (see :func:`bayesclv.models.frequency`).

    Parameters
    ----------
    r, alpha, a, b : array_like or TensorVariable
        BG/NBD parameters (alpha in time units).
    x : array_like or TensorVariable
        Number of repeat purchases in calibration.

    Returns
    -------
    ndarray or TensorVariable
        Broadcast over all arguments.
    """
    ops = ops_for(r, alpha, a, b, x)
    r, alpha, a, b, x = (ops.asarray(v) for v in (r, alpha, a, b, x))
    return (ops.gammaln(r + x) - ops.gammaln(r) + r * ops.log(alpha)
            + ops.betaln(a, b + x) - ops.betaln(a, b))


def bgnbd_timing_loglik(r: Any, alpha: Any, a: Any, b: Any, x: Any, t_x: Any, T: Any) -> Any:
    """The rest of the BG/NBD log-likelihood: the part that depends on t_x and T.

    −(r+x) log(α+T) + log(1 + odds), where ``odds`` are the odds of having dropped out
    after the last purchase (0 at x = 0): FHL (2005), eq. 6, with
    B(a+1, b+x−1) = B(a, b+x) · a/(b+x−1) taken into :func:`bgnbd_count_loglik`.

    Parameters
    ----------
    r, alpha, a, b : array_like or TensorVariable
        BG/NBD parameters (alpha in time units).
    x, t_x, T : array_like or TensorVariable
        Repeat purchases, time of last purchase and calibration length (time units).

    Returns
    -------
    ndarray or TensorVariable
        Broadcast over all arguments.
    """
    ops = ops_for(r, alpha, a, b, x, t_x, T)
    r, alpha, a, b, x, t_x, T = (ops.asarray(v) for v in (r, alpha, a, b, x, t_x, T))
    repeat = x > 0
    dropout = ops.where(repeat, ops.softplus(_log_dropout_odds(r, alpha, a, b, x, t_x, T, ops)),
                        0.0)
    return dropout - (r + x) * ops.log(alpha + T)


def _log_dropout_odds(r: Any, alpha: Any, a: Any, b: Any, x: Any, t_x: Any, T: Any,
                      ops: Any) -> Any:
    """log[a/(b+x-1) * ((α+T)/(α+t_x))^(r+x)] where x > 0; finite (unused) at x = 0.

    At x = 0 there is no dropout chance yet; evaluating on a safe x keeps NaN out of
    gradients, and callers mask those rows.
    """
    x_safe = ops.where(x > 0, x, 1.0)
    return (ops.log(a) - ops.log(b + x_safe - 1.0)
            + (r + x_safe) * ops.log1p((T - t_x) / (alpha + t_x)))


def bgnbd_p_alive(r: ArrayLike, alpha: ArrayLike, a: ArrayLike, b: ArrayLike,
                  x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Probability that a customer with history (x, t_x, T) is still alive at T.

    Parameters
    ----------
    r, alpha, a, b : array_like
        BG/NBD parameters (alpha in time units); may carry a draws axis.
    x, t_x, T : array_like
        Repeat purchases, time of last purchase and calibration length (time units).

    Returns
    -------
    ndarray
        P(alive at T | x, t_x, T), float64, broadcast over all arguments.
    """
    x = np.asarray(x, dtype=float)
    log_odds = _log_dropout_odds(r, alpha, a, b, x, np.asarray(t_x), np.asarray(T), NUMPY_OPS)
    return np.where(x > 0, special.expit(-log_odds), 1.0)


def bgnbd_conditional_expected_purchases(r: ArrayLike, alpha: ArrayLike, a: ArrayLike,
                                         b: ArrayLike, x: ArrayLike, t_x: ArrayLike,
                                         T: ArrayLike, t: ArrayLike) -> np.ndarray:
    """Expected purchases in (T, T + t] given the history (FHL 2005, eq. 10).

    Uses Euler's transformation of the 2F1 in eq. 10,
    ``((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)
    = (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)`` with ``z = t/(α+T+t) < 1``,
    so heavy buyers (x in the hundreds) neither overflow nor cancel.
    ``a = 1`` is a removable singularity that is not special-cased: values of
    ``a`` within ~1e-8 of 1 lose digits. ``a + b + x > 1`` is assumed.

    Parameters
    ----------
    r, alpha, a, b : array_like
        BG/NBD parameters (alpha in time units); may carry a draws axis.
    x, t_x, T : array_like
        Calibration history (time units).
    t : array_like
        Length of the prediction window after T, in time units.

    Returns
    -------
    ndarray
        E[X(T, T+t] | x, t_x, T], float64.
    """
    x = np.asarray(x, dtype=float)
    alpha_T = np.asarray(alpha) + T
    z = np.asarray(t) / (alpha_T + t)
    hyp = special.hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)
    log_decay = (np.asarray(a) - 1.0) * np.log1p(-z)
    # 1 - (1-z)^(a-1) hyp; through expm1 when possible, since both factors are ~1 for short t.
    with np.errstate(invalid="ignore", divide="ignore"):
        bracket = np.where(hyp > 0, -np.expm1(log_decay + np.log(np.abs(hyp))),
                           1.0 - np.exp(log_decay) * hyp)
    return ((a + b + x - 1.0) / (np.asarray(a) - 1.0) * bracket
            * bgnbd_p_alive(r, alpha, a, b, x, t_x, T))


def bgnbd_expected_purchases(r: ArrayLike, alpha: ArrayLike, a: ArrayLike, b: ArrayLike,
                             t: ArrayLike) -> np.ndarray:
    """Unconditional expected repeat purchases in (0, t] for a new customer.

    E[X(t)] = (a+b-1)/(a-1) [1 - (α/(α+t))^r 2F1(r, b; a+b-1; t/(α+t))]
    (FHL 2005, eq. 9): the conditional expectation with no history (x = T = 0).

    Parameters
    ----------
    r, alpha, a, b : array_like
        BG/NBD parameters (alpha in time units).
    t : array_like
        Time since the first purchase, in time units.

    Returns
    -------
    ndarray
        E[X(t)], float64.
    """
    return bgnbd_conditional_expected_purchases(r, alpha, a, b, 0.0, 0.0, 0.0, t)
