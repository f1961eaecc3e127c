"""Per posterior draw and customer: P(alive), expected purchases, spend and residual CLV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from bayesclv.data import CustomerSummary
from bayesclv.models import Fit
from bayesclv.models.fit import Customers
from bayesclv.scoring.inputs import (
    CustomerInputs,
    PosteriorDraws,
    customer_inputs,
    per_customer,
    posterior_draws,
)
from bayesclv.scoring.residual_value import ResidualValue
from bayesclv.scoring.settings import Convention, ValueSettings, value_settings
from bayesclv.spec import ValueSpec

__all__ = ["VARIABLES", "clv_draws", "compute_block"]

VARIABLES: dict[str, str] = {
    "p_alive": "probability the customer is alive at the calibration end",
    "expected_purchases": "expected purchases over the horizon after the calibration end",
    "discounted_purchases": "discounted expected purchases over the horizon",
    "expected_spend": "expected spend per purchase (currency): Gamma-Gamma conditional mean, "
                      "or value.per_purchase without a spend model",
    "clv": "residual CLV: margin x spend x discounted purchases - retention cost (currency)",
    "value_at_risk": "(1 - P(alive)) x the residual CLV the customer would have if alive "
                     "(currency, gross of retention cost)",
}


def compute_block(post: PosteriorDraws, chunk: CustomerInputs, settings: ValueSettings,
                  cost: np.ndarray) -> dict[str, np.ndarray]:
    """All per-customer quantities of one chunk, each (samples, customers)."""
    value = ResidualValue(post, chunk, settings)
    return {
        "p_alive": value.p_alive,
        "expected_purchases": value.expected_purchases(),
        "discounted_purchases": value.discounted_purchases(),
        "expected_spend": value.spend,
        "clv": value.baseline - cost,
        "value_at_risk": value.value_at_risk(),
    }


def label_block(post: PosteriorDraws, chunk: CustomerInputs, block: dict[str, np.ndarray],
                settings: ValueSettings) -> xr.Dataset:
    """Label a block's arrays with (chain, draw, customer) and the units."""
    coords = chunk.coords()
    data = {
        name: post.unstack(values, ("customer",), coords).assign_attrs(description=VARIABLES[name])
        for name, values in block.items()
    }
    return xr.Dataset(data, attrs={**settings.attrs(), "segments": list(post.segments)})


def clv_draws(
    fit: Fit,
    summary: CustomerSummary,
    *,
    value: ValueSpec | None = None,
    convention: Convention = "end",
    retention_cost: float | np.ndarray | pd.Series | None = None,
    thin: int = 1,
    customers: Customers = "fitted",
) -> xr.Dataset:
    """Residual CLV and its ingredients per posterior draw and customer.

    For every draw and customer: P(alive) at the calibration end, expected purchases over
    the horizon, the per-period discounted expected purchases, the Gamma-Gamma conditional
    mean spend (customers without repeat spend get their segment's prior mean; without a
    spend model, ``value.per_purchase`` for every draw and customer), and
    ``clv = margin × expected_spend × discounted_purchases − retention_cost``. This is
    **residual** value, from the calibration end on; total CLV would add the value already
    realised. Memory is samples × customers × 8 bytes per variable: for large bases use
    :func:`bayesclv.clv.score_customers`.

    Parameters
    ----------
    fit
        A frequency/dropout fit with a spend model, or without one when the value
        settings give ``per_purchase`` (every purchase then worth that much).
    summary
        The customers to score (in the fit's time unit, segments known to the fit).
    value
        Margin, annual discount rate, horizon (months of 30.4375 days), period (month or
        quarter) and HDI mass; default: the fit's ``spec.value``.
    convention
        Discount each period's purchases at its ``"end"`` (default) or ``"mid"``-point.
    retention_cost
        Present value of what keeping each customer costs over the horizon (currency):
        a scalar, an array in summary order, or a Series indexed by customer id.
    thin
        Keep every ``thin``-th draw of each chain.
    customers
        ``"fitted"`` (default): the customers the fit saw, with the histories it saw (all
        of them or a subset); ``"new"``: customers or histories it did not see (new
        customers, a later snapshot). A summary that is not what it says is refused
        (:func:`bayesclv.models.fit.check_customers`).

    Returns
    -------
    xarray.Dataset
        Dims (chain, draw, customer), ``segment`` a coordinate on ``customer``. Variables
        ``p_alive``, ``expected_purchases``, ``discounted_purchases``, ``expected_spend``
        (currency per purchase), ``clv`` and ``value_at_risk`` (currency); units and the
        discount convention in ``attrs``.

    Raises
    ------
    SpecError
        If the fit has no spend model and ``value.per_purchase`` is unset, or has one and
        it is set (a purchase has one value: :func:`bayesclv.spec.require_purchase_value`).

    Examples
    --------
    >>> draws = clv_draws(fit, summary, retention_cost=2.0)  # doctest: +SKIP
    >>> draws["clv"].sel(customer="0001").mean()  # doctest: +SKIP
    """
    settings = value_settings(value if value is not None else fit.spec.value, fit.time_unit,
                              convention)
    post = posterior_draws(fit, thin=thin, value=settings.value)
    inputs = customer_inputs(summary, fit, customers=customers)
    cost = per_customer(retention_cost, inputs, "retention_cost")
    block = compute_block(post, inputs, settings, cost)
    return label_block(post, inputs, block, settings)
