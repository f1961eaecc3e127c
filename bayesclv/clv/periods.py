"""Expected purchases, revenue and margin per future period (month or quarter) and segment.

Finance plans by period; these are the undiscounted flows of each period with their
discount factor alongside, summed over customers per draw so intervals come from the
summed draws.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr
from scipy import sparse

from bayesclv.data import CustomerSummary
from bayesclv.dims import SAMPLE_DIMS
from bayesclv.errors import DataError
from bayesclv.models import Fit
from bayesclv.models.fit import Customers
from bayesclv.scoring.inputs import customer_inputs, posterior_draws
from bayesclv.scoring.quantities import (
    distinct_histories,
    expected_spend,
    p_alive,
    periods_if_alive,
)
from bayesclv.scoring.settings import Convention, ValueSettings, value_settings
from bayesclv.scoring.summaries import PORTFOLIO, hdi_label, resolve_hdi_prob
from bayesclv.spec import ValueSpec
from bayesclv.units import DAYS_PER_UNIT

__all__ = ["period_table", "value_by_period"]

def value_by_period(
    fit: Fit,
    summary: CustomerSummary,
    *,
    value: ValueSpec | None = None,
    convention: Convention = "end",
    thin: int = 1,
    customers: Customers = "fitted",
    chunk_size: int = 10_000,
) -> xr.Dataset:
    """Per-draw expected purchases, revenue and margin in each future period, per segment.

    Parameters
    ----------
    fit
        A frequency/dropout fit with a spend model, or without one when the value
        settings give ``per_purchase`` (every purchase then worth that much).
    summary
        The customers (their histories after the calibration end are projected).
    value
        Money and time settings (default: the fit's ``spec.value``); ``value.period`` sets
        months or quarters of 30.4375-day months.
    convention
        Where each period's flows are discounted (``"end"`` or ``"mid"``), for
        ``discounted_margin``.
    thin
        Keep every ``thin``-th draw of each chain.
    chunk_size
        Customers per chunk (memory ≈ 6 × samples × chunk_size × 8 bytes).
    customers
        ``"fitted"`` (default): the customers the fit saw, with the histories it saw (all
        of them or a subset); ``"new"``: customers or histories it did not see (new
        customers, a later snapshot). A summary that is not what it says is refused
        (:func:`bayesclv.models.fit.check_customers`).

    Returns
    -------
    xarray.Dataset
        Dims (chain, draw, segment, period); the last segment is ``"portfolio"``.
        ``expected_purchases`` (purchases), ``revenue`` (currency: expected spend × expected
        purchases, independent under Gamma-Gamma), ``margin`` (margin × revenue) and
        ``discounted_margin`` (margin discounted to the calibration end). Coordinates
        ``period_end`` (time units after the calibration end), ``discount_factor`` and, when
        the calibration end is known, ``period_end_date``.
    """
    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise DataError(f"chunk_size={chunk_size!r} must be a positive integer")
    settings = value_settings(value if value is not None else fit.spec.value, fit.time_unit,
                              convention)
    post = posterior_draws(fit, thin=thin, value=settings.value)
    inputs = customer_inputs(summary, fit, customers=customers)
    labels = list(summary.segments)
    if PORTFOLIO in labels:
        raise DataError(f"a segment is named {PORTFOLIO!r}, which labels the all-customer total")
    local = np.array([labels.index(s) for s in inputs.segment], dtype=np.int64) if len(
        inputs) else np.zeros(0, dtype=np.int64)
    shape = (post.n_samples, len(labels), settings.n_periods)
    purchases = np.zeros(shape)
    revenue = np.zeros(shape)
    for start in range(0, len(inputs), chunk_size):
        chunk = inputs.take(slice(start, start + chunk_size))
        _accumulate(post, chunk, local[start:start + chunk_size], len(labels), settings,
                    purchases, revenue)
    return _label(post, labels, purchases, revenue, settings, summary.calibration_end)


def _accumulate(post, chunk, local, n_segments, settings, purchases, revenue) -> None:
    """Add one chunk's flows per draw, segment and period into ``purchases`` and ``revenue``.

    The flow of period k is Σ_rows P(alive)·w_row·E_k[age(row)]: the weights P(alive)·count
    and P(alive)·spend are summed per age (segment, x, T) once, so each period costs one
    (samples × ages) product instead of several (samples × rows) passes.
    """
    rows = distinct_histories(chunk)
    n_rows, n_ages = len(rows), len(rows.ages)
    member = sparse.csr_matrix(
        (np.ones(len(chunk)), (np.arange(len(chunk)), rows.inverse)), shape=(len(chunk), n_rows))
    spend_by_row = (member.T @ expected_spend(post, chunk).T).T
    count_by_row = np.asarray(member.sum(axis=0)).ravel()
    age_segment = np.zeros(n_ages, dtype=np.int64)
    age_segment[rows.age_inverse[rows.inverse]] = local
    by_age = sparse.csr_matrix(
        (np.ones(n_rows), (np.arange(n_rows), rows.age_inverse)), shape=(n_rows, n_ages))
    group = sparse.csr_matrix(
        (np.ones(n_ages), (np.arange(n_ages), age_segment)), shape=(n_ages, n_segments))
    alive = p_alive(post, rows)
    alive_count = (by_age.T @ (alive * count_by_row).T).T
    alive_spend = (by_age.T @ (alive * spend_by_row).T).T
    del alive, spend_by_row
    for k, in_period in enumerate(periods_if_alive(post, rows, settings)):
        purchases[:, :, k] += (group.T @ (alive_count * in_period).T).T
        revenue[:, :, k] += (group.T @ (alive_spend * in_period).T).T


def _label(post, labels, purchases, revenue, settings: ValueSettings,
           calibration_end: pd.Timestamp | None) -> xr.Dataset:
    margin = settings.value.margin
    with_total = {
        name: np.concatenate([values, values.sum(axis=1, keepdims=True)], axis=1)
        for name, values in (("expected_purchases", purchases), ("revenue", revenue))
    }
    coords: dict[str, object] = {
        "segment": [*labels, PORTFOLIO],
        "period": np.arange(1, settings.n_periods + 1),
    }
    data = {
        "expected_purchases": with_total["expected_purchases"],
        "revenue": with_total["revenue"],
        "margin": margin * with_total["revenue"],
        "discounted_margin": margin * with_total["revenue"] * settings.discount,
    }
    ds = xr.Dataset({name: post.unstack(values, ("segment", "period"), coords)
                     for name, values in data.items()})
    ds = ds.assign_coords(period_end=("period", settings.boundaries),
                          discount_factor=("period", settings.discount))
    if calibration_end is not None:
        days = settings.boundaries * DAYS_PER_UNIT[settings.time_unit]
        ds = ds.assign_coords(period_end_date=(
            "period", (calibration_end + pd.to_timedelta(np.round(days), unit="D")).to_numpy()))
    ds.attrs = {**settings.attrs(),
                "flows": "undiscounted per period except discounted_margin"}
    return ds


def period_table(periods: xr.Dataset, *, hdi_prob: float | None = None) -> pd.DataFrame:
    """Tidy table of per-period totals: one row per segment, period and variable.

    Parameters
    ----------
    periods
        From :func:`value_by_period`.
    hdi_prob
        HDI mass (default: ``periods.attrs["hdi_prob"]`` or 0.90).

    Returns
    -------
    pandas.DataFrame
        Columns ``segment, period, period_end, variable, mean, median, sd,
        hdi_{p}%_low, hdi_{p}%_high``; intervals are HDIs of the per-draw sums.
    """
    prob = resolve_hdi_prob(periods, hdi_prob)
    label = hdi_label(prob)
    n_samples = periods.sizes["chain"] * periods.sizes["draw"]
    frames = []
    for name in periods.data_vars:
        values = periods[name]
        stacked = values.stack(sample=SAMPLE_DIMS).transpose("segment", "period", "sample")
        if n_samples > 1:
            interval = az.hdi(values, prob=prob).transpose("segment", "period", ...).values
            low, high = interval[..., 0], interval[..., 1]
        else:
            low = high = stacked.values[..., 0]
        stats = {
            "mean": stacked.mean("sample").values,
            "median": stacked.median("sample").values,
            "sd": stacked.std("sample", ddof=1 if n_samples > 1 else 0).values,
            f"{label}_low": low,
            f"{label}_high": high,
        }
        seg, per = np.meshgrid(periods["segment"].values, periods["period"].values,
                               indexing="ij")
        frame = pd.DataFrame({"segment": seg.ravel(), "period": per.ravel(),
                              "variable": name, **{k: v.ravel() for k, v in stats.items()}})
        frame.insert(2, "period_end", periods["period_end"].values[frame["period"] - 1])
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    table.attrs = {**periods.attrs, "hdi_prob": prob}
    return table
