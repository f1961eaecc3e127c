"""Per-period expected purchases and their discounted sum (residual value).

Time is in one unit (``"days"``, ``"weeks"``, ``"months"``); the discount rate is
stated per year and converted explicitly: a year is 365.25 days, 365.25/7 weeks
or 12 months of 30.4375 days. A cash flow at time t (in time units) is
discounted by (1 + d_annual)^(-t / units_per_year), i.e. compounded annually
and evaluated at any t, which equals continuous discounting at the rate
ln(1 + d_annual) per year.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from bayesclv.units import UNITS_PER_YEAR

__all__ = [
    "period_boundaries",
    "discount_factor",
    "expected_purchases_by_period",
    "discounted_residual_purchases",
]


TimeUnit = Literal["days", "weeks", "months"]
Convention = Literal["end", "mid"]


def _units_per_year(time_unit: str) -> float:
    try:
        return UNITS_PER_YEAR[time_unit]
    except KeyError:
        raise ValueError(
            f"time_unit={time_unit!r} is not supported; use one of {sorted(UNITS_PER_YEAR)}"
        ) from None


def period_boundaries(horizon: float, n_periods: int) -> np.ndarray:
    """End points t_1 < ... < t_n of n equal periods covering (0, horizon].

    Parameters
    ----------
    horizon : float
        Length of the prediction window after the calibration end, in time units.
    n_periods : int
        Number of equal periods (e.g. horizon 52 weeks, 12 periods: ~monthly).

    Returns
    -------
    ndarray
        Shape (n_periods,), period end times in time units.
    """
    if horizon <= 0 or n_periods < 1:
        raise ValueError(f"need horizon > 0 and n_periods >= 1, got {horizon=}, {n_periods=}")
    return horizon * np.arange(1, n_periods + 1) / n_periods


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


def expected_purchases_by_period(cumulative: Callable[[np.ndarray], np.ndarray],
                                 boundaries: ArrayLike) -> np.ndarray:
    """Expected purchases in each future period, as differences of a cumulative curve.

    Parameters
    ----------
    cumulative : callable
        ``cumulative(t)`` returns E[X(T, T+t]] for an array ``t`` of shape
        (..., 1)-broadcastable against the customers/draws it closes over; e.g.
        ``lambda t: paretonbd_conditional_expected_purchases(r, a, s, b, x, t_x, T, t)``
        with the history arrays given a trailing axis of length 1.
    boundaries : array_like
        Increasing period end times t_1 < ... < t_n after T, in time units.

    Returns
    -------
    ndarray
        Shape (..., n): expected purchases in (T + t_{i-1}, T + t_i], with t_0 = 0.
    """
    bounds = np.asarray(boundaries, dtype=float)
    if bounds.ndim != 1 or np.any(np.diff(bounds) <= 0) or bounds[0] <= 0:
        raise ValueError("boundaries must be a 1-d, strictly increasing array of times > 0")
    cum = np.asarray(cumulative(bounds))
    return np.diff(cum, axis=-1, prepend=0.0)


def discounted_residual_purchases(cumulative: Callable[[np.ndarray], np.ndarray],
                                  horizon: float, n_periods: int, annual_discount_rate: float,
                                  time_unit: TimeUnit = "weeks",
                                  convention: Convention = "end") -> np.ndarray:
    """Discounted expected residual purchases over ``horizon`` after calibration.

    Sum over n equal periods of (expected purchases in the period) x (discount
    factor at the period's end, or at its mid-point with ``convention="mid"``).
    With many short periods and ``"mid"`` this tends to the continuous-time DERT
    at the rate ln(1 + d) per year truncated at the horizon.

    Parameters
    ----------
    cumulative : callable
        ``cumulative(t)`` -> E[X(T, T+t]], see :func:`expected_purchases_by_period`.
    horizon : float
        Prediction window after the calibration end, in time units.
    n_periods : int
        Number of equal periods in the window.
    annual_discount_rate : float
        Discount rate per year (0.10 for 10 %).
    time_unit : {"days", "weeks", "months"}
        Unit of ``horizon`` and of the model's time.
    convention : {"end", "mid"}
        Where in each period its purchases are discounted.

    Returns
    -------
    ndarray
        Discounted expected purchases (multiply by margin x expected spend for
        value), with the period axis summed out.
    """
    bounds = period_boundaries(horizon, n_periods)
    if convention == "end":
        when = bounds
    elif convention == "mid":
        when = bounds - 0.5 * horizon / n_periods
    else:
        raise ValueError(f"convention must be 'end' or 'mid', got {convention!r}")
    per_period = expected_purchases_by_period(cumulative, bounds)
    return per_period @ discount_factor(when, annual_discount_rate, time_unit)
