"""The expected value of a brand-new customer per segment: the number to set against
acquisition cost."""

from __future__ import annotations

import numpy as np
import xarray as xr

from bayesclv.models import Fit
from bayesclv.models.covariates import Cells
from bayesclv.scoring.inputs import CustomerInputs, posterior_draws
from bayesclv.scoring.quantities import Histories, expected_spend, horizon_if_alive, p_alive
from bayesclv.scoring.settings import Convention, value_settings
from bayesclv.spec import ValueSpec

__all__ = ["new_customer_value"]


def new_customer_value(
    fit: Fit,
    *,
    value: ValueSpec | None = None,
    convention: Convention = "end",
    thin: int = 1,
) -> xr.Dataset:
    """Expected value of a customer acquired now, per draw and segment.

    A customer with no history (x = t_x = T = 0) makes E[X(t)] repeat purchases in (0, t]
    (the family's unconditional expectation: P(alive at 0), which is 1 except for MBG/NBD's
    dropout chance at the first purchase, × the purchases expected if alive); these are
    discounted per period from the acquisition date and valued at the segment's prior mean
    spend p γ / (q − 1) (without a spend model: ``value.per_purchase``) times the margin.
    The first purchase itself is not included:
    add its margin if acquisition cost is to be set against it too. For a fit with
    covariates this is the baseline newcomer's value (every numeric covariate at the fitted
    customers' mean, every categorical one at its reference level).

    Parameters
    ----------
    fit
        A frequency/dropout fit with a spend model, or without one when the value
        settings give ``per_purchase`` (every purchase then worth that much).
    value
        Money and time settings (default: the fit's ``spec.value``).
    convention
        Discount each period at its ``"end"`` or ``"mid"``-point.
    thin
        Keep every ``thin``-th draw of each chain.

    Returns
    -------
    xarray.Dataset
        Dims (chain, draw, segment): ``expected_purchases`` (repeat purchases over the
        horizon), ``discounted_purchases``, ``expected_spend`` (currency per purchase) and
        ``clv`` (currency).
    """
    settings = value_settings(value if value is not None else fit.spec.value, fit.time_unit,
                              convention)
    post = posterior_draws(fit, thin=thin, value=settings.value)
    n_segments = len(post.segments)
    code = np.arange(n_segments)
    zeros = np.zeros(n_segments)
    newcomers = Histories(cell=code, x=zeros, t_x=zeros, T=zeros, inverse=code,
                          ages=np.column_stack([code, zeros, zeros]), age_inverse=code,
                          cells=Cells.of_segments(n_segments, code))
    alive = p_alive(post, newcomers)
    purchases, discounted = (alive * v for v in horizon_if_alive(post, newcomers, settings))
    labels = np.array(post.segments, dtype=object)
    spend = expected_spend(post, CustomerInputs(  # a newcomer: no history, no repeat spend
        customer=labels, segment=labels, code=code, x=zeros, t_x=zeros, T=zeros,
        n_spend=zeros, mean_spend=zeros))
    coords = {"segment": list(post.segments)}
    data = {
        "expected_purchases": purchases,
        "discounted_purchases": discounted,
        "expected_spend": spend,
        "clv": settings.value.margin * spend * discounted,
    }
    return xr.Dataset(
        {name: post.unstack(values, ("segment",), coords) for name, values in data.items()},
        attrs={**settings.attrs(),
               "value_kind": "expected CLV of a customer acquired now, repeat purchases only"},
    )
