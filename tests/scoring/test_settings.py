"""Money and time settings: the horizon cut into periods, each with its discount factor."""

import numpy as np
import pytest

from bayesclv.errors import SpecError
from bayesclv.scoring.settings import value_settings
from bayesclv.spec import ValueSpec

WEEKS_PER_MONTH = 30.4375 / 7


def test_quarters_end_at_the_horizon_and_are_discounted_at_their_end():
    settings = value_settings(ValueSpec(annual_discount_rate=0.10, horizon_months=10,
                                        period="quarter"), "weeks")
    np.testing.assert_allclose(settings.boundaries, np.array([3, 6, 9, 10]) * WEEKS_PER_MONTH)
    np.testing.assert_allclose(settings.discount, 1.1 ** -(np.array([3, 6, 9, 10]) / 12))
    assert settings.n_periods == 4 and settings.horizon == pytest.approx(10 * WEEKS_PER_MONTH)


def test_mid_period_convention_in_days():
    settings = value_settings(ValueSpec(annual_discount_rate=0.21, horizon_months=2), "days",
                              "mid")
    np.testing.assert_allclose(settings.boundaries, [30.4375, 60.875])
    np.testing.assert_allclose(settings.discount, 1.21 ** -(np.array([0.5, 1.5]) / 12))
    assert settings.attrs()["time_unit"] == "days" and "period mid" in settings.attrs()[
        "discounting"]


def test_unknown_time_unit_or_convention_is_named():
    with pytest.raises(SpecError, match="time_unit='months'"):
        value_settings(ValueSpec(), "months")
    with pytest.raises(SpecError, match="convention='start'"):
        value_settings(ValueSpec(), "weeks", "start")
