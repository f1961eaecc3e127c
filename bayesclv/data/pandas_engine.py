"""The pandas engine: validate a transaction log in memory and aggregate it per customer.

Vectorised throughout: customers are factorised to integer codes, occasions are found by
grouping on one integer key ``code * span + day``, and per-customer quantities are
``bincount``s over the sorted occasions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayesclv.data.assemble import RAW_COLUMNS
from bayesclv.data.columns import ColumnMap
from bayesclv.data.validate import (
    ROW_FAULTS,
    Window,
    check_coverage,
    empty_log_error,
    row_fault_error,
    segment_conflict_error,
)
from bayesclv.errors import DataError

EPOCH = np.datetime64("1970-01-01", "D")


def summarise_frame(
    log: pd.DataFrame, columns: ColumnMap, window: Window
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Aggregate a transaction log held in pandas.

    Parameters
    ----------
    log : pd.DataFrame
        The transaction log; its columns have been checked against ``columns``.
    columns : ColumnMap
        Column names.
    window : Window
        Dates and time unit.

    Returns
    -------
    raw : pd.DataFrame
        Per-customer aggregates in the layout ``assemble`` expects.
    exclusions : dict
        Reason → count.
    """
    if len(log) == 0:
        raise empty_log_error()
    typed = typed_columns(log, columns, window.observation_end)
    days, customer, amount = typed["day"], typed["customer"], typed["amount"]
    check_coverage(
        window, pd.Timestamp(EPOCH + int(days.min())), pd.Timestamp(EPOCH + int(days.max()))
    )
    codes, ids = pd.factorize(customer, sort=True)
    if columns.segment is not None:
        _check_constant_segment(codes, ids, typed["segment"], columns.segment)

    last = _day(window.last_end)
    cal = _day(window.calibration_end)
    in_window = days <= last
    codes_w, days_w, amount_w = codes[in_window], days[in_window], amount[in_window]

    lo = int(days.min())
    span = last - lo + 1
    key = codes_w * span + (days_w - lo)
    occ = pd.Series(amount_w).groupby(key, sort=True).sum()
    occ_key = occ.index.to_numpy()
    occ_amount = occ.to_numpy(dtype=np.float64)
    occ_code = occ_key // span
    occ_day = occ_key % span + lo

    starts = np.flatnonzero(np.r_[True, occ_code[1:] != occ_code[:-1]])
    first_day = occ_day[starts]
    late = np.ones(len(ids), dtype=bool)
    late[occ_code[starts][first_day <= cal]] = False
    exclusions = {
        "transactions_after_end": int((~in_window).sum()),
        "customers_first_purchase_after_calibration": int(late.sum()),
        "transactions_of_those_customers": int(late[codes_w].sum()),
    }

    keep = ~late[occ_code]
    occ_code, occ_day, occ_amount = occ_code[keep], occ_day[keep], occ_amount[keep]
    new_customer = np.r_[True, occ_code[1:] != occ_code[:-1]]
    starts = np.flatnonzero(new_customer)
    owner = np.cumsum(new_customer) - 1
    n_customers = len(starts)
    first_day = occ_day[starts]

    in_cal = occ_day <= cal
    n_occ = np.bincount(owner, weights=in_cal, minlength=n_customers).astype(np.int64)
    repeat = in_cal & (occ_day != first_day[owner]) & (occ_amount > 0)
    raw = pd.DataFrame(
        {
            "customer_id": ids[occ_code[starts]],
            "first_day": first_day,
            "last_day": occ_day[starts + n_occ - 1],
            "n_occ": n_occ,
            "n_spend": np.bincount(owner, weights=repeat, minlength=n_customers).astype(np.int64),
            "spend_sum": np.bincount(
                owner, weights=np.where(repeat, occ_amount, 0.0), minlength=n_customers
            ),
            "first_amount": occ_amount[starts],
        },
        columns=list(RAW_COLUMNS),
    )
    if window.holdout_end is not None:
        hold = ~in_cal
        raw["x_holdout"] = np.bincount(owner, weights=hold, minlength=n_customers).astype(
            np.int64
        )
        raw["spend_holdout"] = np.bincount(
            owner, weights=np.where(hold, occ_amount, 0.0), minlength=n_customers
        )
    if columns.segment is not None:
        first_row = pd.Series(np.arange(len(codes))).groupby(codes).first().to_numpy()
        raw["segment"] = typed["segment"][first_row[occ_code[starts]]]
    return raw, exclusions


def _day(stamp: pd.Timestamp) -> int:
    """Days since 1970-01-01."""
    return int((stamp - pd.Timestamp(0)).days)


def typed_columns(
    log: pd.DataFrame, columns: ColumnMap, observation_end: pd.Timestamp | None = None
) -> dict[str, np.ndarray]:
    """Parse and check each column; raise the first row fault in ``ROW_FAULTS`` order.

    Returns
    -------
    dict
        ``customer`` (str ids), ``day`` (int64 days since 1970-01-01), ``amount`` (float64)
        and, with a segment column, ``segment`` (str labels).
    """
    raw_customer = log[columns.customer]
    raw_date = log[columns.date]
    raw_amount = log[columns.amount]
    faults: dict[str, np.ndarray] = {}

    faults["missing_customer"] = _blank(raw_customer)

    date_missing = _blank(raw_date)
    if isinstance(raw_date.dtype, pd.DatetimeTZDtype):
        parsed = raw_date.dt.tz_localize(None)
    elif pd.api.types.is_datetime64_dtype(raw_date.dtype):
        parsed = raw_date
    elif _is_text(raw_date):
        parsed = pd.to_datetime(
            _text(raw_date).str.strip().where(~date_missing), format="ISO8601", errors="coerce"
        )
    else:
        raise _type_error(columns.date, raw_date.dtype, "dates or ISO 8601 date strings")
    faults["missing_date"] = date_missing
    faults["bad_date"] = ~date_missing & parsed.isna().to_numpy()

    amount_missing = _blank(raw_amount)
    if pd.api.types.is_bool_dtype(raw_amount.dtype) or not (
        pd.api.types.is_numeric_dtype(raw_amount.dtype) or _is_text(raw_amount)
    ):
        raise _type_error(columns.amount, raw_amount.dtype, "numbers")
    if pd.api.types.is_numeric_dtype(raw_amount.dtype):
        amount = raw_amount.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        amount = pd.to_numeric(
            _text(raw_amount).str.strip().where(~amount_missing), errors="coerce"
        ).to_numpy(dtype=np.float64, na_value=np.nan)
    faults["missing_amount"] = amount_missing
    faults["bad_amount"] = ~amount_missing & np.isnan(amount)
    faults["infinite_amount"] = np.isinf(amount)
    with np.errstate(invalid="ignore"):
        faults["negative_amount"] = amount < 0

    if columns.segment is not None:
        raw_segment = log[columns.segment]
        faults["missing_segment"] = _blank(raw_segment)
    day = parsed.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    day = np.where(np.isnat(day), EPOCH, day).astype(np.int64)
    if observation_end is not None:
        faults["after_observation"] = ~faults["bad_date"] & (day > _day(observation_end))

    for fault in ROW_FAULTS:
        mask = faults.get(fault.key)
        if mask is None or not mask.any():
            continue
        position = int(np.argmax(mask))
        column = getattr(columns, fault.role)
        value = log[column].iloc[position]
        if fault.key == "after_observation":
            value = pd.Timestamp(EPOCH + day[position]).date()
        raise row_fault_error(
            fault, column, position + 1, None if faults["missing_customer"][position]
            else raw_customer.iloc[position], value, int(mask.sum()), observation_end,
        )

    typed = {
        "customer": raw_customer.astype("str").to_numpy(),
        "day": day,
        "amount": amount,
    }
    if columns.segment is not None:
        typed["segment"] = log[columns.segment].astype("str").to_numpy()
    return typed


def _check_constant_segment(
    codes: np.ndarray, ids: np.ndarray, segment: np.ndarray, column: str
) -> None:
    """Raise for the first customer (by id) with more than one segment label."""
    seg_codes, labels = pd.factorize(segment, sort=True)
    bounds = pd.Series(seg_codes).groupby(codes).agg(["min", "max"])
    conflict = np.flatnonzero(bounds["min"].to_numpy() != bounds["max"].to_numpy())
    if conflict.size:
        code = bounds.index[conflict[0]]
        raise segment_conflict_error(
            column,
            ids[code],
            (labels[bounds["min"].iloc[conflict[0]]], labels[bounds["max"].iloc[conflict[0]]]),
        )


def _blank(values: pd.Series) -> np.ndarray:
    """Missing values, and empty or whitespace-only strings."""
    missing = values.isna().to_numpy()
    if _is_text(values):
        missing = missing | _text(values).str.strip().eq("").fillna(False).to_numpy(dtype=bool)
    return missing


def _is_text(values: pd.Series) -> bool:
    """Whether a column holds strings (``str`` dtype or Python objects)."""
    return pd.api.types.is_string_dtype(values.dtype) or values.dtype == object


def _text(values: pd.Series) -> pd.Series:
    """A column as ``str`` dtype (missing values stay missing)."""
    return values.astype("str")


def _type_error(column: str, dtype: object, expected: str) -> DataError:
    return DataError(f"column {column!r} has type {dtype}; expected {expected}")
