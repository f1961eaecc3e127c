"""Money and time settings of a CLV computation, resolved once from a fit's ``ValueSpec``.

Conventions (see ``docs/clv.md``): the discount rate is per year and converted explicitly to
the fit's time unit (a year is 365.25 days; a month 30.4375 days); a cash flow t time units
after the calibration end is worth ``(1 + d) ** (-t / units_per_year)``; purchases are
grouped into future periods of one month or one quarter and each period's purchases are
discounted at its end (``"end"``, conservative) or mid-point (``"mid"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from bayesclv import units
from bayesclv.errors import SpecError
from bayesclv.maths import discount_factor
from bayesclv.spec import ValueSpec
from bayesclv.units import MONTHS_PER_PERIOD, TIME_UNITS

__all__ = ["ValueSettings", "value_settings"]

Convention = Literal["end", "mid"]


@dataclass(frozen=True)
class ValueSettings:
    """Resolved settings: the horizon cut into periods, with a discount factor per period.

    Attributes
    ----------
    value
        The money settings (margin, annual discount rate, horizon in months, period,
        HDI mass).
    time_unit
        Unit of the model's time (``"weeks"`` or ``"days"``).
    convention
        Where each period's purchases are discounted: ``"end"`` or ``"mid"``.
    boundaries
        End of each period after the calibration end, in time units (the last period is
        shorter when the horizon is not a whole number of periods).
    discount
        Discount factor of each period's cash flows.
    """

    value: ValueSpec
    time_unit: str
    convention: Convention
    boundaries: np.ndarray
    discount: np.ndarray

    @property
    def horizon(self) -> float:
        """Horizon after the calibration end, in time units."""
        return float(self.boundaries[-1])

    @property
    def n_periods(self) -> int:
        """Number of future periods."""
        return int(self.boundaries.size)

    def attrs(self) -> dict[str, Any]:
        """Units and conventions, for the ``attrs`` of results."""
        return {
            "currency": self.value.currency,
            "time_unit": self.time_unit,
            "horizon_months": self.value.horizon_months,
            "horizon": self.horizon,
            "period": self.value.period,
            "margin": self.value.margin,
            "hdi_prob": self.value.hdi_prob,
            "annual_discount_rate": self.value.annual_discount_rate,
            "discounting": (
                f"(1 + d)^(-t_years), d = {self.value.annual_discount_rate} per year; "
                f"cash flows at period {self.convention}; months of 30.4375 days"
            ),
            "value_kind": "residual CLV: value after the calibration end only",
            **({"value_per_purchase": self.value.per_purchase}
               if self.value.per_purchase is not None else {}),
        }


def value_settings(
    value: ValueSpec, time_unit: str, convention: Convention = "end"
) -> ValueSettings:
    """Resolve a ``ValueSpec`` into periods and discount factors in the model's time unit.

    Parameters
    ----------
    value
        Margin, annual discount rate, horizon (months of 30.4375 days) and period.
    time_unit
        The fit's time unit, ``"weeks"`` or ``"days"``.
    convention
        ``"end"`` (default) or ``"mid"``: where each period's cash flows are discounted.

    Returns
    -------
    ValueSettings

    Raises
    ------
    SpecError
        For an unknown convention or time unit (the value settings themselves are checked
        by :class:`~bayesclv.spec.ValueSpec` when it is built).
    """
    if time_unit not in TIME_UNITS:
        raise SpecError(f"time_unit={time_unit!r} is not one of {', '.join(TIME_UNITS)}")
    if convention not in ("end", "mid"):
        raise SpecError(f"convention={convention!r} must be 'end' or 'mid'")
    units_per_month = units.units_per_month(time_unit)
    period_months = MONTHS_PER_PERIOD[value.period]
    n_periods = int(np.ceil(value.horizon_months / period_months - 1e-9))
    ends_months = np.minimum(period_months * np.arange(1, n_periods + 1), value.horizon_months)
    boundaries = ends_months * units_per_month
    starts = np.concatenate([[0.0], boundaries[:-1]])
    when = boundaries if convention == "end" else 0.5 * (starts + boundaries)
    return ValueSettings(
        value=value,
        time_unit=time_unit,
        convention=convention,
        boundaries=boundaries,
        discount=discount_factor(when, value.annual_discount_rate, time_unit),
    )
