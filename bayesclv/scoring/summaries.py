"""Tidy summaries of per-draw values: mean, median, sd and HDI, and the labels they share.

Used by every table of per-draw results (customer CLV, segment totals, decisions, campaign
outcomes), so each states its interval the same way: the HDI mass in the column name
(``hdi_90%``) and totals labelled by segment, then ``"portfolio"``.
"""

from __future__ import annotations

from collections.abc import Sequence

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from bayesclv.dims import SAMPLE_DIMS
from bayesclv.errors import DataError

__all__ = [
    "PORTFOLIO",
    "hdi_label",
    "ordered_segments",
    "resolve_hdi_prob",
    "summarise_draws",
]

PORTFOLIO = "portfolio"
"""Label of the all-customers total on the ``segment`` dim of totals."""


def hdi_label(prob: float) -> str:
    """Column stem of an HDI at mass ``prob``, e.g. ``hdi_90%`` for 0.9.

    Parameters
    ----------
    prob
        HDI mass in (0, 1).

    Returns
    -------
    str
    """
    return f"hdi_{round(prob * 100):g}%"


def resolve_hdi_prob(draws: xr.Dataset | xr.DataArray, hdi_prob: float | None) -> float:
    """``hdi_prob``, else the draws' ``attrs["hdi_prob"]``, else 0.90; checked to be in (0, 1).

    Parameters
    ----------
    draws
        Per-draw results whose ``attrs`` may carry the spec's ``hdi_prob``.
    hdi_prob
        The mass asked for, or None.

    Returns
    -------
    float

    Raises
    ------
    DataError
        If the mass is not in (0, 1).
    """
    prob = hdi_prob if hdi_prob is not None else float(draws.attrs.get("hdi_prob", 0.90))
    if not 0 < prob < 1:
        raise DataError(f"hdi_prob={prob} must be in (0, 1)")
    return prob


def ordered_segments(segment: np.ndarray, order: Sequence[str] | None) -> list[str]:
    """The segment labels present in ``segment``, in the fit's recorded ``order``.

    Labels not in ``order`` (none, for draws of a fit) follow in order of appearance.

    Parameters
    ----------
    segment
        Segment label of each customer.
    order
        The fit's segments (e.g. ``draws.attrs["segments"]``), or None.

    Returns
    -------
    list of str
    """
    present = dict.fromkeys(segment.tolist())
    known = [label for label in (order or ()) if label in present]
    return known + [label for label in present if label not in set(known)]


def summarise_draws(draws: xr.Dataset, variables: Sequence[str], prob: float,
                    dim: str) -> pd.DataFrame:
    """Mean, median, sd and HDI over (chain, draw) of each variable, one row per ``dim``.

    Parameters
    ----------
    draws
        Per-draw results with dims (chain, draw, ``dim``).
    variables
        The variables to summarise.
    prob
        HDI mass, in (0, 1).
    dim
        The dim that indexes the rows (``customer``, ``segment``, …).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``dim``: ``{variable}_mean``, ``_median``, ``_sd``,
        ``_hdi_{p}%_low`` and ``_hdi_{p}%_high`` per variable. A single draw (a MAP fit)
        has sd 0 and the point as both interval ends.

    Raises
    ------
    DataError
        If a variable is not in ``draws``.

    Notes
    -----
    The median and the HDI are ArviZ's (``az.median``, ``az.hdi``). The mean and sd are
    taken over all rows at once along the stacked (chain × draw) axis rather than with
    ``az.mean``/``az.std``: those reduce each row's (chain, draw) block on its own, which
    adds the same numbers in another order and moves the last bit or two of the result
    (relative differences of 1e-16 to 1e-15). Same definitions (sd with ddof = 1, as
    ArviZ), but the tables, written to CSV at full precision, would no longer be byte for
    byte those of earlier runs with the same seeds.
    """
    missing = [name for name in variables if name not in draws.data_vars]
    if missing:
        raise DataError(f"variables {missing} are not in the draws {list(draws.data_vars)}")
    label = hdi_label(prob)
    chosen = draws[list(variables)]
    n_samples = chosen.sizes["chain"] * chosen.sizes["draw"]
    median = az.median(chosen, dim=SAMPLE_DIMS, round_to="none")
    # A single draw (a MAP fit) has no interval: report the point as both ends.
    interval = az.hdi(chosen, prob=prob) if n_samples > 1 else None
    columns: dict[str, np.ndarray] = {}
    for name in variables:
        values = chosen[name].transpose(*SAMPLE_DIMS, dim)
        flat = values.values.reshape(n_samples, -1)
        columns[f"{name}_mean"] = flat.mean(axis=0)
        columns[f"{name}_median"] = median[name].transpose(dim).values
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
