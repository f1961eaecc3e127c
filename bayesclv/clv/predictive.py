"""Full predictive CLV: simulated future purchases and spend (parameter + outcome uncertainty).

One simulated future per posterior draw and customer (the generative process of
:mod:`bayesclv.scoring.simulation`), discounted and valued like the expected CLV of
:func:`bayesclv.clv.clv_draws`, so the spread across draws adds outcome uncertainty to
parameter uncertainty.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from bayesclv.data import CustomerSummary
from bayesclv.errors import DataError
from bayesclv.models import Fit
from bayesclv.models.fit import Customers
from bayesclv.scoring.inputs import customer_inputs, per_customer, posterior_draws
from bayesclv.scoring.settings import Convention, value_settings
from bayesclv.scoring.simulation import simulate_periods
from bayesclv.scoring.summaries import resolve_hdi_prob, summarise_draws
from bayesclv.spec import ValueSpec

__all__ = ["predictive_clv", "predictive_table"]


def predictive_clv(
    fit: Fit,
    summary: CustomerSummary,
    *,
    value: ValueSpec | None = None,
    convention: Convention = "end",
    retention_cost: float | np.ndarray | pd.Series | None = None,
    thin: int = 1,
    customers: Customers = "fitted",
    seed: int | np.random.Generator | None = None,
    chunk_size: int = 2_000,
) -> xr.Dataset:
    """Simulated future purchases, revenue and residual CLV per draw and customer.

    One simulated future per posterior draw and customer, so the spread across
    (chain, draw) is **parameter + outcome uncertainty**; compare with
    :func:`bayesclv.clv.clv_draws`, whose spread is parameter uncertainty only.

    Parameters
    ----------
    fit
        A frequency/dropout fit with a spend model, or without one when the value
        settings give ``per_purchase`` (every purchase then worth that much).
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
    chunk_size
        Customers simulated at a time: beside the result (4 × samples × customers × 8
        bytes) the simulation takes about 13 × samples × chunk_size × 8 bytes. Results do
        not depend on it while the base fits in one chunk; beyond, the random streams (not
        their distribution) differ.
    customers
        ``"fitted"`` (default): the customers the fit saw, with the histories it saw (all
        of them or a subset); ``"new"``: customers or histories it did not see (new
        customers, a later snapshot). A summary that is not what it says is refused
        (:func:`bayesclv.models.fit.check_customers`).

    Returns
    -------
    xarray.Dataset
        Dims (chain, draw, customer): ``purchases`` (simulated count over the horizon),
        ``revenue`` (currency, undiscounted), ``discounted_revenue`` and ``clv``
        (margin × discounted revenue − retention cost, currency).
    """
    settings = value_settings(value if value is not None else fit.spec.value, fit.time_unit,
                              convention)
    post = posterior_draws(fit, thin=thin, value=settings.value)
    inputs = customer_inputs(summary, fit, customers=customers)
    cost = per_customer(retention_cost, inputs, "retention_cost")
    rng = np.random.default_rng(seed)
    purchases = np.zeros((post.n_samples, len(inputs)), dtype=np.int64)
    revenue = np.zeros((post.n_samples, len(inputs)))
    discounted = np.zeros_like(revenue)
    for index in inputs.chunks(chunk_size):
        periods = simulate_periods(post, inputs.take(index), settings.boundaries, rng)
        for factor, (bought, spend) in zip(settings.discount, periods, strict=True):
            purchases[:, index] += bought
            revenue[:, index] += spend
            discounted[:, index] += factor * spend
    clv = discounted * settings.value.margin  # in place: no second customers × draws array
    clv -= cost
    coords = inputs.coords()
    data = {
        "purchases": purchases,
        "revenue": revenue,
        "discounted_revenue": discounted,
        "clv": clv,
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
