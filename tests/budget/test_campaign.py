"""Campaign simulation: per-draw totals by hand, risk summaries, breakdowns, errors."""

import arviz as az
import numpy as np
import pytest

from bayesclv.budget import CampaignOutcome, allocate, simulate_campaign
from bayesclv.errors import DataError

NAN = np.nan


@pytest.fixture
def tiny(from_draws):
    """3 customers, 4 draws; a0 costs 1, a1 costs 2 plus 3 to open."""
    values = np.array([
        # draws of (a0, a1) per customer
        [[4, -2, 6, 0], [10, -4, 8, 10]],   # c0, segment n: means 2 and 6
        [[1, 1, 1, 1], [-5, -5, 3, 3]],     # c1, segment s: means 1 and −1
        [[3, -9, 3, 3], [NAN] * 4],         # c2, segment n: mean 0; not eligible for a1
    ], dtype=float).transpose(2, 0, 1)[None]
    eligible = np.array([[True, True], [True, True], [True, False]])
    return from_draws(values, [1.0, 2.0], [0.0, 3.0], segments=["n", "s", "n"],
                      eligible=eligible)


def test_totals_equal_the_hand_computation(tiny):
    plan = allocate(tiny, 100.0)
    # c0 → a1 (6 − 3 to open beats a0's 2), c1 → a0, c2 → nothing (mean 0).
    assert list(plan.table["action"]) == ["a1", "a0", "do_nothing"]
    assert plan.spent == 2 + 1 + 3
    outcome = simulate_campaign(tiny, plan)
    assert isinstance(outcome, CampaignOutcome)
    value = np.array([10 + 1 - 3, -4 + 1 - 3, 8 + 1 - 3, 10 + 1 - 3], dtype=float)
    np.testing.assert_array_equal(outcome.draws["value"].values[0], value)
    np.testing.assert_array_equal(outcome.draws["roi"].values[0], value / 6)
    summary = outcome.summary
    assert summary["customers_targeted"] == 2
    assert summary["cost"] == 6.0 and summary["fixed_cost"] == 3.0
    assert summary["value_mean"] == 4.0
    assert summary["roi_mean"] == pytest.approx(4.0 / 6)
    assert summary["p_roi_negative"] == 0.25            # one draw of four loses money
    assert summary["expected_loss"] == 6.0 / 4
    assert summary.attrs["currency"] == "EUR"


def test_breakdowns_by_segment_and_action(tiny):
    outcome = simulate_campaign(tiny, allocate(tiny, 100.0))
    seg = outcome.by_segment
    assert list(seg.index) == ["n", "s"]
    assert list(seg["customers_targeted"]) == [1, 1]
    assert list(seg["cost"]) == [2.0, 1.0]              # fixed costs are not attributed
    assert list(seg["value_mean"]) == [6.0, 1.0]
    act = outcome.by_action
    assert list(act.index) == ["a0", "a1"]
    assert list(act["customers_targeted"]) == [1, 1]
    assert list(act["cost"]) == [1.0, 5.0] and list(act["fixed_cost"]) == [0.0, 3.0]
    assert list(act["value_mean"]) == [1.0, 3.0]
    assert act["value_hdi_90%_low"].iloc[1] == -7.0    # the a1 draws are 7, −7, 5, 7


def test_intervals_come_from_summed_draws(make_values):
    values = make_values(120, seed=5)
    plan = allocate(values, 200.0)
    outcome = simulate_campaign(values, plan, hdi_prob=0.8)
    low, high = az.hdi(outcome.draws["value"], prob=0.8).values
    assert outcome.summary["value_hdi_80%_low"] == pytest.approx(low)
    assert outcome.summary["value_hdi_80%_high"] == pytest.approx(high)
    # The parts add up draw by draw, so their means add up to the total's.
    assert outcome.by_action["value_mean"].sum() == pytest.approx(outcome.summary["value_mean"])
    assert (outcome.by_segment["value_mean"].sum() - plan.fixed_costs.sum()
            == pytest.approx(outcome.summary["value_mean"]))
    assert outcome.by_segment["customers_targeted"].sum() == plan.n_targeted
    assert "value_hdi_90%_low" in simulate_campaign(values, plan).summary.index


def test_p_roi_negative_matches_a_count(make_values):
    values = make_values(40, seed=6, n_chains=2, n_draws=100)
    # A shock shared by every customer in a draw (say, the economy): totals can go negative.
    shock = np.random.default_rng(0).normal(0.0, 30.0, (2, 100, 1, 1))
    values["incremental_value"] = values["incremental_value"] + (shock - shock.mean())
    plan = allocate(values, 60.0)
    outcome = simulate_campaign(values, plan)
    chosen = plan.table[plan.table["action"] != "do_nothing"]
    total = sum(values["incremental_value"].sel(customer=c, action=a).values
                for c, a in zip(chosen.index, chosen["action"], strict=True))
    total = total - plan.fixed_costs.sum()
    assert outcome.summary["p_roi_negative"] == np.count_nonzero(total < 0) / total.size
    assert 0 < outcome.summary["p_roi_negative"] < 1


def test_free_campaign_has_no_roi_but_a_value(from_draws):
    values = from_draws(np.array([[[[1.0], [2.0]], [[-1.0], [4.0]]]]), [0.0])
    outcome = simulate_campaign(values, allocate(values, 1.0))
    assert outcome.summary["cost"] == 0.0
    assert np.isnan(outcome.draws["roi"]).all()
    assert outcome.summary["value_mean"] == 3.0
    assert outcome.summary["p_roi_negative"] == 0.0


def test_allocation_from_other_values_is_refused(make_values):
    plan = allocate(make_values(30, seed=1), 50.0)
    with pytest.raises(DataError, match="not in the action values"):
        simulate_campaign(make_values(20, seed=1), plan)


def test_segments_are_reported_in_the_fits_order(tiny):
    tiny.attrs["segments"] = ["s", "n"]  # as action_values records the fit's order
    outcome = simulate_campaign(tiny, allocate(tiny, 100.0))
    assert list(outcome.by_segment.index) == ["s", "n"]  # customers list n first
