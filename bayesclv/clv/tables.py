"""Tidy per-customer tables of posterior draws: mean, median, sd and HDI."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import xarray as xr

from bayesclv.scoring.summaries import resolve_hdi_prob, summarise_draws

__all__ = ["customer_table"]


def customer_table(
    draws: xr.Dataset,
    *,
    variables: Sequence[str] | None = None,
    hdi_prob: float | None = None,
) -> pd.DataFrame:
    """One row per customer: mean, median, sd and HDI of each variable over the posterior.

    Parameters
    ----------
    draws
        Per-draw results with dims (chain, draw, customer), e.g. from
        :func:`bayesclv.clv.clv_draws`.
    variables
        Which variables to summarise (default: all of them).
    hdi_prob
        Mass of the highest-density interval (default: ``draws.attrs["hdi_prob"]``, the
        spec's ``value.hdi_prob``, 0.90). The level is in the column names:
        ``clv_hdi_90%_low``, ``clv_hdi_90%_high``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer``; a ``segment`` column, then ``{variable}_mean``,
        ``_median``, ``_sd``, ``_hdi_{p}%_low``, ``_hdi_{p}%_high`` per variable. These are
        intervals of **parameter uncertainty** (the expected value under each draw). Units
        and conventions are in ``table.attrs`` (currency for spend and value, purchases for
        counts).
    """
    prob = resolve_hdi_prob(draws, hdi_prob)
    names = list(variables) if variables is not None else [str(v) for v in draws.data_vars]
    table = summarise_draws(draws, names, prob, "customer")
    if "segment" in draws.coords:
        table.insert(0, "segment", draws["segment"].values)
    table.attrs = {**draws.attrs, "hdi_prob": prob, "uncertainty": "parameter uncertainty"}
    return table
