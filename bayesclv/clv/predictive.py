"""Full predictive CLV: simulated future purchases and spend (parameter + outcome uncertainty).

Per posterior draw and customer, given the history (x, t_x, T) and n repeat spends of mean
zbar:

* alive at T with probability P(alive); a dead customer buys nothing more;
* if alive, λ ~ Gamma(r + x, rate α + T); Pareto/NBD: μ ~ Gamma(s, rate β + T) and the
  remaining lifetime is Exponential(μ) (memoryless); BG/NBD: p ~ Beta(a, b + x) and the
  customer drops out right after each future purchase with probability p, so at most
  K ~ Geometric(p) more purchases happen;
* purchases while alive are Poisson(λ) in time;
* spend: ν ~ Gamma(q + p·n, rate γ + n·zbar) and each purchase is Gamma(p, rate ν), so the
  N purchases of a period total Gamma(N·p, rate ν).

The conditional posteriors follow from the alive branch of each likelihood, λ^x e^{−λT}
× e^{−μT} (Pareto/NBD) or × (1 − p)^x (BG/NBD); the mean of the simulated purchases
matches the closed-form conditional expectation (tested by Monte Carlo).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import xarray as xr

from bayesclv.clv.engine import distinct_histories, p_alive
from bayesclv.clv.inputs import (
    CustomerInputs,
    PosteriorDraws,
    customer_inputs,
    per_customer,
    posterior_draws,
)
from bayesclv.clv.settings import Convention, value_settings
from bayesclv.clv.tables import resolve_hdi_prob, summarise_draws
from bayesclv.data import CustomerSummary
from bayesclv.errors import DataError
from bayesclv.maths.families import family
from bayesclv.models import Fit
from bayesclv.spec import ValueSpec

__all__ = ["predictive_clv", "predictive_table", "simulate_periods"]


def simulate_periods(post: PosteriorDraws, chunk: CustomerInputs, boundaries: np.ndarray,
                     rng: np.random.Generator) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Simulated purchases and their total spend in each future period.

    Yields one ``(purchases, spend)`` pair per period, each (samples, customers); spend is
    zeros when the posterior has no spend model.
    """
    rows = distinct_histories(chunk)
    alive = rng.random((post.n_samples, len(chunk))) < p_alive(post, rows)[:, rows.inverse]
    record = family(post.family)
    params = record.alive_parameters(
        [post.frequency[name][:, chunk.code] for name in record.natural], chunk.x, chunk.T)
    future = record.future(rng, params, alive)
    nu = None
    if post.spend is not None:
        g = {name: values[:, chunk.code] for name, values in post.spend.items()}
        nu = rng.gamma(g["q"] + g["p"] * chunk.n_spend,
                       1.0 / (g["gamma"] + chunk.n_spend * chunk.mean_spend))
    start = 0.0
    for end in boundaries:
        bought = future.purchases(start, end)
        start = end
        spend = rng.gamma(bought * g["p"], 1.0 / nu) if nu is not None else np.zeros(bought.shape)
        yield bought, spend


def predictive_clv(
    fit: Fit,
    summary: CustomerSummary,
    *,
    value: ValueSpec | None = None,
    convention: Convention = "end",
    retention_cost: float | np.ndarray | pd.Series | None = None,
    thin: int = 1,
    seed: int | np.random.Generator | None = None,
) -> xr.Dataset:
    """Simulated future purchases, revenue and residual CLV per draw and customer.

    One simulated future per posterior draw and customer, so the spread across
    (chain, draw) is **parameter + outcome uncertainty**; compare with
    :func:`bayesclv.clv.clv_draws`, whose spread is parameter uncertainty only.

    Parameters
    ----------
    fit
        A frequency/dropout fit with a spend model.
    summary
        The customers (histories up to the calibration end).
    value
        Money and time settings (default: the fit's ``spec.value``).
    convention
        Discount each period's revenue at its ``"end"`` or ``"mid"``-point.
    retention_cost
        Present value of retention spending per customer (currency), as in ``clv_draws``.
    thin
        Keep every ``thin``-th draw of each chain.
    seed
        Random seed or generator.

    Returns
    -------
    xarray.Dataset
        Dims (chain, draw, customer): ``purchases`` (simulated count over the horizon),
        ``revenue`` (currency, undiscounted), ``discounted_revenue`` and ``clv``
        (margin × discounted revenue − retention cost, currency).
    """
    settings = value_settings(value if value is not None else fit.spec.value, fit.time_unit,
                              convention)
    post = posterior_draws(fit, thin=thin)
    inputs = customer_inputs(summary, fit)
    cost = per_customer(retention_cost, inputs, "retention_cost")
    rng = np.random.default_rng(seed)
    purchases = np.zeros((post.n_samples, len(inputs)), dtype=np.int64)
    revenue = np.zeros((post.n_samples, len(inputs)))
    discounted = np.zeros_like(revenue)
    for factor, (bought, spend) in zip(
        settings.discount, simulate_periods(post, inputs, settings.boundaries, rng), strict=True
    ):
        purchases += bought
        revenue += spend
        discounted += factor * spend
    coords = inputs.coords()
    data = {
        "purchases": purchases,
        "revenue": revenue,
        "discounted_revenue": discounted,
        "clv": settings.value.margin * discounted - cost,
    }
    return xr.Dataset(
        {name: post.unstack(values, ("customer",), coords) for name, values in data.items()},
        attrs={**settings.attrs(), "uncertainty": "parameter + outcome uncertainty"},
    )


def predictive_table(expected: xr.Dataset, predictive: xr.Dataset, *,
                     variable: str = "clv", hdi_prob: float | None = None) -> pd.DataFrame:
    """Expected-value and predictive intervals side by side, one row per customer.

    Parameters
    ----------
    expected
        From :func:`bayesclv.clv.clv_draws` (parameter uncertainty).
    predictive
        From :func:`predictive_clv` on the same customers (parameter + outcome uncertainty).
    variable
        The variable present in both (default ``"clv"``).
    hdi_prob
        HDI mass (default: the draws' ``hdi_prob``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer``: ``segment``, ``{variable}_mean``, ``_hdi_{p}%_low/high``
        labelled ``expected`` (parameter uncertainty) and ``predictive`` (parameter +
        outcome uncertainty), e.g. ``expected_clv_hdi_90%_low`` and
        ``predictive_clv_hdi_90%_low``.
    """
    if not np.array_equal(expected["customer"].values, predictive["customer"].values):
        raise DataError("expected and predictive draws must cover the same customers in order")
    prob = resolve_hdi_prob(expected, hdi_prob)
    parts = []
    for kind, draws in (("expected", expected), ("predictive", predictive)):
        table = summarise_draws(draws, [variable], prob, "customer")
        parts.append(table.drop(columns=[f"{variable}_median", f"{variable}_sd"])
                     .add_prefix(f"{kind}_"))
    table = pd.concat(parts, axis=1)
    table.insert(0, "segment", expected["segment"].values)
    table.attrs = {**expected.attrs, "hdi_prob": prob,
                   "expected": "parameter uncertainty",
                   "predictive": "parameter + outcome uncertainty"}
    return table
