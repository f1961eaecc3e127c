"""The experiment simulator against its own definition: eligibility, assignment, the factors."""

import numpy as np
import pandas as pd
import pytest

from bayesclv.errors import SpecError
from bayesclv.simulate import HierarchicalTruth, simulate_experiment

CDNOW = pd.DataFrame({"r": [0.55], "alpha": [10.6], "s": [0.61], "beta": [11.7], "p": [6.25],
                      "q": [3.74], "gamma": [15.4]}, index=["all"])
TRUTH = HierarchicalTruth.from_frame("pareto_nbd", CDNOW)


@pytest.fixture(scope="module")
def world():
    return simulate_experiment(TRUTH, 20_000, purchase_factor=2.0, dropout_factor=0.5,
                               seed=11)


def test_eligible_are_exactly_the_customers_active_in_the_last_weeks(world):
    log = world.transactions
    cutoff = world.treated_on - pd.Timedelta(weeks=13)
    recent = log[(log["date"] >= cutoff) & (log["date"] < world.treated_on)]
    assert set(world.assignment["customer_id"]) == set(recent["customer_id"])


def test_half_of_the_eligible_are_treated_on_the_experiment_day(world):
    table = world.assignment
    share = table["treated"].mean()
    assert abs(share - 0.5) < 3 * np.sqrt(0.25 / len(table))
    assert (table.loc[table["treated"], "treated_on"] == world.treated_on).all()
    assert table.loc[~table["treated"], "treated_on"].isna().all()


def test_remaining_lifetimes_are_exponential_at_the_changed_dropout_rate(world):
    customers = world.customers
    first = pd.DatetimeIndex(customers["first_date"].values)
    tau = ((world.treated_on - first).days.to_numpy() - 1) / 7
    alive = customers["dropout_time"].values > tau
    for treated, factor in ((True, world.dropout_factor), (False, 1.0)):
        pick = alive & (customers["treated"].values == treated) & customers["eligible"].values
        hazard = (customers["dropout_time"].values[pick] - tau[pick]) * factor \
            * customers["mu"].values[pick]
        # Exp(1): mean 1, standard error 1/sqrt(n)
        assert abs(hazard.mean() - 1.0) < 4 / np.sqrt(pick.sum())


def test_treated_buy_at_the_changed_rate_while_alive(world):
    log, customers = world.transactions, world.customers
    after = log[log["date"] >= world.treated_on]
    ids = customers["customer"].values
    purchases = after.groupby("customer_id").size().reindex(ids, fill_value=0).to_numpy()
    # on each customer's clock (weeks since the end of the first purchase day)
    first = pd.DatetimeIndex(customers["first_date"].values)
    tau = ((world.treated_on - first).days.to_numpy() - 1) / 7
    window = ((world.end - first).days.to_numpy()) / 7
    exposure = np.clip(np.minimum(customers["dropout_time"].values, window) - tau, 0.0, None)
    for treated, factor in ((True, world.purchase_factor), (False, 1.0)):
        pick = customers["eligible"].values & (customers["treated"].values == treated)
        expected = (factor * customers["lambda"].values[pick] * exposure[pick]).sum()
        # Poisson total, a little less after merging same-day purchases
        assert purchases[pick].sum() == pytest.approx(expected, rel=0.05)


def test_same_seed_same_experiment():
    a = simulate_experiment(TRUTH, 500, dropout_factor=0.6, seed=3)
    b = simulate_experiment(TRUTH, 500, dropout_factor=0.6, seed=3)
    pd.testing.assert_frame_equal(a.transactions, b.transactions)
    pd.testing.assert_frame_equal(a.assignment, b.assignment)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"dropout_factor": 0.0}, "dropout_factor must be a finite number > 0"),
    ({"treated_share": 1.0}, "treated_share must be in"),
    ({"acquisition_weeks": 30}, "acquisition_weeks <= history_weeks"),
])
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(SpecError, match=message):
        simulate_experiment(TRUTH, 100, **kwargs)


def test_only_pareto_nbd():
    bg = HierarchicalTruth.from_frame("bg_nbd", CDNOW.rename(columns={"s": "a", "beta": "b"}))
    with pytest.raises(SpecError, match="needs a Pareto/NBD truth"):
        simulate_experiment(bg, 100)


def test_treated_spend_scales_by_the_spend_factor_after_the_experiment():
    world = simulate_experiment(TRUTH, 20_000, spend_factor=1.5, seed=4)
    log = world.transactions
    treated = set(world.assignment.loc[world.assignment["treated"], "customer_id"])
    control = set(world.assignment.loc[~world.assignment["treated"], "customer_id"])
    after = log[log["date"] >= world.treated_on]
    ratio = (after[after["customer_id"].isin(treated)]["amount"].mean()
             / after[after["customer_id"].isin(control)]["amount"].mean())
    # per-purchase means of two arms drawn from the same customers' distribution
    assert ratio == pytest.approx(1.5, rel=0.1)
    same = simulate_experiment(TRUTH, 500, seed=4)
    again = simulate_experiment(TRUTH, 500, spend_factor=1.0, seed=4)
    pd.testing.assert_frame_equal(same.transactions, again.transactions)
