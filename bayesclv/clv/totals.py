"""Segment and portfolio totals (customer equity) from summed draws.

A total's interval is the HDI of the per-draw sums, never the sum of per-customer intervals:
customers share the segment parameters, so their values move together across draws and
summing interval ends would misstate the spread (it is not even a valid interval).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from bayesclv.dims import SAMPLE_DIMS
from bayesclv.errors import DataError
from bayesclv.scoring.summaries import (
    PORTFOLIO,
    ordered_segments,
    resolve_hdi_prob,
    summarise_draws,
)

__all__ = ["customer_equity", "segment_totals", "totals_table"]

ADDITIVE = ("expected_purchases", "discounted_purchases", "clv", "value_at_risk")


def segment_totals(draws: xr.Dataset, variables: Sequence[str] | None = None) -> xr.Dataset:
    """Per-draw sums over customers, per segment and for the whole portfolio.

    Parameters
    ----------
    draws
        Per-draw results with dims (chain, draw, customer) and ``segment`` on ``customer``.
    variables
        Additive variables to sum (default: those of ``expected_purchases``,
        ``discounted_purchases``, ``clv``, ``value_at_risk`` present). P(alive) and spend per
        purchase are not additive.

    Returns
    -------
    xarray.Dataset
        Dims (chain, draw, segment); the last ``segment`` is ``"portfolio"`` (all
        customers). ``n_customers`` is a coordinate on ``segment``.
    """
    names = list(variables) if variables is not None else [
        name for name in ADDITIVE if name in draws.data_vars]
    segment = draws["segment"].values.astype(str)
    labels = ordered_segments(segment, draws.attrs.get("segments"))
    if PORTFOLIO in labels:
        raise DataError(f"a segment is named {PORTFOLIO!r}, which labels the all-customer total")
    masks = [segment == label for label in labels]
    data = {}
    for name in names:
        values = draws[name].transpose(*SAMPLE_DIMS, "customer").values
        sums = [values[..., mask].sum(axis=-1) for mask in masks] + [values.sum(axis=-1)]
        data[name] = ((*SAMPLE_DIMS, "segment"), np.stack(sums, axis=-1),
                      draws[name].attrs)
    counts = [int(mask.sum()) for mask in masks] + [segment.size]
    return xr.Dataset(
        data,
        coords={
            "chain": draws["chain"].values,
            "draw": draws["draw"].values,
            "segment": [*labels, PORTFOLIO],
            "n_customers": ("segment", counts),
        },
        attrs=draws.attrs,
    )


def totals_table(totals: xr.Dataset, *, variables: Sequence[str] | None = None,
                 hdi_prob: float | None = None) -> pd.DataFrame:
    """Mean, median, sd and HDI of per-draw totals, one row per segment (and the portfolio).

    Parameters
    ----------
    totals
        Per-draw totals with dims (chain, draw, segment), from :func:`segment_totals` or
        :func:`bayesclv.clv.score_customers`.
    variables
        Which totals to summarise (default: all).
    hdi_prob
        HDI mass (default: ``totals.attrs["hdi_prob"]`` or 0.90).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``segment``; ``n_customers`` and ``{variable}_mean, _median, _sd,
        _hdi_{p}%_low, _hdi_{p}%_high`` (currency for value, purchases for counts).
    """
    prob = resolve_hdi_prob(totals, hdi_prob)
    names = list(variables) if variables is not None else [str(v) for v in totals.data_vars]
    table = summarise_draws(totals, names, prob, "segment")
    if "n_customers" in totals.coords:
        table.insert(0, "n_customers", totals["n_customers"].values)
    table.attrs = {**totals.attrs, "hdi_prob": prob,
                   "interval": "HDI of the per-draw totals (summed draws)"}
    return table


def customer_equity(draws: xr.Dataset, *, hdi_prob: float | None = None) -> pd.DataFrame:
    """Customer equity: residual CLV summed per segment and overall, with intervals.

    Equivalent to ``totals_table(segment_totals(draws))``.

    Parameters
    ----------
    draws
        Per-draw results from :func:`bayesclv.clv.clv_draws`.
    hdi_prob
        HDI mass (default: the draws' ``hdi_prob``).

    Returns
    -------
    pandas.DataFrame
        See :func:`totals_table`.
    """
    return totals_table(segment_totals(draws), hdi_prob=hdi_prob)
