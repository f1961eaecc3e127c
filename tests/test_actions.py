"""Actions, effects, eligibility and budgets as specs: parsing, distributions, bad fields."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from bayesclv.actions import Action, BudgetSpec, Effect, Eligibility
from bayesclv.errors import SpecError
from bayesclv.spec import ModelSpec, load_spec

MODELS = Path(__file__).resolve().parents[1] / "models"


def spec_with(actions=None, budget=None):
    raw = {"model": {"name": "t"}, "data": {"source": "x.csv", "calibration_end": "1997-09-30"}}
    if actions is not None:
        raw["actions"] = actions
    if budget is not None:
        raw["budget"] = budget
    return ModelSpec.from_dict(raw)


def action(**fields):
    return {"name": "a", "cost": 2.0, "effects": {"dropout_rate": [-0.3, -0.1]}, **fields}


def test_shipped_playbook_parses_with_units_and_survives_json():
    spec = load_spec(MODELS / "cdnow.toml")
    names = [a.name for a in spec.actions]
    assert names == ["loyalty_programme", "targeted_discount", "service_call", "win_back"]
    win_back = spec.actions[3]
    assert win_back.eligibility.recency_weeks == (13.0, math.inf)
    assert win_back.effects_for("all")["reactivation"].is_probability
    assert spec.budget == BudgetSpec(amount=3000.0)
    # Fit.save stores the spec as JSON: infinite bands must come back.
    again = ModelSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again.actions == spec.actions and again.budget == spec.budget


def test_segment_overrides_replace_only_their_process():
    spec = spec_with([action(effects={"dropout_rate": [-0.3, -0.1], "spend": [0.0, 0.1]},
                             segment_effects={"vip": {"dropout_rate": [-0.5, -0.2]}})])
    chosen = spec.actions[0].effects_for("vip")
    assert (chosen["dropout_rate"].low, chosen["dropout_rate"].high) == (-0.5, -0.2)
    assert chosen["spend"].high == 0.1
    assert spec.actions[0].effects_for("other")["dropout_rate"].low == -0.3


def test_relative_effect_is_lognormal_with_the_stated_90_percent_range():
    effect = Effect("dropout_rate", -0.30, -0.10)
    factors = effect.draw(200_000, np.random.default_rng(0))
    np.testing.assert_allclose(np.quantile(factors - 1.0, [0.05, 0.95]), [-0.30, -0.10],
                               atol=2e-3)
    mean, sd = effect.normal()
    assert mean == pytest.approx(0.5 * (np.log(0.7) + np.log(0.9)))
    assert sd == pytest.approx((np.log(0.9) - np.log(0.7)) / (2 * stats.norm.ppf(0.95)))


def test_reactivation_is_a_logit_normal_probability():
    draws = Effect("reactivation", 0.02, 0.12).draw(200_000, np.random.default_rng(1))
    assert draws.min() > 0 and draws.max() < 1
    np.testing.assert_allclose(np.quantile(draws, [0.05, 0.95]), [0.02, 0.12], rtol=0.02)


def test_known_effect_and_learned_samples():
    assert np.all(Effect("spend", 0.1, 0.1).draw(10, np.random.default_rng(0)) == 1.1)
    samples = np.linspace(-0.2, 0.0, 101)
    learned = Effect.from_samples("purchase_rate", samples, source="experiment")
    assert (learned.low, learned.high) == pytest.approx((-0.19, -0.01))
    drawn = learned.draw(1000, np.random.default_rng(2)) - 1.0
    assert np.all(np.isin(np.round(drawn, 12), np.round(samples, 12)))


def test_with_effect_replaces_everywhere_or_in_one_segment():
    base = Action("a", 1.0, (Effect("dropout_rate", -0.3, -0.1), Effect("spend", 0.0, 0.1)))
    new = Effect("dropout_rate", -0.2, -0.2, source="test")
    assert base.with_effect(new).effects_for("x")["dropout_rate"] is new
    assert base.with_effect(new).effects_for("x")["spend"].high == 0.1
    one = base.with_effect(new, segment="vip")
    assert one.effects_for("vip")["dropout_rate"] is new
    assert one.effects_for("x")["dropout_rate"].low == -0.3


@pytest.mark.parametrize(("bad", "message"), [
    (action(cost=-1.0), "field 'cost' must be a finite amount >= 0"),
    (action(fixed_cost=-5), "field 'fixed_cost'"),
    (action(cost=True), "field 'cost' must be a"),
    (action(effects={"dropout_rate": [-1.2, -0.1]}), "impossible: a relative change of -120%"),
    (action(effects={"dropout_rate": [-0.1, -0.3]}), "low end is above the high end"),
    (action(effects={"reactivation": [0.0, 0.3]}), "0 < low <= high < 1"),
    (action(effects={"dropot_rate": [-0.1, 0.0]}), "did you mean 'effects.dropout_rate'"),
    (action(effects={"spend": 0.1}), "field 'effects.spend' must be a range [low, high]"),
    (action(effects={}), "field 'effects' is empty"),
    (action(name="do_nothing"), "reserved for the baseline"),
    (action(costs=1.0), "unknown field 'costs'; did you mean 'cost'?"),
    (action(eligibility={"p_alive": [0.2, 1.5]}), "field 'eligibility.p_alive'"),
    (action(eligibility={"segments": []}), "would select nobody"),
    (action(eligibility={"recency": [0, 4]}), "did you mean 'eligibility.recency_weeks'"),
    ({"cost": 1.0, "effects": {"spend": [0, 0.1]}}, "field 'name' is required"),
])
def test_bad_action_fields_are_named(bad, message):
    with pytest.raises(SpecError, match="actions #1") as err:
        spec_with([bad])
    assert message in str(err.value)


def test_duplicate_action_names_are_refused():
    with pytest.raises(SpecError, match=r"name\(s\) \['a'\] used more than once"):
        spec_with([action(), action()])


@pytest.mark.parametrize(("budget", "message"), [
    ({"amount": 0}, "field 'budget.amount' must be a positive amount, got 0"),
    ({"amount": -10.0}, "field 'budget.amount'"),
    ({}, "field 'budget.amount' is required"),
    ({"amount": 100, "criterion": "median"}, "field 'budget.criterion' = 'median'"),
    ({"amount": 100, "method": "optimal"}, "field 'budget.method'"),
    ({"amount": 100, "curve_points": 1}, "field 'budget.curve_points'"),
    ({"amount": 100, "amont": 1}, "did you mean 'budget.amount'"),
])
def test_bad_budget_fields_are_named(budget, message):
    with pytest.raises(SpecError) as err:
        spec_with(budget=budget)
    assert message in str(err.value)


def test_python_objects_validate_like_the_toml():
    with pytest.raises(SpecError, match="field 'eligibility.clv'"):
        Eligibility(clv=(10.0, 5.0))
    with pytest.raises(SpecError, match="field 'budget.amount'"):
        BudgetSpec(amount=float("inf"))
    with pytest.raises(SpecError, match="unknown effect 'churn'"):
        Effect("churn", -0.2, -0.1)


def test_a_joint_label_needs_samples_and_one_sample_count():
    with pytest.raises(SpecError, match="joint label but no samples"):
        Effect("dropout_rate", -0.3, -0.1, joint="fit")
    with pytest.raises(SpecError, match="same number of samples, got 3 and 2"):
        Action("offer", cost=1.0, effects=(
            Effect.from_samples("dropout_rate", [-0.1, -0.2, -0.3], "fit", joint="fit"),
            Effect.from_samples("purchase_rate", [0.1, 0.2], "fit", joint="fit")))
