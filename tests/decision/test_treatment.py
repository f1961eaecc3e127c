"""Learning purchase and dropout effects from an experiment's transaction log."""

import numpy as np
import pandas as pd
import pytest

from bayesclv.actions import Action, Effect
from bayesclv.data import ColumnMap
from bayesclv.decision.treatment import learn_effect_from_log, treated_histories
from bayesclv.errors import DataError, SpecError
from bayesclv.simulate import HierarchicalTruth, simulate_experiment

END = "2024-03-01"


def hand_log():
    rows = [("a", "2024-01-01"), ("a", "2024-01-10"), ("a", "2024-02-01"), ("a", "2024-02-05"),
            ("b", "2024-01-15"), ("b", "2024-01-20"),
            ("c", "2024-01-03"), ("c", "2024-02-10"),
            ("d", "2024-01-04"),
            ("e", "2024-01-05"), ("e", "2024-01-06"),
            ("f", "2024-01-02"), ("f", "2024-03-01")]
    return pd.DataFrame({"customer_id": [r[0] for r in rows],
                         "date": pd.to_datetime([r[1] for r in rows]),
                         "amount": 10.0 + np.arange(len(rows))})


def hand_assignment(**changes):
    table = pd.DataFrame({"customer_id": ["a", "b", "c", "e", "f"],
                          "treated": pd.Series([1, 1, 0, 1, 0], dtype=object),
                          "treated_on": ["2024-02-01", "2024-01-15", "", "2024-02-20", None]})
    for column, (row, value) in changes.items():
        table.loc[row, column] = value
    return table


def test_histories_count_purchases_from_the_day_of_the_action():
    histories, arm = treated_histories(hand_log(), hand_assignment(), end=END)
    frame = histories.summary.frame
    ids = list(frame.index.astype(str))
    got = pd.DataFrame({"treated": histories.treated, "tau_days": histories.tau * 7,
                        "x_post": histories.x_post, "arm": arm,
                        "n_spend_post": histories.n_spend_post,
                        "spend_post": histories.spend_post}, index=ids)
    # a: first 01-01, action 02-01 → τ = 30 days (the start of 02-01), purchases 02-01 (12)
    # and 02-05 (13) after it
    # b: action on the first purchase's day → τ = 0, every repeat purchase after it (15)
    # e: action 02-20, first 01-05 → τ = 45 days, no purchase after
    assert got.loc["a"].tolist() == [True, 30.0, 2, 1, 2, pytest.approx(25.0)]
    assert got.loc["b"].tolist() == [True, 0.0, 1, 1, 1, pytest.approx(15.0)]
    assert got.loc["e"].tolist() == [True, 45.0, 0, 1, 0, 0.0]
    assert got.loc["c", "arm"] == 0 and got.loc["f", "arm"] == 0
    assert got.loc["d", "arm"] == -1 and not got.loc["d", "treated"]
    assert np.isnan(got.loc["c", "tau_days"])


@pytest.mark.parametrize(("changes", "message"), [
    ({"treated_on": (2, "2024-02-01")}, r"row 2 \('c'\) = '2024-02-01' is given for a control"),
    ({"treated_on": (0, "")}, r"row 0 \('a'\) = '' is empty for a treated customer"),
    ({"treated_on": (0, "soon")}, r"row 0 \('a'\) = 'soon' is not a date"),
    ({"treated_on": (0, "2024-03-02")}, "is after the last observed day 2024-03-01"),
    ({"treated": (1, "yes")}, r"column 'treated' row 1 \('b'\) is 'yes'"),
    ({"customer_id": (1, "a")}, "customer 'a' appears more than once"),
    ({"customer_id": (1, "zz")}, "customer 'zz' has no purchase in the log"),
    ({"treated_on": (3, "2024-01-01")}, "customer 'e' is treated on 2024-01-01, before their "
                                        "first purchase on 2024-01-05"),
])
def test_bad_assignments_are_named(changes, message):
    with pytest.raises(DataError, match=message):
        treated_histories(hand_log(), hand_assignment(**changes), end=END)


def test_an_experiment_needs_both_arms_and_its_columns():
    only_treated = hand_assignment().query("treated == 1")
    with pytest.raises(DataError, match="no control customers"):
        treated_histories(hand_log(), only_treated, end=END)
    with pytest.raises(DataError, match="column 'treated_on' not found"):
        treated_histories(hand_log(), hand_assignment().drop(columns="treated_on"), end=END)


def test_a_purchase_after_the_end_is_refused():
    with pytest.raises(DataError, match="observation_end"):
        treated_histories(hand_log(), hand_assignment(), end="2024-02-29")


@pytest.mark.slow
def test_effects_learned_from_the_log_cover_the_truth_jointly():
    truth = HierarchicalTruth.from_frame("pareto_nbd", pd.DataFrame(
        {"r": [0.55], "alpha": [10.6], "s": [0.61], "beta": [11.7], "p": [6.25], "q": [3.74],
         "gamma": [15.4]}, index=["all"]))
    world = simulate_experiment(truth, 8000, purchase_factor=1.0, dropout_factor=0.6,
                                spend_factor=0.85, seed=1)
    action = Action("offer", cost=1.0, effects=(Effect("dropout_rate", -0.5, 0.1),))
    learned = learn_effect_from_log(action, world.transactions, world.assignment,
                                    end=world.end, draws=500, tune=500, seed=1)
    assert learned.convergence.ok and learned.spend_convergence.ok
    table = learned.summary().set_index("process")
    for process, truth_change in (("dropout_rate", -0.4), ("purchase_rate", 0.0)):
        assert table.loc[process, "low"] < truth_change < table.loc[process, "high"]
    # the spend effect's interval is not yet calibrated over replications (docs/experiments.md):
    # here only its size and sign, against a posterior sd of about 0.012
    assert table.loc["spend", "mean"] == pytest.approx(-0.15, abs=0.05)
    effects = {e.process: e for e in learned.action.effects}
    assert effects["dropout_rate"].joint == effects["purchase_rate"].joint is not None
    assert effects["dropout_rate"].high - effects["dropout_rate"].low < 0.6 * (0.1 + 0.5)


def test_segments_get_their_own_jointly_drawn_effects(monkeypatch):
    import pymc as pm
    import xarray as xr

    import bayesclv.decision.treatment as treatment

    def prior_draws(model, sampler, progress):
        """Prior draws in the shape of a posterior: the wiring, without a sampler."""
        with model:
            prior = pm.sample_prior_predictive(draws=50, random_seed=1)["prior"].to_dataset()
        prior = prior.expand_dims(chain=[0]) if "chain" not in prior.dims else prior
        shape = {"chain": prior.sizes["chain"], "draw": prior.sizes["draw"]}
        stats = xr.Dataset({"diverging": xr.DataArray(np.zeros(tuple(shape.values()), bool),
                                                      dims=tuple(shape)),
                            "energy": xr.DataArray(np.arange(50.0)[None, :], dims=tuple(shape))})
        return xr.DataTree.from_dict({"posterior": prior, "sample_stats": stats})

    monkeypatch.setattr(treatment, "sample_nuts", prior_draws)
    log = hand_log().assign(segment=lambda f: np.where(f["customer_id"] < "c", "x", "y"))
    action = Action("offer", cost=1.0, effects=(Effect("dropout_rate", -0.5, 0.1),))
    learned = learn_effect_from_log(action, log, hand_assignment(), end=END,
                                    columns=ColumnMap(segment="segment"))
    assert set(learned.segment_effects) == {"x", "y"}
    assert set(learned.effects) == {"purchase_rate", "dropout_rate", "spend"}
    joint = learned.effects["dropout_rate"].joint
    overrides = learned.action.segment_effects
    assert {e.process: e.joint for e in overrides["y"]} == {
        "purchase_rate": joint, "dropout_rate": joint, "spend": None}
    np.testing.assert_array_equal(
        overrides["x"][1].samples,
        np.expm1(learned.posterior["posterior"]["log_f_dropout"].values[..., 0].ravel()))
    table = learned.summary()
    assert list(table["segment"].unique()) == ["all", "x", "y"] and len(table) == 9


@pytest.mark.parametrize(("timezone", "tau_days"), [("UTC", 31.0), ("America/New_York", 30.0)])
def test_an_action_time_with_an_offset_falls_on_its_day_in_the_reference_zone(timezone,
                                                                              tau_days):
    # 23:30 in New York on 1 February is 04:30 on 2 February in UTC
    assignment = hand_assignment(treated_on=(0, "2024-02-01T23:30:00-05:00"))
    histories, _ = treated_histories(hand_log(), assignment, end=END, timezone=timezone)
    ids = list(histories.summary.frame.index.astype(str))
    assert histories.tau[ids.index("a")] * 7 == pytest.approx(tau_days)
    # the purchase on 1 February counts after the action only where it was that day
    assert histories.x_post[ids.index("a")] == (2 if tau_days == 30.0 else 1)


def test_spend_needs_amounts():
    action = Action("offer", cost=1.0, effects=(Effect("dropout_rate", -0.5, 0.1),))
    with pytest.raises(SpecError, match="spend=True needs the log's amounts"):
        learn_effect_from_log(action, hand_log(), hand_assignment(), end=END,
                              columns=ColumnMap(amount=None))


def test_bad_sampler_settings_are_named():
    action = Action("offer", cost=1.0, effects=(Effect("dropout_rate", -0.5, 0.1),))
    with pytest.raises(SpecError, match="'sampler.draws' must be a whole number ≥ 1, got 0"):
        learn_effect_from_log(action, hand_log(), hand_assignment(), end=END, draws=0)
