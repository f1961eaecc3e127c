"""Greedy allocation: convex-hull increments taken in order of efficiency.

The problem is a multiple-choice knapsack: each customer gets at most one action, the
per-customer costs plus the fixed costs of the actions used must fit the budget, and the sum
of scores minus those fixed costs is maximised.

**The rule.** Per customer, draw the points (cost, score) of its positive options and
(0, 0), the "do nothing" point. Only the upper convex hull matters: an option under the hull
is beaten by a mix of its neighbours. Walking along the hull from (0, 0) gives increments
(Δcost, Δscore) with falling efficiency Δscore/Δcost; a free positive option is an increment
of infinite efficiency. All customers' increments are sorted by efficiency (ties: customer
order, then the customer's own order) and taken while they fit; an increment that does not
fit is skipped, and so are that customer's later increments (they build on it).

**Fixed costs.** Every subset of the actions with a fixed cost (and at least one positive
option) is tried: its fixed costs come off the budget, the rule runs on the remaining
actions plus the subset, and the best net total (scores minus fixed costs of the actions
actually used) wins. That is 2^k runs for k such actions; k > 12 raises :class:`SpecError`
(use ``method="exact"``).

**The gap.** Up to the first skipped increment the greedy follows the LP relaxation, whose
optimum is that prefix plus a fraction of the skipped increment. So the greedy total is
below the optimum by less than one increment's Δscore, which is at most the largest single
option's score (for the subset of actions the optimum opens, hence for the best subset).
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from bayesclv.budget.options import Options, exact_amount, exact_spend
from bayesclv.errors import SpecError

__all__ = ["MAX_FIXED_COST_ACTIONS", "greedy_choice", "hull_increments"]

MAX_FIXED_COST_ACTIONS = 12
"""Most actions with a fixed cost the greedy enumerates subsets of (2^12 = 4,096 runs)."""

# Float sums of costs are within this share of the budget of the exact sum; nearer the
# budget than that, an increment's fit is decided in exact arithmetic.
_RELATIVE_TOLERANCE = 1e-9


def hull_increments(score: np.ndarray, cost: np.ndarray) -> dict[str, np.ndarray]:
    """Each customer's upper-convex-hull increments from (0, 0), in walking order.

    Parameters
    ----------
    score
        (customer, action) scores, currency; only entries > 0 are options (NaN: none).
    cost
        (action,) cost per customer, currency, >= 0.

    Returns
    -------
    dict of numpy.ndarray
        One entry per increment: ``customer`` and ``action`` (positions; the action the
        customer moves to), ``step`` (0, 1, … along the customer's hull), ``cost`` and
        ``score`` (the increment's Δcost and Δscore) and ``efficiency`` (Δscore/Δcost,
        inf for a free option).
    """
    n_customers = score.shape[0]
    rows = np.arange(n_customers)
    positive = score > 0
    parts: list[dict[str, np.ndarray]] = []
    # A free positive option is the first hull point after (0, 0); take the best one.
    free = np.where(positive & (cost == 0)[None, :], score, -np.inf)
    first = free.argmax(axis=1)
    has_free = np.isfinite(free[rows, first])
    at_cost = np.zeros(n_customers)
    at_score = np.where(has_free, free[rows, first], 0.0)
    parts.append({"customer": rows[has_free], "action": first[has_free],
                  "step": np.zeros(int(has_free.sum()), dtype=int),
                  "cost": np.zeros(int(has_free.sum())), "score": at_score[has_free],
                  "efficiency": np.full(int(has_free.sum()), np.inf)})
    step = has_free.astype(int)
    # Gift wrapping: from each hull point the next one is the option of steepest slope to its
    # right; on equal slopes the cheapest, so collinear points stay separate, finer steps.
    by_cost = np.argsort(cost, kind="stable")
    sorted_score, sorted_cost = score[:, by_cost], cost[by_cost]
    while True:
        ahead = (positive[:, by_cost] & (sorted_cost[None, :] > at_cost[:, None])
                 & (sorted_score > at_score[:, None]))
        if not ahead.any():
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = np.where(ahead, (sorted_score - at_score[:, None])
                             / (sorted_cost[None, :] - at_cost[:, None]), -np.inf)
        best = slope.argmax(axis=1)
        moving = ahead.any(axis=1)
        who, to = rows[moving], best[moving]
        parts.append({"customer": who, "action": by_cost[to], "step": step[moving],
                      "cost": sorted_cost[to] - at_cost[moving],
                      "score": sorted_score[who, to] - at_score[moving],
                      "efficiency": slope[who, to]})
        at_cost[moving] = sorted_cost[to]
        at_score[moving] = sorted_score[who, to]
        step[moving] += 1
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def _take(options: Options, score: np.ndarray, budget: float, opened: np.ndarray) -> np.ndarray:
    """The greedy rule on ``score`` (closed actions NaN), the ``opened`` fixed costs paid first.

    Returns one action position per customer, −1 for do nothing.
    """
    cost = options.cost.values
    increments = hull_increments(score, cost)
    order = np.lexsort((increments["step"], increments["customer"],
                        -increments["efficiency"]))
    choice = np.full(score.shape[0], -1)
    blocked = np.zeros(score.shape[0], dtype=bool)
    tolerance = _RELATIVE_TOLERANCE * budget
    spent = float(exact_spend(options, choice, opened))
    exact_budget = exact_amount(budget)
    for customer, action, step_cost in zip(increments["customer"][order].tolist(),
                                           increments["action"][order].tolist(),
                                           increments["cost"][order].tolist(), strict=True):
        if blocked[customer]:
            continue
        after = spent + step_cost
        fits = after <= budget - tolerance
        if not fits and after <= budget + tolerance:
            previous = choice[customer]
            choice[customer] = action
            fits = exact_spend(options, choice, opened) <= exact_budget
            choice[customer] = previous
        if fits:
            choice[customer] = action
            spent = after
        else:
            blocked[customer] = True
    return choice


def greedy_choice(options: Options, budget: float) -> xr.DataArray:
    """The greedy allocation (see the module docstring for the rule and its gap).

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

    Raises
    ------
    SpecError
        More than :data:`MAX_FIXED_COST_ACTIONS` actions with a fixed cost could be opened.
    """
    score = options.score.values
    fixed_cost = options.fixed_cost.values
    openable = np.nonzero((fixed_cost > 0) & options.positive.any(axis=0))[0]
    if openable.size > MAX_FIXED_COST_ACTIONS:
        names = ", ".join(map(str, options.score["action"].values[openable]))
        raise SpecError(f"{openable.size} actions have a fixed cost ({names}); the greedy "
                        f"enumerates subsets of at most {MAX_FIXED_COST_ACTIONS}: use "
                        f"method='exact'")
    always_open = fixed_cost == 0
    nothing = np.full(score.shape[0], -1)
    best_choice, best_net = nothing, -math.inf
    # Subsets in increasing bit order: the empty one first, so ties keep fewer actions open.
    for mask in range(2 ** openable.size):
        opened = np.zeros(fixed_cost.size, dtype=bool)
        opened[openable[[bool(mask >> bit & 1) for bit in range(openable.size)]]] = True
        if exact_spend(options, nothing, opened) > exact_amount(budget):
            continue
        is_open = always_open | opened
        choice = _take(options, np.where(is_open[None, :], score, np.nan), budget, opened)
        net = _net(score, fixed_cost, choice)
        if net > best_net:
            best_choice, best_net = choice, net
    return xr.DataArray(best_choice, dims="customer",
                        coords={"customer": options.score["customer"].values})


def _net(score: np.ndarray, fixed_cost: np.ndarray, choice: np.ndarray) -> float:
    """Scores of the chosen options minus the fixed costs of the actions used, currency."""
    chosen = choice >= 0
    used = np.unique(choice[chosen])
    return math.fsum(score[np.nonzero(chosen)[0], choice[chosen]]) - math.fsum(fixed_cost[used])
