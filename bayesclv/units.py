"""Units of time, in one place: every conversion in bayesclv reads these numbers.

A summary's times (x's clock, t_x, T) and every rate fitted to it are in one **time unit**:
``"weeks"`` (the default, as in the BTYD papers) or ``"days"``. Money settings are stated per
year and per month: a year is 365.25 days and a month 30.4375 days (a twelfth of a year), so
36 months is exactly three years whatever the unit.
"""

from __future__ import annotations

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0

#: Days in one time unit, for each unit a summary can be in.
DAYS_PER_UNIT: dict[str, float] = {"weeks": 7.0, "days": 1.0}
#: The time units a summary (and a spec's ``data.time_unit``) can be in.
TIME_UNITS: tuple[str, ...] = tuple(DAYS_PER_UNIT)
#: Months in each reporting period of the value tables (``value.period``).
MONTHS_PER_PERIOD: dict[str, int] = {"month": 1, "quarter": 3}
#: Time units per year, including months (used by the discounting maths).
UNITS_PER_YEAR: dict[str, float] = {
    **{unit: DAYS_PER_YEAR / days for unit, days in DAYS_PER_UNIT.items()},
    "months": 12.0,
}


def units_per_month(time_unit: str) -> float:
    """Time units in a month of 30.4375 days (weeks: 4.348…, days: 30.4375)."""
    return DAYS_PER_MONTH / DAYS_PER_UNIT[time_unit]


def weeks_per_unit(time_unit: str) -> float:
    """Weeks in one time unit (weeks: 1, days: 1/7)."""
    return DAYS_PER_UNIT[time_unit] / DAYS_PER_UNIT["weeks"]
