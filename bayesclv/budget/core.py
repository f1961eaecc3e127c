"""The core of an allocation problem: the options an optimal allocation can contain.

Lagrangian reduced-cost fixing, so that the exact method hands HiGHS a few options instead
of every one. With a price λ >= 0 on the budget, every feasible allocation x obeys

    objective(x) <= Σ score·x <= λ·budget + Σ_customer u − Σ_customer rc(x),

where u = max(0, max_action (score − λ·cost)) is a customer's best priced gain and
rc(x) = u − (score − λ·cost of the customer's choice) >= 0 its shortfall (u itself for do
nothing). Fixed costs only lower the objective and use budget, so the bound holds with them.
An allocation at least as good as a known one (objective L) therefore has every customer's
rc <= λ·budget + Σ u − L: an option with a larger rc cannot be in it, and a customer whose
u exceeds that slack must be targeted. λ is the LP relaxation's price of budget, which makes
the bound the LP optimum (without fixed costs); with the greedy's allocation as the known
one, the slack is then below one option's score and usually a tiny fraction of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xarray as xr

from bayesclv.budget.greedy import MAX_FIXED_COST_ACTIONS, greedy_choice, hull_increments
from bayesclv.budget.options import Options

__all__ = ["Core", "budget_price", "core_options"]

# Added to the slack, relative to the bound: float error must never drop an option.
_RELATIVE_SLACK = 1e-7


@dataclass(frozen=True)
class Core:
    """Options that can be in an optimal allocation.

    Attributes
    ----------
    keep
        (customer, action) bool: the positive options that can be in an optimal allocation.
    targeted
        (customer,) bool: customers whom every optimal allocation gives an action.
    """

    keep: xr.DataArray
    targeted: xr.DataArray


def budget_price(options: Options, budget: float) -> float:
    """λ: value per unit of the last budget in the LP relaxation without fixed costs.

    The efficiency of the hull increment the budget runs out in (0 if every increment fits).
    """
    increments = hull_increments(options.score.values, options.cost.values)
    order = np.argsort(-increments["efficiency"], kind="stable")
    filled = np.cumsum(increments["cost"][order])
    out = int(np.searchsorted(filled, budget, side="right"))
    return float(increments["efficiency"][order][out]) if out < order.size else 0.0


def _known_objective(options: Options, budget: float) -> float:
    """Objective of the greedy's allocation (on the actions without a fixed cost if there
    are too many fixed-cost actions for it to enumerate)."""
    fixed_cost = options.fixed_cost.values
    score = options.score
    if ((fixed_cost > 0) & options.positive.any(axis=0)).sum() > MAX_FIXED_COST_ACTIONS:
        score = score.where(options.fixed_cost == 0)
    restricted = Options(score=score, cost=options.cost, fixed_cost=options.fixed_cost,
                         criterion=options.criterion, currency=options.currency)
    choice = greedy_choice(restricted, budget).values
    chosen = choice >= 0
    return (math.fsum(options.score.values[np.nonzero(chosen)[0], choice[chosen]])
            - math.fsum(fixed_cost[np.unique(choice[chosen])]))


def core_options(options: Options, budget: float) -> Core:
    """The core of the allocation problem at ``budget`` (see the module docstring).

    Parameters
    ----------
    options
        Scored options.
    budget
        Campaign budget, currency, > 0.

    Returns
    -------
    Core
    """
    positive = options.positive
    price = budget_price(options, budget)
    gain = np.where(positive, options.score.values - price * options.cost.values[None, :], 0.0)
    best = gain.max(axis=1, initial=0.0)
    bound = price * budget + math.fsum(best)
    slack = bound - _known_objective(options, budget) + _RELATIVE_SLACK * max(1.0, abs(bound))
    return Core(
        keep=options.score.copy(data=positive & (best[:, None] - gain <= slack)).rename("keep"),
        targeted=xr.DataArray(best > slack, dims="customer", name="targeted",
                              coords={"customer": options.score["customer"].values}),
    )
