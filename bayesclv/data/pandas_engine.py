"""The pandas engine: validate a transaction log in memory and aggregate it per customer.

Vectorised throughout: customers are factorised to integer codes, rows are sorted once by
the integer key ``code * span + day``, occasions and customers are runs in that order, and
per-customer quantities are ``reduceat``/``bincount`` over them.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from bayesclv.data.assemble import RAW_COLUMNS
from bayesclv.data.columns import ColumnMap
from bayesclv.data.validate import (
    DATE_TEXT,
    DEFAULT_TIMEZONE,
    FIRST_DAY,
    LAST_DAY,
    NUMBER_TEXT,
    OFFSET_TEXT,
    ROW_FAULTS,
    Window,
    check_coverage,
    empty_log_error,
    row_fault_error,
    segment_conflict_error,
)
from bayesclv.errors import DataError

OFFSET_SUFFIX = r" *(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)$"
"""The offset and the spaces before it, to cut from a string that ``OFFSET_TEXT`` matched."""
HAS_OFFSET = re.sub(r"\((?!\?)", "(?:", OFFSET_TEXT)
"""``OFFSET_TEXT`` without its groups: testing every row with it is fast, extracting is not."""
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
    typed = typed_columns(log, columns, window.observation_end, window.timezone)
    days = typed["day"]
    lo, hi = int(days.min()), int(days.max())
    check_coverage(window, pd.Timestamp(EPOCH + lo), pd.Timestamp(EPOCH + hi))
    codes, ids = pd.factorize(typed["customer"])
    codes = codes.astype(np.int64)

    # one stable sort by (customer, day) serves occasions, first days and the segment check
    order = np.argsort(codes * (hi - lo + 1) + (days - lo), kind="stable")
    code_s, day_s = codes[order], days[order]
    customer_start = np.r_[True, code_s[1:] != code_s[:-1]]
    if columns.segment is not None:
        seg_codes, seg_labels = pd.factorize(typed["segment"])
        seg_s = seg_codes[order]
        _check_constant_segment(code_s, seg_s, customer_start, ids, seg_labels, columns.segment)

    last = _day(window.last_end)
    cal = _day(window.calibration_end)
    first_day_of = np.empty(len(ids), dtype=np.int64)
    first_day_of[code_s[customer_start]] = day_s[customer_start]
    late = first_day_of > cal
    in_window = day_s <= last
    late_row = late[code_s]
    exclusions = {
        "transactions_after_end": int((~in_window).sum()),
        "customers_first_purchase_after_calibration": int(late.sum()),
        "transactions_of_those_customers": int((late_row & in_window).sum()),
    }

    keep = in_window & ~late_row
    code_k, day_k = code_s[keep], day_s[keep]
    occ_start = np.flatnonzero(
        np.r_[True, (code_k[1:] != code_k[:-1]) | (day_k[1:] != day_k[:-1])]
    )
    occ_code, occ_day = code_k[occ_start], day_k[occ_start]

    new_customer = np.r_[True, occ_code[1:] != occ_code[:-1]]
    starts = np.flatnonzero(new_customer)
    owner = np.cumsum(new_customer) - 1
    n_customers = len(starts)

    in_cal = occ_day <= cal
    n_occ = np.bincount(owner, weights=in_cal, minlength=n_customers).astype(np.int64)
    raw = pd.DataFrame(
        {
            "customer_id": ids.take(occ_code[starts]),
            "first_day": occ_day[starts],
            "last_day": occ_day[starts + n_occ - 1],
            "n_occ": n_occ,
        },
        columns=list(RAW_COLUMNS),
    )
    hold = ~in_cal
    if window.holdout_end is not None:
        raw["x_holdout"] = np.bincount(owner, weights=hold, minlength=n_customers).astype(
            np.int64
        )
    if columns.amount is not None:
        occ_amount = np.add.reduceat(typed["amount"][order][keep], occ_start)
        positive = in_cal & (occ_amount > 0)
        raw["n_positive"] = np.bincount(owner, weights=positive, minlength=n_customers).astype(
            np.int64
        )
        raw["positive_sum"] = np.bincount(
            owner, weights=np.where(positive, occ_amount, 0.0), minlength=n_customers
        )
        raw["first_amount"] = occ_amount[starts]
        if window.holdout_end is not None:
            raw["spend_holdout"] = np.bincount(
                owner, weights=np.where(hold, occ_amount, 0.0), minlength=n_customers
            )
    if columns.segment is not None:
        raw["segment"] = seg_labels.take(seg_s[keep][occ_start][starts])
    return raw, exclusions


def _day(stamp: pd.Timestamp) -> int:
    """Days since 1970-01-01."""
    return int((stamp - pd.Timestamp(0)).days)


def typed_columns(
    log: pd.DataFrame,
    columns: ColumnMap,
    observation_end: pd.Timestamp | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> dict[str, np.ndarray | pd.Index]:
    """Parse and check each column; raise the first row fault in ``ROW_FAULTS`` order.

    Parameters
    ----------
    log : pd.DataFrame
        The transaction log, its columns checked against ``columns``.
    columns : ColumnMap
        Column names.
    observation_end : pd.Timestamp, optional
        Transactions after this day are a fault.
    timezone : str
        IANA zone (already validated) in which instants are put on calendar days:
        zone-aware datetimes and date strings with a UTC offset.

    Returns
    -------
    dict
        ``customer`` (``pd.Index`` of str ids), ``day`` (int64 days since 1970-01-01),
        with an amount column ``amount`` (float64) and with a segment column ``segment``
        (``pd.Index`` of str).
    """
    raw_customer = log[columns.customer]
    raw_date = log[columns.date]
    faults: dict[str, np.ndarray] = {}

    faults["missing_customer"] = _blank(raw_customer, strip=False)

    date_missing = _blank(raw_date)
    parsed = parse_dates(raw_date, columns.date, timezone)
    # the date as error messages show it: an instant in the reference zone
    shown_date = parsed if isinstance(raw_date.dtype, pd.DatetimeTZDtype) else raw_date
    faults["missing_date"] = date_missing
    faults["bad_date"] = ~date_missing & parsed.isna().to_numpy()
    # whole days, at the parsed resolution: a trip through nanoseconds would wrap 9999-12-31
    day = parsed.to_numpy(dtype="datetime64[D]")
    faults["date_out_of_range"] = ~np.isnat(day) & (
        (day < np.datetime64(FIRST_DAY, "D")) | (day > np.datetime64(LAST_DAY, "D")))

    if columns.amount is not None:
        amount = _amounts(log[columns.amount], columns.amount, faults)

    if columns.segment is not None:
        raw_segment = log[columns.segment]
        faults["missing_segment"] = _blank(raw_segment, strip=False)
    day = (np.where(np.isnat(day), EPOCH, day) - EPOCH).astype(np.int64)
    if observation_end is not None:
        faults["after_observation"] = ~faults["bad_date"] & (day > _day(observation_end))

    for fault in ROW_FAULTS:
        mask = faults.get(fault.key)
        if mask is None or not mask.any():
            continue
        position = int(np.argmax(mask))
        column = getattr(columns, fault.role)
        value = (shown_date if fault.role == "date" else log[column]).iloc[position]
        if fault.key == "after_observation":
            value = pd.Timestamp(EPOCH + day[position]).date()
        raise row_fault_error(
            fault, column, position + 1, None if faults["missing_customer"][position]
            else raw_customer.iloc[position], value, int(mask.sum()), observation_end,
        )

    typed: dict[str, np.ndarray | pd.Index] = {
        "customer": pd.Index(_text(raw_customer)),
        "day": day,
    }
    if columns.amount is not None:
        typed["amount"] = amount
    if columns.segment is not None:
        typed["segment"] = pd.Index(_text(log[columns.segment]))
    return typed


def _amounts(raw: pd.Series, column: str, faults: dict[str, np.ndarray]) -> np.ndarray:
    """The amount column as float64 (NaN where bad); records its faults in ``faults``."""
    missing = _blank(raw)
    if pd.api.types.is_bool_dtype(raw.dtype) or not (
        pd.api.types.is_numeric_dtype(raw.dtype) or _is_text(raw)
    ):
        raise _type_error(column, raw.dtype, "numbers")
    if pd.api.types.is_numeric_dtype(raw.dtype):
        amount = raw.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        text = _text(raw).str.strip()
        amount = pd.to_numeric(
            text.where(~missing & _matches(text, NUMBER_TEXT)), errors="coerce"
        ).to_numpy(dtype=np.float64, na_value=np.nan)
    faults["missing_amount"] = missing
    faults["bad_amount"] = ~missing & np.isnan(amount)
    faults["infinite_amount"] = np.isinf(amount)
    with np.errstate(invalid="ignore"):
        faults["negative_amount"] = amount < 0
    return amount


def _check_constant_segment(
    code_s: np.ndarray,
    seg_s: np.ndarray,
    customer_start: np.ndarray,
    ids: pd.Index,
    labels: pd.Index,
    column: str,
) -> None:
    """Raise for the first customer (by id) whose rows carry more than one segment label.

    ``code_s`` and ``seg_s`` are customer and segment codes sorted by customer.
    """
    changed = ~customer_start & (seg_s != np.r_[seg_s[:1], seg_s[:-1]])
    if not changed.any():
        return
    culprits = ids.take(np.unique(code_s[changed]))
    customer = culprits.min()
    code = ids.get_loc(customer)
    seen = sorted(str(label) for label in labels.take(np.unique(seg_s[code_s == code])))
    raise segment_conflict_error(column, customer, (seen[0], seen[-1]))


def parse_dates(raw: pd.Series, column: str, timezone: str) -> pd.Series:
    """A column of dates as naive datetimes, by the rules every engine follows.

    An instant (a zone-aware timestamp, or text with a UTC offset) is shown in ``timezone``;
    a naive timestamp or date text without an offset is the day as written. Blank and
    unreadable values are NaT (the caller names them).

    Parameters
    ----------
    raw
        The column: datetimes (naive or zone-aware) or ISO 8601 text.
    column
        Its name, for the error message.
    timezone
        The reference zone (an IANA name).

    Returns
    -------
    pandas.Series
        Naive datetimes.

    Raises
    ------
    DataError
        When the column holds neither dates nor text.
    """
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        return raw.dt.tz_convert(timezone).dt.tz_localize(None)
    if pd.api.types.is_datetime64_dtype(raw.dtype):
        return raw
    if not _is_text(raw):
        raise _type_error(column, raw.dtype, "dates or ISO 8601 date strings")
    text = _text(raw).str.strip()
    return _parse_dates(text.where(~_blank(raw) & _matches(text, DATE_TEXT)), timezone)


def _parse_dates(text: pd.Series, timezone: str) -> pd.Series:
    """Date strings (trimmed, ``DATE_TEXT`` or missing) as naive datetimes.

    A string without a UTC offset is the day as written. A string with one is an instant:
    its time less the offset is UTC, then shown in ``timezone`` ("2020-01-01T23:30-05:00" is
    2 January in UTC, 1 January in New York). Offsets may differ from row to row. The
    offset is read here, not by pandas, so that every engine reads it the same way.
    """
    with_offset = _matches(text, HAS_OFFSET)
    if not with_offset.any():
        return pd.to_datetime(text, format="ISO8601", errors="coerce")
    wall = text.copy()
    wall[with_offset] = text[with_offset].str.replace(OFFSET_SUFFIX, "", regex=True)
    parsed = pd.to_datetime(wall, format="ISO8601", errors="coerce")
    offset = text[with_offset].str.extract(OFFSET_TEXT)
    sign = np.where(offset[1] == "-", -1, 1)
    seconds = sign * (
        pd.to_numeric(offset[2]).fillna(0).to_numpy() * 3600
        + pd.to_numeric(offset[3]).fillna(0).to_numpy() * 60
    )
    utc = parsed[with_offset] - pd.to_timedelta(seconds, unit="s")
    parsed[with_offset] = utc.dt.tz_localize("UTC").dt.tz_convert(timezone).dt.tz_localize(None)
    return parsed


def _blank(values: pd.Series, strip: bool = True) -> np.ndarray:
    """Missing values and empty strings (also whitespace-only ones when ``strip``)."""
    missing = values.isna().to_numpy()
    if _is_text(values):
        text = _text(values).str.strip() if strip else _text(values)
        missing = missing | text.eq("").fillna(False).to_numpy(dtype=bool)
    return missing


def _is_text(values: pd.Series) -> bool:
    """Whether a column holds strings (``str`` dtype or Python objects)."""
    return pd.api.types.is_string_dtype(values.dtype) or values.dtype == object


def _matches(text: pd.Series, pattern: str) -> np.ndarray:
    """Which strings match ``pattern`` (missing ones do not)."""
    return text.str.contains(pattern, regex=True).fillna(False).to_numpy(dtype=bool)


def _text(values: pd.Series) -> pd.Series:
    """A column as ``str`` dtype (missing values stay missing)."""
    return values.astype("str")


def _type_error(column: str, dtype: object, expected: str) -> DataError:
    return DataError(f"column {column!r} has type {dtype}; expected {expected}")
