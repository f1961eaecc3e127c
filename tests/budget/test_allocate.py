"""Allocation: the greedy's gap to the optimum, budget and sign guarantees, the result, errors."""

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bayesclv.budget import Allocation, allocate
from bayesclv.budget.allocate import allocate_options
from bayesclv.budget.options import scored_options
from bayesclv.decision.criteria import Criterion
from bayesclv.errors import SpecError

from .conftest import build_action_values, random_action_values


def random_case(rng: np.random.Generator, n_low: int, n_high: int, case: int):
    """Random options (2–4 actions, every third case with fixed costs) and a budget at
    10–90 % of the cost of buying every customer's dearest positive option."""
    n_actions = int(rng.integers(2, 5))
    cost = np.round(rng.uniform(1, 20, n_actions), 2)
    fixed = None
    if case % 3 == 0:
        fixed = np.where(rng.random(n_actions) < 0.5,
                         np.round(rng.uniform(5, 60, n_actions), 2), 0.0)
    values = random_action_values(int(rng.integers(n_low, n_high + 1)), cost, fixed,
                                  seed=int(rng.integers(2**31)), n_chains=1, n_draws=4)
    options = scored_options(values)
    return options, options.full_cost() * rng.uniform(0.1, 0.9)


def test_greedy_is_within_one_option_of_the_optimum():
    # The documented bound, on small cases where the relative gap can be large.
    rng = np.random.default_rng(20)
    for case in range(100):
        options, budget = random_case(rng, 20, 200, case)
        greedy = allocate_options(options, budget, "greedy")
        exact = allocate_options(options, budget, "exact")
        largest = np.nanmax(np.where(options.positive, options.score.values, np.nan))
        assert -1e-9 <= exact.objective - greedy.objective < largest


def test_greedy_is_within_one_percent_of_the_optimum_on_hundreds_of_customers():
    # With 300–500 customers (>= ~50 targeted at 10 % of the full cost) the gap is far
    # below 1 %: 0.32 % at worst over 300 such cases (docs/budget.md). With a few dozen
    # customers and a 10 % budget it can exceed 1 % (one option is a large share).
    rng = np.random.default_rng(21)
    gaps = []
    for case in range(30):
        options, budget = random_case(rng, 300, 500, case)
        greedy = allocate_options(options, budget, "greedy").objective
        exact = allocate_options(options, budget, "exact").objective
        gaps.append((exact - greedy) / exact)
    assert max(gaps) < 0.01
    assert min(gaps) > -1e-9


@st.composite
def problems(draw):
    n_customers = draw(st.integers(1, 12))
    n_actions = draw(st.integers(1, 4))
    money = st.sampled_from([0.0, 0.1, 0.2, 0.3, 0.7, 1.0, 2.35, 3.0, 9.99])
    cost = draw(st.lists(money, min_size=n_actions, max_size=n_actions))
    fixed = draw(st.lists(money, min_size=n_actions, max_size=n_actions))
    means = draw(st.lists(st.floats(-3, 10), min_size=n_customers * n_actions,
                          max_size=n_customers * n_actions))
    budget = draw(st.one_of(st.sampled_from([0.1, 0.3, 0.6, 1.0, 2.35, 4.7]),
                            st.floats(1e-3, 50.0)))
    values = build_action_values(np.reshape(means, (1, 1, n_customers, n_actions)), cost,
                                 fixed)
    return scored_options(values), budget


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.sampled_from(["greedy", "exact"]))
def test_budget_is_respected_and_only_positive_options_are_chosen(problem, method):
    options, budget = problem
    plan = allocate_options(options, budget, method)
    assert plan.spent <= budget
    targeted = plan.table[plan.table["action"] != "do_nothing"]
    assert (targeted["score"] > 0).all()
    assert plan.objective >= 0.0


def test_a_negative_action_is_never_chosen(from_draws):
    rng = np.random.default_rng(3)
    # a1 is free, often positive in a draw, but its posterior mean is below zero.
    means = np.column_stack([rng.uniform(1, 10, 50), rng.uniform(-10, -0.01, 50)])
    noise = rng.normal(0, 3, (2, 30, 50, 2))
    values = from_draws(means + noise - noise.mean(axis=(0, 1)), [1.0, 0.0])
    for method in ("greedy", "exact"):
        for budget in (5.0, 25.0, 1e6):
            plan = allocate(values, budget, method=method)
            assert "a1" not in set(plan.table["action"])


def test_allocation_table_choice_and_totals(make_values):
    values = make_values(60, (2.0, 5.0), (0.0, 20.0), seed=4)
    plan = allocate(values, 150.0)
    assert isinstance(plan, Allocation)
    assert list(plan.table.columns) == ["segment", "action", "cost", "score"]
    assert plan.table.index.name == "customer"
    assert (plan.table["segment"].to_numpy() == values["segment"].values).all()
    nothing = plan.table["action"] == "do_nothing"
    assert (plan.table.loc[nothing, ["cost", "score"]] == 0).all().all()
    assert plan.spent == pytest.approx(plan.table["cost"].sum() + plan.fixed_costs.sum())
    assert plan.objective == pytest.approx(plan.table["score"].sum() - plan.fixed_costs.sum())
    assert (plan.budget, plan.criterion, plan.method, plan.currency) == (
        150.0, "mean", "greedy", "EUR")
    choice = plan.choice()
    assert isinstance(choice, xr.DataArray) and choice.dims == ("customer",)
    assert (choice.sel(customer="c00003").item()
            == plan.table.loc["c00003", "action"])
    assert (choice["segment"].values == values["segment"].values).all()


def test_risk_aware_criterion_avoids_the_uncertain_option(from_draws):
    # a0: sure 3; a1: mean 5 but often a loss. Both cost 1, one customer.
    rng = np.random.default_rng(0)
    draws = np.stack([np.full(2000, 3.0), 5.0 + 8.0 * rng.standard_normal(2000)], axis=-1)
    values = from_draws(draws.reshape(1, 2000, 1, 2), [1.0, 1.0])
    assert allocate(values, 10.0).table["action"].item() == "a1"
    cautious = allocate(values, 10.0, criterion=Criterion("quantile", 0.1))
    assert cautious.table["action"].item() == "a0"
    assert cautious.criterion == "quantile_10%"


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"budget": 0.0}, r"budget\.amount"),
    ({"budget": float("inf")}, r"budget\.amount"),
    ({"budget": 10.0, "method": "dp"}, r"budget\.method"),
    ({"budget": 10.0, "criterion": "median"}, "criterion 'median'"),
])
def test_bad_arguments_name_the_field(from_draws, kwargs, field):
    values = from_draws(np.ones((1, 2, 3, 2)), [1.0, 2.0])
    with pytest.raises(SpecError, match=field):
        allocate(values, **kwargs)
