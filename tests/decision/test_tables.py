"""Decision tables on hand-built draws: every number checked against a hand computation."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayesclv.actions import Action, Effect, Eligibility
from bayesclv.decision import action_values, best_actions, decision_table, segment_decisions


@pytest.fixture
def values():
    """3 customers (segments a, a, b) × 2 actions × 1 chain of 4 draws; c3 not eligible for B."""
    v = np.array([
        # draw × customer × action
        [[4.0, 1.0], [-2.0, -1.0], [1.0, np.nan]],
        [[2.0, 1.0], [-2.0, -3.0], [3.0, np.nan]],
        [[-1.0, 1.0], [-2.0, -1.0], [-1.0, np.nan]],
        [[3.0, 1.0], [-2.0, -3.0], [1.0, np.nan]],
    ])[None]
    customers = {"customer": ["c1", "c2", "c3"], "segment": ("customer", ["a", "a", "b"])}
    actions = {"action": ["A", "B"], "cost": ("action", [1.0, 0.5]),
               "fixed_cost": ("action", [0.0, 10.0]), "description": ("action", ["", ""])}
    dims = ("chain", "draw", "customer", "action")
    return xr.Dataset(
        {
            "incremental_value": (dims, v),
            "baseline_clv": (("chain", "draw", "customer"), np.full((1, 4, 3), 20.0)),
            "eligible": (("customer", "action"), ~np.isnan(v[0, 0])),
        },
        coords={"chain": [0], "draw": np.arange(4), **customers, **actions},
        attrs={"hdi_prob": 0.5},
    )


def test_decision_table_numbers(values):
    table = decision_table(values)
    assert len(table) == 5  # c3 is not eligible for B
    row = table.loc[("c1", "A")]
    assert row["value_mean"] == 2.0
    assert row["p_positive"] == 0.75
    assert row["expected_loss"] == 0.25  # one draw of -1 among four
    assert "value_hdi_50%_low" in table.columns
    assert table.loc[("c1", "A"), "rank"] == 1 and table.loc[("c1", "B"), "rank"] == 2
    assert not table.loc[("c2", "A"), "worth_it"]


def test_risk_aware_ranking_can_flip_the_choice(values):
    assert best_actions(values).loc["c1", "best_action"] == "A"  # mean 2 vs 1
    assert best_actions(values, criterion="quantile").loc["c1", "best_action"] == "B"


def test_best_action_is_do_nothing_when_nothing_pays(values):
    best = best_actions(values)
    assert best.loc["c2", "best_action"] == "do_nothing"
    assert best.loc["c2", "value_mean"] == 0.0
    assert best.loc["c3", "best_action"] == "A" and best.loc["c3", "value_mean"] == 1.0
    assert best.loc["c1", "runner_up"] == "B"
    assert best.loc["c1", "baseline_clv_mean"] == 20.0


def test_segment_totals_come_from_summed_draws(values):
    table = segment_decisions(values)
    a = table.loc[("a", "A")]
    # Segment a, action A: per-draw totals 2, 0, -3, 1.
    assert a["value_mean"] == 0.0
    assert a["p_positive"] == 0.5
    assert a["expected_loss"] == 0.75
    assert a["n_eligible"] == 2 and a["cost_total"] == 2.0
    assert table.loc[("b", "B"), "n_eligible"] == 0
    portfolio = table.loc[("portfolio", "A")]
    assert portfolio["value_mean"] == 1.0  # per-draw totals 3, 3, -4, 2
    assert portfolio["n_best"] == 2
    assert table.loc[("portfolio", "B"), "fixed_cost"] == 10.0


def test_chunks_change_no_number(cdnow, spec_factory, fit_factory):
    fit = fit_factory(spec_factory("pareto_nbd"), draws=60, summary=cdnow)
    actions = [Action("call", 2.0, (Effect("dropout_rate", -0.3, -0.1),)),
               Action("coupon", 1.0, (Effect("purchase_rate", 0.05, 0.2),),
                      eligibility=Eligibility(p_alive=(0.3, 1.0)))]
    values = action_values(fit, cdnow, actions, seed=2)
    # 777 customers' (or options') worth at a time; the second case has one action
    for subset, rule in ((values, "mean"), (values.isel(action=[1]), "cvar")):
        for table in (decision_table, segment_decisions):
            pd.testing.assert_frame_equal(table(subset, criterion=rule, chunk_size=777),
                                          table(subset, criterion=rule, chunk_size=10**6),
                                          check_exact=True)
