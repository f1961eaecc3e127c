"""Validation shared by every engine: arguments, the list of row faults, date-range checks.

The engines test the same faults in the same order (``ROW_FAULTS``) and word their errors
with the same helpers, so a bad log raises the same ``DataError`` whichever engine reads it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import zoneinfo
from dataclasses import dataclass

import pandas as pd

from bayesclv.errors import DataError
from bayesclv.units import DAYS_PER_UNIT, TIME_UNITS

ENGINES = ("auto", "pandas", "duckdb", "spark")
DATE_TEXT = (
    r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(?:[T ](?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:[.][0-9]+)?)?"
    r"(?: *(?:Z|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?))?)?$"
)
"""What a date string must be, in every engine: a whole ISO 8601 date, optionally followed
by a time (``T`` or a space, then ``hh:mm``, ``hh:mm:ss`` or ``hh:mm:ss.fff…``) and, after
the time, a UTC offset (``Z``, ``+09``, ``-05:00``, ``+0530``). "1997", "1997-01",
"19970105", "1997/01/05", "1997-01-05T24:00", a zone name after the time or an offset
after a bare date are bad dates. The engines' own parsers then refuse impossible days
(1997-02-30)."""
OFFSET_TEXT = r":[0-9]{2}(?:[.][0-9]+)? *(Z|([+-])([0-9]{2}):?([0-9]{2})?)$"
"""The UTC offset at the end of a date string that matches ``DATE_TEXT`` (it needs the time
before it, so a bare date's "-05" is not an offset). Groups: 1 the offset as written,
2 its sign (empty for ``Z``), 3 hours, 4 minutes (empty when not written)."""
DEFAULT_TIMEZONE = "UTC"
"""The zone whose calendar days instants (zone-aware timestamps, strings with an offset)
fall on, unless the user names another."""
NUMBER_TEXT = r"^[+-]?(?:(?:[0-9]+[.]?[0-9]*|[.][0-9]+)(?:[eE][+-]?[0-9]+)?|(?i:inf|infinity|nan))$"
"""What an amount string must be, in every engine: a decimal number, optionally with an
exponent, or inf/nan (which are then faults of their own); "1_000", "12,50" and "0x10" are
bad amounts."""


@dataclass(frozen=True)
class Window:
    """The dates and time unit of one summary, validated.

    Attributes
    ----------
    calibration_end : pd.Timestamp
        Last day of calibration (inclusive).
    holdout_end : pd.Timestamp or None
        Last day of the holdout (inclusive), if any.
    observation_end : pd.Timestamp or None
        Last day the extract is meant to cover; later transactions are an error.
    time_unit : str
        ``"days"`` or ``"weeks"``.
    timezone : str
        The IANA zone in which an instant (a zone-aware timestamp, a string with a UTC
        offset) is put on a calendar day; naive timestamps and dates are days as written.
    """

    calibration_end: pd.Timestamp
    holdout_end: pd.Timestamp | None
    observation_end: pd.Timestamp | None
    time_unit: str
    timezone: str = DEFAULT_TIMEZONE

    @property
    def unit_days(self) -> float:
        """Length of one time unit in days."""
        return DAYS_PER_UNIT[self.time_unit]

    @property
    def last_end(self) -> pd.Timestamp:
        """Last day whose transactions are used (holdout end, else calibration end)."""
        return self.holdout_end if self.holdout_end is not None else self.calibration_end

    @property
    def holdout_length(self) -> float | None:
        """Holdout length in time units, or None without a holdout."""
        if self.holdout_end is None:
            return None
        return (self.holdout_end - self.calibration_end).days / self.unit_days


def parse_day(value: object, name: str) -> pd.Timestamp:
    """Parse a date argument to a midnight ``pd.Timestamp``; ``DataError`` naming ``name``."""
    if isinstance(value, str | dt.date | pd.Timestamp):
        try:
            stamp = pd.Timestamp(value)
        except (ValueError, TypeError) as exc:
            raise DataError(f"{name}={value!r} is not a date (use e.g. '1997-09-30')") from exc
        if not pd.isna(stamp):
            if stamp.tzinfo is not None:
                stamp = stamp.tz_localize(None)
            return stamp.normalize().as_unit("ns")
    raise DataError(f"{name}={value!r} is not a date (use e.g. '1997-09-30')")


def check_time_unit(time_unit: object) -> str:
    """Return ``time_unit`` if it is known, else raise ``DataError`` listing the choices."""
    if time_unit not in TIME_UNITS:
        raise DataError(
            f"time_unit={time_unit!r} is not supported; "
            f"use one of {', '.join(map(repr, TIME_UNITS))}"
        )
    return str(time_unit)


@functools.cache
def _known_zones() -> frozenset[str]:
    """IANA zone names Python knows, less the two that name no fixed place."""
    # "localtime" is whatever the machine is set to, the very thing a zone must not
    # depend on; "Factory" is a placeholder zone with no offset of its own
    return frozenset(zoneinfo.available_timezones() - {"localtime", "Factory"}) | {"UTC"}


def timezone_problem(zone: object) -> str | None:
    """What is wrong with ``zone`` as a time-zone name, or None when it is a known IANA name.

    Parameters
    ----------
    zone : object
        The value given, e.g. ``"America/New_York"``.

    Returns
    -------
    str or None
        A phrase to follow the field's name and value, with the closest known name when
        there is one (``"is not an IANA time-zone name; did you mean 'America/New_York'?"``).
    """
    if not isinstance(zone, str):
        return "is not an IANA time-zone name such as 'UTC' or 'America/New_York'"
    known = _known_zones()
    if zone in known:
        return None
    lowered = {name.lower(): name for name in known}
    close = difflib.get_close_matches(zone.lower(), list(lowered), n=1, cutoff=0.6)
    if close:
        return f"is not an IANA time-zone name; did you mean {lowered[close[0]]!r}?"
    return "is not an IANA time-zone name such as 'UTC' or 'America/New_York'"


def check_timezone(zone: object) -> str:
    """Return ``zone`` if it is a known IANA time-zone name, else raise ``DataError``."""
    problem = timezone_problem(zone)
    if problem is not None:
        raise DataError(f"timezone={zone!r} {problem}")
    return str(zone)


def make_window(
    calibration_end: object,
    holdout_end: object,
    observation_end: object,
    time_unit: object,
    timezone: object = DEFAULT_TIMEZONE,
) -> Window:
    """Validate the summary's dates, unit and time zone (before any data is read)."""
    unit = check_time_unit(time_unit)
    zone = check_timezone(timezone)
    cal = parse_day(calibration_end, "calibration_end")
    hold = None if holdout_end is None else parse_day(holdout_end, "holdout_end")
    obs = None if observation_end is None else parse_day(observation_end, "observation_end")
    if hold is not None and hold <= cal:
        raise DataError(
            f"holdout_end {hold.date()} must be after calibration_end {cal.date()}"
        )
    return Window(cal, hold, obs, unit, zone)


@dataclass(frozen=True)
class RowFault:
    """One kind of bad row: which role's column it concerns and how to describe it."""

    key: str
    role: str
    problem: str


#: Transaction dates must lie in these days (inclusive): the whole days of pandas'
#: nanosecond timestamps, so every engine can represent them. A placeholder such as
#: 9999-12-31 or 0001-01-01 is refused by name instead of wrapping around (pandas) or being
#: counted as a transaction after the window (DuckDB, Spark).
FIRST_DAY = dt.date(1677, 9, 22)
LAST_DAY = dt.date(2262, 4, 11)

ROW_FAULTS: tuple[RowFault, ...] = (
    RowFault("missing_customer", "customer", "missing customer id"),
    RowFault("missing_date", "date", "missing date"),
    RowFault("bad_date", "date", "cannot be parsed as a date (expected ISO 8601, e.g. 1997-01-31)"),
    RowFault("date_out_of_range", "date",
             f"is outside the supported dates {FIRST_DAY} … {LAST_DAY} (a placeholder such "
             "as 9999-12-31? remove the row or give the real date)"),
    RowFault("missing_amount", "amount", "missing amount"),
    RowFault("bad_amount", "amount", "is not a number"),
    RowFault("infinite_amount", "amount", "is not a finite number"),
    RowFault("negative_amount", "amount", "is negative; amounts must be >= 0"),
    RowFault("missing_segment", "segment", "missing segment label"),
    RowFault("after_observation", "date", "is after observation_end"),
)


def row_fault_error(
    fault: RowFault,
    column: str,
    row: int,
    customer: object,
    value: object,
    n_rows: int,
    observation_end: pd.Timestamp | None = None,
) -> DataError:
    """Build the ``DataError`` for the first row showing ``fault``.

    Parameters
    ----------
    fault : RowFault
        The kind of fault.
    column : str
        Column name in the user's data.
    row : int
        1-based data row (the header is not counted).
    customer : object
        The row's customer id (may be missing).
    value : object
        The offending value.
    n_rows : int
        Number of rows with this fault.
    observation_end : pd.Timestamp, optional
        Used in the message of the ``after_observation`` fault.
    """
    who = "" if customer is None or pd.isna(customer) else f" (customer {str(customer)!r})"
    shown = "missing" if value is None or (not isinstance(value, str) and pd.isna(value)) else (
        repr(value) if isinstance(value, str) else str(value)
    )
    if fault.key.startswith("missing"):
        what = fault.problem
    elif fault.key == "after_observation":
        what = (
            f"date {shown} is after observation_end {observation_end.date()}: the extract "
            "holds transactions outside the period it should cover"
        )
    else:
        what = f"value {shown} {fault.problem}"
    more = f" ({n_rows} rows affected, first shown)" if n_rows > 1 else ""
    return DataError(f"column {column!r}, row {row}{who}: {what}{more}")


def check_coverage(window: Window, first_day: pd.Timestamp, last_day: pd.Timestamp) -> None:
    """Check the calibration and holdout ends against the dates in the data.

    Parameters
    ----------
    window : Window
        The validated dates.
    first_day, last_day : pd.Timestamp
        Earliest and latest transaction day in the log. The data are taken to cover the
        period up to ``observation_end`` when given, else up to ``last_day``.
    """
    covered = window.observation_end if window.observation_end is not None else last_day
    source = (
        "observation_end" if window.observation_end is not None else "the last date in the data"
    )
    if window.calibration_end < first_day:
        raise DataError(
            f"calibration_end {window.calibration_end.date()} is before the first purchase in "
            f"the data ({first_day.date()}): no customer would be in the summary"
        )
    if window.calibration_end > covered:
        raise DataError(
            f"calibration_end {window.calibration_end.date()} is after {source} "
            f"({covered.date()}): the data do not cover the calibration period"
        )
    if window.holdout_end is not None and window.holdout_end > covered:
        raise DataError(
            f"holdout_end {window.holdout_end.date()} is after {source} "
            f"({covered.date()}): the data do not cover the holdout period"
        )


def segment_conflict_error(column: str, customer: object, labels: tuple[object, ...]) -> DataError:
    """``DataError`` for a customer whose rows carry more than one segment label."""
    shown = ", ".join(repr(str(label)) for label in labels)
    return DataError(
        f"column {column!r}, customer {str(customer)!r}: more than one segment label ({shown}); "
        "a segment must be fixed per customer (e.g. acquisition cohort or channel)"
    )


def empty_log_error() -> DataError:
    """``DataError`` for a log without rows."""
    return DataError("the transaction log has no rows")

