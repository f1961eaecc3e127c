"""Exact allocation: the multiple-choice knapsack as a mixed-integer program (HiGHS).

Every customer of an action costs the same, so the spend depends only on **how many**
customers get each action, and only those counts need to be integer:

* x[customer, action] in [0, 1] for every option in the problem's core (the positive
  options an optimal allocation can contain, :mod:`bayesclv.budget.core`), continuous;
* n[action] integer, the number of customers who get it: Σ_customer x = n;
* y[action] binary for every action with a fixed cost, x[customer, action] <= y[action];

maximise Σ score·x − Σ fixed_cost·y subject to Σ_action x <= 1 per customer (= 1 for the
customers the core says every optimal allocation targets) and Σ cost·n + Σ fixed_cost·y <=
budget. For integer counts and open actions the x constraints are those of a transportation
problem (a bipartite customer–action graph), whose vertices are integral, so this program
has the optimum of the one with binary x. The assignment is then re-solved as that
transportation LP for the optimal counts (dual simplex: a vertex, hence integral, whatever
HiGHS's heuristics returned).

Why this form: with binary x[customer, action] HiGHS took from seconds to minutes on a few
hundred customers, branching over many near-equal allocations; with big-M links
n <= (options)·y instead of x <= y, minutes on 20,000 customers with fixed costs. Presolve is
off: it cost more than it saved, and HiGHS 1.12's presolve restarts produced solutions that
violate the budget row.

Solved by :func:`scipy.optimize.milp` with a zero relative gap: optimal up to HiGHS's
tolerances (an absolute gap of 1e-6: an option worth less than that may be left out). The
spend is checked in exact arithmetic and never exceeds the budget.

HiGHS 1.12 (SciPy 1.18) prints a stray debug line on some problems,
``HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();``; it is
harmless (ERGO-Code/HiGHS#2783).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import optimize, sparse

from bayesclv.budget.core import Core, core_options
from bayesclv.budget.options import Options, exact_amount, exact_spend
from bayesclv.errors import BayesCLVError

__all__ = ["exact_choice"]

_CAP_MARGIN = 1e-5
"""Share of the budget the cap is lowered by when the solver's tolerance overspends: far
above HiGHS's feasibility tolerances, so the re-solved spend cannot cross the budget."""


def _counts(options: Options, core: Core, limit: float) -> np.ndarray:
    """Optimal number of customers per action with the budget capped at ``limit``."""
    score = options.score.values
    cost, fixed_cost = options.cost.values, options.fixed_cost.values
    customer, action = np.nonzero(core.keep.values)
    n_x, n_actions = customer.size, cost.size
    available = np.bincount(action, minlength=n_actions)
    fixed = np.nonzero((fixed_cost > 0) & (available > 0))[0]
    n_vars = n_x + n_actions + fixed.size
    count_of, open_of = n_x + np.arange(n_actions), n_x + n_actions + np.arange(fixed.size)
    objective = -np.concatenate([score[customer, action], np.zeros(n_actions),
                                 -fixed_cost[fixed]])
    one_each = sparse.csr_array((np.ones(n_x), (customer, np.arange(n_x))),
                                shape=(score.shape[0], n_vars))
    counted = sparse.csr_array(
        (np.concatenate([np.ones(n_x), -np.ones(n_actions)]),
         (np.concatenate([action, np.arange(n_actions)]),
          np.concatenate([np.arange(n_x), count_of]))),
        shape=(n_actions, n_vars))
    spend = np.concatenate([np.zeros(n_x), cost, fixed_cost[fixed]])[None, :]
    linked = np.nonzero(np.isin(action, fixed))[0]
    link = sparse.csr_array(
        (np.concatenate([np.ones(linked.size), -np.ones(linked.size)]),
         (np.tile(np.arange(linked.size), 2),
          np.concatenate([linked, open_of[np.searchsorted(fixed, action[linked])]]))),
        shape=(linked.size, n_vars))
    constraints = [optimize.LinearConstraint(one_each, core.targeted.values.astype(float), 1.0),
                   optimize.LinearConstraint(counted, 0.0, 0.0),
                   optimize.LinearConstraint(spend, -np.inf, limit),
                   optimize.LinearConstraint(link, -np.inf, 0.0)]
    result = optimize.milp(
        objective, constraints=constraints,
        integrality=np.concatenate([np.zeros(n_x), np.ones(n_actions + fixed.size)]),
        bounds=optimize.Bounds(0.0, np.concatenate([np.ones(n_x), available,
                                                    np.ones(fixed.size)])),
        options={"mip_rel_gap": 0.0, "presolve": False})
    if result.x is None:
        raise BayesCLVError(f"the MILP solver found no allocation: {result.message}")
    return np.round(result.x[count_of]).astype(int)


def _assign(options: Options, core: Core, counts: np.ndarray) -> np.ndarray:
    """The best assignment with exactly ``counts`` customers per action (transportation LP).

    Returns one action position per customer, −1 for do nothing.
    """
    customer, action = np.nonzero(core.keep.values & (counts > 0)[None, :])
    choice = np.full(options.score.shape[0], -1)
    if customer.size == 0:
        return choice
    n_x = customer.size
    result = optimize.linprog(
        -options.score.values[customer, action],
        A_ub=sparse.csr_array((np.ones(n_x), (customer, np.arange(n_x))),
                              shape=(options.score.shape[0], n_x)),
        b_ub=np.ones(options.score.shape[0]),
        A_eq=sparse.csr_array((np.ones(n_x), (action, np.arange(n_x))),
                              shape=(counts.size, n_x)),
        b_eq=counts, bounds=(0.0, 1.0), method="highs-ds")
    if result.x is None:
        raise BayesCLVError(f"the assignment LP failed: {result.message}")
    taken = result.x > 0.5
    choice[customer[taken]] = action[taken]
    return choice


def _solve(options: Options, limit: float) -> np.ndarray:
    """The optimal allocation with the budget capped at ``limit``; action positions."""
    core = core_options(options, limit)
    return _assign(options, core, _counts(options, core, limit))


def exact_choice(options: Options, budget: float) -> xr.DataArray:
    """The optimal allocation of the multiple-choice knapsack with fixed costs.

    Parameters
    ----------
    options
        Scored options from :func:`bayesclv.budget.options.scored_options`.
    budget
        Campaign budget, currency, > 0.

    Returns
    -------
    xarray.DataArray
        Dim (customer,): the position of each customer's action, −1 for do nothing.
    """
    choice = np.full(options.score.shape[0], -1)
    # With no positive option there is nothing to buy (and HiGHS needs a variable).
    if options.positive.any():
        choice = _solve(options, budget)
        if exact_spend(options, choice) > exact_amount(budget):
            # HiGHS accepts a row within its feasibility tolerance, so a spend a hair over
            # the budget can come back. Re-solve with the cap lowered well past that; the
            # answer is then optimal among allocations spending <= budget × (1 − 1e-5).
            choice = _solve(options, budget * (1 - _CAP_MARGIN))
            if exact_spend(options, choice) > exact_amount(budget):
                raise BayesCLVError(f"the MILP allocation overspends a budget of {budget} "
                                    f"even with the cap lowered by {_CAP_MARGIN:g} of it")
    return xr.DataArray(choice, dims="customer",
                        coords={"customer": options.score["customer"].values})
