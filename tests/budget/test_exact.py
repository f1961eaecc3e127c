"""The MILP allocation against brute-force enumeration, and its budget guarantee."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bayesclv.budget.allocate import allocate_options
from bayesclv.budget.options import scored_options

from .conftest import brute_force, build_action_values


@st.composite
def tiny_problems(draw):
    """2–5 customers, 1–3 actions, means in [−5, 20], costs in cents, some fixed costs."""
    n_customers = draw(st.integers(2, 5))
    n_actions = draw(st.integers(1, 3))
    money = st.integers(0, 1500).map(lambda cents: cents / 100)
    cost = draw(st.lists(money, min_size=n_actions, max_size=n_actions))
    fixed = draw(st.lists(st.sampled_from([0.0, 0.0, 2.5, 7.0, 30.0]), min_size=n_actions,
                          max_size=n_actions))
    means = np.array(draw(st.lists(st.floats(-5, 20), min_size=n_customers * n_actions,
                                   max_size=n_customers * n_actions)))
    eligible = np.array(draw(st.lists(st.booleans(), min_size=n_customers * n_actions,
                                      max_size=n_customers * n_actions)))
    budget = draw(st.floats(0.01, 60.0))
    values = build_action_values(means.reshape(1, 1, n_customers, n_actions), cost, fixed,
                                 eligible=eligible.reshape(n_customers, n_actions))
    return scored_options(values), budget


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems())
def test_exact_equals_brute_force(problem):
    options, budget = problem
    best, _ = brute_force(options, budget)
    plan = allocate_options(options, budget, "exact")
    # HiGHS stops within an absolute gap of 1e-6 (an option worth 6e-8 can be left out).
    assert plan.objective == pytest.approx(best, rel=1e-9, abs=1e-6)
    assert plan.spent <= budget


@pytest.mark.parametrize("n_customers", [3, 10, 50])
def test_solver_tolerance_never_overspends(n_customers):
    # A budget one ulp under n: HiGHS accepts all n (within its tolerance); the exact check
    # catches it and the re-solve keeps n − 1.
    options = scored_options(build_action_values(np.ones((1, 1, n_customers, 1)), [1.0]))
    budget = float(np.nextafter(float(n_customers), 0.0))
    plan = allocate_options(options, budget, "exact")
    assert plan.n_targeted == n_customers - 1 and plan.spent == n_customers - 1


def test_budget_of_typed_decimals_is_spent_in_full():
    options = scored_options(build_action_values(np.ones((1, 1, 3, 1)), [0.1]))
    for method in ("greedy", "exact"):
        plan = allocate_options(options, 0.3, method)
        assert plan.n_targeted == 3 and plan.spent == 0.3


def test_nothing_worth_buying_buys_nothing():
    options = scored_options(build_action_values(-np.ones((1, 2, 4, 2)), [1.0, 2.0]))
    plan = allocate_options(options, 100.0, "exact")
    assert plan.n_targeted == 0 and plan.spent == 0.0 and plan.objective == 0.0
