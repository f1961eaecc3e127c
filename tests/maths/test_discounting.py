"""Discount factors, and a fine discounted sum against the closed-form DERT."""

import numpy as np
import pytest
from dert import PNBD, T_X, T, X, dert

from bayesclv.maths import (
    discount_factor,
    paretonbd_conditional_expected_purchases,
)


@pytest.mark.parametrize(("t", "unit"), [(365.25 / 7, "weeks"), (12.0, "months"),
                                         (365.25, "days")])
def test_one_year_in_any_unit_discounts_by_one_plus_rate(t, unit):
    assert discount_factor(t, 0.10, unit) == pytest.approx(1 / 1.10, rel=1e-14)


def test_bad_arguments_name_the_problem():
    with pytest.raises(ValueError, match="time_unit"):
        discount_factor(1.0, 0.1, "fortnights")
    with pytest.raises(ValueError, match="annual_discount_rate"):
        discount_factor(1.0, -1.0)


def test_fine_mid_period_sum_converges_to_the_closed_form_dert():
    annual = 0.15
    delta = np.log1p(annual) / (365.25 / 7)
    horizon, n = 40.0 / delta, 60_000  # truncation leaves < e^-40 of the discounted mass
    ends = horizon * np.arange(1, n + 1) / n
    cumulative = paretonbd_conditional_expected_purchases(*PNBD, X[:, None], T_X[:, None], T,
                                                          ends)
    per_period = np.diff(cumulative, axis=-1, prepend=0.0)
    approx = per_period @ discount_factor(ends - 0.5 * horizon / n, annual, "weeks")
    np.testing.assert_allclose(approx, dert(annual), rtol=1e-5)
