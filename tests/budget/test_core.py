"""The core: reduced-cost fixing never drops an option of an optimal allocation."""

import numpy as np
from hypothesis import HealthCheck, given, settings

from bayesclv.budget.core import budget_price, core_options
from bayesclv.budget.options import scored_options

from .conftest import brute_force
from .test_exact import tiny_problems

NAN = np.nan


def test_budget_price_is_the_efficiency_where_the_budget_runs_out(from_draws):
    # Increments by efficiency: free (inf), 1.5 (cost 2), 4/3 (cost 3), 0.75 (cost 4).
    means = np.array([[NAN, -1.0, 3.0, 4.0, 7.0], [2.0, NAN, NAN, 5.0, NAN]])
    options = scored_options(from_draws(means[None, None], [0.0, 1.0, 2.0, 4.0, 5.0],
                                        eligible=~np.isnan(means)))
    assert budget_price(options, 1.0) == 1.5
    assert budget_price(options, 4.0) == 4 / 3
    assert budget_price(options, 5.0) == 0.75
    assert budget_price(options, 9.0) == 0.0


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems())
def test_an_optimal_allocation_lies_in_the_core(problem):
    options, budget = problem
    best, choice = brute_force(options, budget)
    core = core_options(options, budget)
    chosen = np.nonzero(choice >= 0)[0]
    assert core.keep.values[chosen, choice[chosen]].all()
    assert (choice[core.targeted.values] >= 0).all()


def test_core_is_small_without_fixed_costs(make_values):
    options = scored_options(make_values(2_000, (2.0, 5.0, 12.0), seed=12, n_draws=4))
    core = core_options(options, 0.5 * options.full_cost())
    undecided = (core.keep.sum("action") > 1) | ((core.keep.sum("action") == 1)
                                                  & ~core.targeted)
    assert int(undecided.sum()) < 0.1 * options.positive.any(axis=1).sum()
