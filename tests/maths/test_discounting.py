"""Per-period expected purchases, discounting conventions and DERT."""

import numpy as np
import pytest
from scipy import special

from bayesclv.maths import (
    bgnbd_conditional_expected_purchases,
    discount_factor,
    discounted_residual_purchases,
    expected_purchases_by_period,
    paretonbd_conditional_expected_purchases,
    paretonbd_p_alive,
    period_boundaries,
)

PNBD = (0.553, 10.578, 0.606, 11.669)
BGNBD = (0.243, 4.414, 0.793, 2.426)
X = np.array([0.0, 2.0, 1.0, 30.0])
T_X = np.array([0.0, 30.43, 1.0, 38.0])
T = 38.86


def _pnbd_cumulative(t):
    return paretonbd_conditional_expected_purchases(*PNBD, X[:, None], T_X[:, None], T, t)


@pytest.mark.parametrize(("t", "unit"), [(365.25 / 7, "weeks"), (12.0, "months"),
                                         (365.25, "days")])
def test_one_year_in_any_unit_discounts_by_one_plus_rate(t, unit):
    assert discount_factor(t, 0.10, unit) == pytest.approx(1 / 1.10, rel=1e-14)


def test_bad_arguments_name_the_problem():
    with pytest.raises(ValueError, match="time_unit"):
        discount_factor(1.0, 0.1, "fortnights")
    with pytest.raises(ValueError, match="convention"):
        discounted_residual_purchases(_pnbd_cumulative, 52.0, 12, 0.1, convention="start")


def test_periods_sum_to_the_cumulative_expectation():
    bounds = period_boundaries(52.0, 12)
    per_period = expected_purchases_by_period(_pnbd_cumulative, bounds)
    assert per_period.shape == (4, 12)
    assert (per_period > 0).all()
    np.testing.assert_allclose(per_period.sum(axis=-1), _pnbd_cumulative(np.array(52.0))[:, 0],
                               rtol=1e-12)
    undiscounted = discounted_residual_purchases(_pnbd_cumulative, 52.0, 12, 0.0)
    np.testing.assert_allclose(undiscounted, _pnbd_cumulative(np.array(52.0))[:, 0], rtol=1e-12)


def test_end_of_period_discounting_is_below_mid_period():
    end = discounted_residual_purchases(_pnbd_cumulative, 104.0, 24, 0.1, convention="end")
    mid = discounted_residual_purchases(_pnbd_cumulative, 104.0, 24, 0.1, convention="mid")
    assert (end < mid).all()
    assert (mid < _pnbd_cumulative(np.array(104.0))[:, 0]).all()


def test_bgnbd_per_period_values_broadcast_over_draws():
    draws = np.array([BGNBD, (0.25, 4.0, 0.8, 2.5)])[:, :, None, None]  # (draw, param, 1, 1)

    def cumulative(t):
        return bgnbd_conditional_expected_purchases(*draws.transpose(1, 0, 2, 3), X[:, None],
                                                    T_X[:, None], T, t)

    out = discounted_residual_purchases(cumulative, 52.0, 12, 0.1)
    assert out.shape == (2, 4)
    assert np.isfinite(out).all()


def test_fine_mid_period_sum_converges_to_the_closed_form_dert():
    """FHL 2005 (RFM and CLV): DERT = P(alive) (r+x)/(α+T) (β+T)^s δ^(s-1) U(s, s, δ(β+T))."""
    r, alpha, s, beta = PNBD
    annual = 0.15
    delta = np.log1p(annual) / (365.25 / 7)  # continuous rate per week, same discounting
    dert = (paretonbd_p_alive(*PNBD, X, T_X, T) * (r + X) / (alpha + T) * (beta + T) ** s
            * delta ** (s - 1) * special.hyperu(s, s, delta * (beta + T)))
    horizon = 40.0 / delta  # truncation leaves < e^-40 of the discounted mass
    approx = discounted_residual_purchases(_pnbd_cumulative, horizon, 60_000, annual,
                                           convention="mid")
    np.testing.assert_allclose(approx, dert, rtol=1e-5)
