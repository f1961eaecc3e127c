"""Validate an already summarised table (one row per customer) into a ``CustomerSummary``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from bayesclv.data.assemble import DEFAULT_SEGMENT, categorical_segments
from bayesclv.data.columns import check_columns
from bayesclv.data.summary import CustomerSummary
from bayesclv.data.validate import check_time_unit, parse_day
from bayesclv.errors import DataError
from bayesclv.units import DAYS_PER_UNIT

SPEND_NAMES = ("mean_spend", "zbar")


def summary_from_frame(
    df: pd.DataFrame,
    *,
    time_unit: str,
    customer: str,
    segment: str | None,
    calibration_end: object,
    segment_order: Sequence[str] | None,
) -> CustomerSummary:
    """See :meth:`CustomerSummary.from_frame`."""
    unit = check_time_unit(time_unit)
    cal = None if calibration_end is None else parse_day(calibration_end, "calibration_end")
    table = df.reset_index() if customer not in df.columns and customer in df.index.names else df
    wanted = {"customer": customer, "x": "x", "t_x": "t_x", "T": "T"}
    if segment is not None:
        wanted["segment"] = segment
    check_columns(
        table.columns, wanted, "the summary table",
        advice="Rename the columns, or pass customer= and segment= to from_frame.",
    )
    if len(table) == 0:
        raise DataError("the summary table has no rows")

    ids = table[customer]
    _first_bad(ids.isna().to_numpy(), ids, ids, customer, "missing customer id")
    ids = ids.astype("str")
    duplicated = ids.duplicated().to_numpy()
    _first_bad(duplicated, ids, ids, customer, "customer id appears more than once")

    x = _numeric(table, "x", ids)
    _first_bad((x < 0) | (x != np.floor(x)), ids, table["x"], "x", "must be a non-negative integer")
    t_x = _numeric(table, "t_x", ids)
    big_t = _numeric(table, "T", ids)
    _first_bad(t_x < 0, ids, table["t_x"], "t_x", "must be >= 0")
    _first_bad(big_t < 0, ids, table["T"], "T", "must be >= 0")
    _first_bad(t_x > big_t, ids, table["t_x"], "t_x", "exceeds T", other=("T", big_t))
    _first_bad((x == 0) & (t_x != 0), ids, table["t_x"], "t_x", "must be 0 when x is 0")

    spend_name = next((n for n in SPEND_NAMES if n in table.columns), None)
    if spend_name is None:
        mean_spend = np.full(len(table), np.nan)
    else:
        mean_spend = _numeric(table, spend_name, ids, allow_missing=True)
        _first_bad(mean_spend < 0, ids, table[spend_name], spend_name, "must be >= 0")
    if "n_spend" in table.columns:
        n_spend = _numeric(table, "n_spend", ids)
        _first_bad((n_spend < 0) | (n_spend > x) | (n_spend != np.floor(n_spend)), ids,
                   table["n_spend"], "n_spend", "must be an integer between 0 and x")
    else:
        n_spend = np.where(mean_spend > 0, x, 0)
    mean_spend = np.where(n_spend > 0, mean_spend, np.nan)

    frame = pd.DataFrame(
        {
            "x": x.astype(np.int64),
            "t_x": t_x,
            "T": big_t,
            "n_spend": n_spend.astype(np.int64),
            "mean_spend": mean_spend,
            "first_amount": (
                _numeric(table, "first_amount", ids, allow_missing=True)
                if "first_amount" in table.columns else np.full(len(table), np.nan)
            ),
            "first_purchase": _first_purchase(big_t, cal, DAYS_PER_UNIT[unit]),
        },
        index=pd.Index(ids.to_numpy(), dtype="str", name="customer_id"),
    )
    if "x_holdout" in table.columns:
        x_hold = _numeric(table, "x_holdout", ids)
        _first_bad((x_hold < 0) | (x_hold != np.floor(x_hold)), ids, table["x_holdout"],
                   "x_holdout", "must be a non-negative integer")
        frame["x_holdout"] = x_hold.astype(np.int64)
        frame["spend_holdout"] = (
            _numeric(table, "spend_holdout", ids) if "spend_holdout" in table.columns
            else np.full(len(table), np.nan)
        )
    if segment is None:
        labels = pd.Series(DEFAULT_SEGMENT, index=frame.index)
    else:
        raw_segment = table[segment]
        _first_bad(raw_segment.isna().to_numpy(), ids, raw_segment, segment,
                   "missing segment label")
        labels = pd.Series(raw_segment.to_numpy(), index=frame.index, dtype=raw_segment.dtype)
    frame.insert(0, "segment", categorical_segments(labels, segment_order))
    return CustomerSummary(
        frame=frame.sort_index(),
        time_unit=unit,
        calibration_end=cal,
        exclusions={},
    )


def _numeric(
    table: pd.DataFrame, column: str, ids: pd.Series, *, allow_missing: bool = False
) -> np.ndarray:
    """A column as float64; ``DataError`` for non-numbers and (unless allowed) missing values."""
    raw = table[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    missing = raw.isna().to_numpy()
    _first_bad(~missing & ~np.isfinite(values), ids, raw, column, "is not a finite number")
    if not allow_missing:
        _first_bad(missing, ids, raw, column, "value is missing")
    return values


def _first_bad(
    mask: np.ndarray,
    ids: pd.Series,
    values: pd.Series,
    column: str,
    problem: str,
    other: tuple[str, np.ndarray] | None = None,
) -> None:
    """Raise ``DataError`` for the first row where ``mask`` holds."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return
    i = int(np.argmax(mask))
    customer = ids.iloc[i]
    who = "" if pd.isna(customer) else f" (customer {str(customer)!r})"
    shown = values.iloc[i]
    if isinstance(shown, np.generic):
        shown = shown.item()
    value = "" if pd.isna(shown) else f" value {shown!r}"
    versus = "" if other is None else f" = {other[1][i]:g}"
    problem = problem if other is None else f"{problem}{versus}"
    more = f" ({int(mask.sum())} rows affected, first shown)" if mask.sum() > 1 else ""
    raise DataError(f"column {column!r}, row {i + 1}{who}:{value} {problem}{more}")


def _first_purchase(big_t: np.ndarray, cal: pd.Timestamp | None, unit: float) -> np.ndarray:
    """First purchase day rebuilt from ``T`` (whole days); NaT without a calibration end."""
    if cal is None:
        return np.full(len(big_t), np.datetime64("NaT"), dtype="datetime64[ns]")
    days = np.rint(big_t * unit).astype(np.int64)
    return (np.datetime64(cal.date(), "D") - days).astype("datetime64[ns]")
