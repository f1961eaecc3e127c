"""Discount factors: the present value of a cash flow at a time after the calibration end.

Time is in one unit (``"days"``, ``"weeks"``, ``"months"``); the discount rate is
stated per year and converted explicitly: a year is 365.25 days, 365.25/7 weeks
or 12 months of 30.4375 days. A cash flow at time t (in time units) is
discounted by (1 + d_annual)^(-t / units_per_year), i.e. compounded annually
and evaluated at any t, which equals continuous discounting at the rate
ln(1 + d_annual) per year. The periods whose flows are discounted (calendar months or
quarters, "end" or "mid" convention) are laid out by :mod:`bayesclv.scoring.settings`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from bayesclv.units import UNITS_PER_YEAR

__all__ = ["discount_factor"]


TimeUnit = Literal["days", "weeks", "months"]


def _units_per_year(time_unit: str) -> float:
    try:
        return UNITS_PER_YEAR[time_unit]
    except KeyError:
        raise ValueError(
            f"time_unit={time_unit!r} is not supported; use one of {sorted(UNITS_PER_YEAR)}"
        ) from None


def discount_factor(t: ArrayLike, annual_discount_rate: float,
                    time_unit: TimeUnit = "weeks") -> np.ndarray:
    """Present value of one unit paid at time t: (1 + d)^(-t / units_per_year).

    Parameters
    ----------
    t : array_like
        Times after the calibration end, in time units.
    annual_discount_rate : float
        Discount rate per year, e.g. 0.10 for 10 %.
    time_unit : {"days", "weeks", "months"}
        Unit of ``t``.

    Returns
    -------
    ndarray
        Discount factors in (0, 1].
    """
    if annual_discount_rate <= -1.0:
        raise ValueError(f"annual_discount_rate must be > -1, got {annual_discount_rate}")
    years = np.asarray(t, dtype=float) / _units_per_year(time_unit)
    return np.exp(-np.log1p(annual_discount_rate) * years)
