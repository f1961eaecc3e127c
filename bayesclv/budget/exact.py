"""Exact allocation: the multiple-choice knapsack as a mixed-integer program (HiGHS).

Every customer of an action costs the same, so the spend depends only on **how many**
customers get each action. The program therefore makes only those counts integer:

* x[customer, action] in [0, 1] for every positive option (continuous);
* n[action] integer, the number of customers who get it: Σ_customer x = n;
* y[action] binary for every action with a fixed cost: n <= (its positive options)·y;

maximise Σ score·x − Σ fixed_cost·y subject to Σ_action x <= 1 per customer and
Σ cost·n + Σ fixed_cost·y <= budget. For integer counts the x constraints are those of a
transportation problem (a bipartite customer–action graph), whose vertices are integral,
so this program has the optimum of the one with binary x. It solves in well under a second
where binary x[customer, action] took HiGHS from seconds to minutes on a few hundred
customers (it branched over many near-equal allocations). The assignment is then re-solved
as that transportation LP for the optimal counts, so it is a vertex, hence integral,
whatever HiGHS's heuristics returned.

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

from bayesclv.budget.options import Options, exact_amount, exact_spend
from bayesclv.errors import BayesCLVError

__all__ = ["exact_choice"]

_CAP_MARGIN = 1e-5
"""Share of the budget the cap is lowered by when the solver's tolerance overspends: far
above HiGHS's feasibility tolerances, so the re-solved spend cannot cross the budget."""


def _counts(options: Options, limit: float) -> np.ndarray:
    """Optimal number of customers per action with the budget capped at ``limit``."""
    score = options.score.values
    cost, fixed_cost = options.cost.values, options.fixed_cost.values
    customer, action = np.nonzero(options.positive)
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
    link = sparse.csr_array(
        (np.concatenate([np.ones(fixed.size), -available[fixed].astype(float)]),
         (np.tile(np.arange(fixed.size), 2), np.concatenate([count_of[fixed], open_of]))),
        shape=(fixed.size, n_vars))
    constraints = [optimize.LinearConstraint(one_each, -np.inf, 1.0),
                   optimize.LinearConstraint(counted, 0.0, 0.0),
                   optimize.LinearConstraint(spend, -np.inf, limit),
                   optimize.LinearConstraint(link, -np.inf, 0.0)]
    result = optimize.milp(
        objective, constraints=constraints,
        integrality=np.concatenate([np.zeros(n_x), np.ones(n_actions + fixed.size)]),
        bounds=optimize.Bounds(0.0, np.concatenate([np.ones(n_x), available,
                                                    np.ones(fixed.size)])),
        options={"mip_rel_gap": 0.0})
    if result.x is None:
        raise BayesCLVError(f"the MILP solver found no allocation: {result.message}")
    return np.round(result.x[count_of]).astype(int)


def _assign(options: Options, counts: np.ndarray) -> np.ndarray:
    """The best assignment with exactly ``counts`` customers per action (transportation LP).

    Returns one action position per customer, −1 for do nothing.
    """
    customer, action = np.nonzero(options.positive & (counts > 0)[None, :])
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
        choice = _assign(options, _counts(options, budget))
        if exact_spend(options, choice) > exact_amount(budget):
            # HiGHS accepts a row within its feasibility tolerance, so a spend a hair over
            # the budget can come back. Re-solve with the cap lowered well past that; the
            # answer is then optimal among allocations spending <= budget × (1 − 1e-5).
            choice = _assign(options, _counts(options, budget * (1 - _CAP_MARGIN)))
            if exact_spend(options, choice) > exact_amount(budget):
                raise BayesCLVError(f"the MILP allocation overspends a budget of {budget} "
                                    f"even with the cap lowered by {_CAP_MARGIN:g} of it")
    return xr.DataArray(choice, dims="customer",
                        coords={"customer": options.score["customer"].values})
