"""Tidy per-customer tables of posterior draws: mean, median, sd and HDI."""

from __future__ import annotations

from collections.abc import Sequence

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from bayesclv.errors import DataError

__all__ = ["customer_table", "hdi_label", "resolve_hdi_prob"]

SAMPLE_DIMS = ("chain", "draw")


def hdi_label(prob: float) -> str:
    """Column stem of an HDI at mass ``prob``, e.g. ``hdi_90%``."""
    return f"hdi_{round(prob * 100):g}%"


def resolve_hdi_prob(draws: xr.Dataset | xr.DataArray, hdi_prob: float | None) -> float:
    """``hdi_prob``, else the draws' ``attrs["hdi_prob"]``, else 0.90; checked to be in (0, 1)."""
    prob = hdi_prob if hdi_prob is not None else float(draws.attrs.get("hdi_prob", 0.90))
    if not 0 < prob < 1:
        raise DataError(f"hdi_prob={prob} must be in (0, 1)")
    return prob


def summarise_draws(draws: xr.Dataset, variables: Sequence[str], prob: float,
                    dim: str) -> pd.DataFrame:
    """Mean, median, sd and HDI over (chain, draw) of each variable, one row per ``dim``."""
    missing = [name for name in variables if name not in draws.data_vars]
    if missing:
        raise DataError(f"variables {missing} are not in the draws {list(draws.data_vars)}")
    label = hdi_label(prob)
    chosen = draws[list(variables)]
    n_samples = chosen.sizes["chain"] * chosen.sizes["draw"]
    # A single draw (a MAP fit) has no interval: report the point as both ends.
    interval = az.hdi(chosen, prob=prob) if n_samples > 1 else None
    columns: dict[str, np.ndarray] = {}
    for name in variables:
        values = chosen[name].transpose(*SAMPLE_DIMS, dim)
        flat = values.values.reshape(n_samples, -1)
        columns[f"{name}_mean"] = flat.mean(axis=0)
        columns[f"{name}_median"] = np.median(flat, axis=0)
        columns[f"{name}_sd"] = flat.std(axis=0, ddof=1) if n_samples > 1 else np.zeros(
            flat.shape[1])
        if interval is None:
            low = high = flat[0]
        else:
            bounds = interval[name].transpose(dim, ...).values
            low, high = bounds[:, 0], bounds[:, 1]
        columns[f"{name}_{label}_low"] = low
        columns[f"{name}_{label}_high"] = high
    return pd.DataFrame(columns, index=pd.Index(draws[dim].values, name=dim))


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
