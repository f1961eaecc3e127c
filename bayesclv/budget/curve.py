"""The budget curve: what each budget buys, and what the next unit of budget would be worth.

For each budget of a grid the options are allocated and the campaign simulated. A budget is
a cap, not an obligation: if a larger budget's allocation has a lower criterion total than
the previous grid point's (nothing guarantees a heuristic, or an optimum up to solver
tolerances, is monotone in the budget), the previous allocation is kept
(``kept_previous``). With the default criterion, the mean, the criterion total is the mean
net value, so ``value_mean`` never falls as the budget grows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
import xarray as xr

from bayesclv.budget.allocate import Allocation, allocate_options, check_method
from bayesclv.budget.campaign import simulate_campaign
from bayesclv.budget.options import Options, check_budget, scored_options
from bayesclv.decision.criteria import Criterion
from bayesclv.errors import DataError, SpecError
from bayesclv.scoring.summaries import hdi_label, resolve_hdi_prob

__all__ = ["budget_curve", "next_increment_efficiency"]


def next_increment_efficiency(options: Options, allocation: Allocation) -> float:
    """Efficiency of the best single-customer move the leftover budget cannot pay for.

    A move switches one customer from its allocated option (or do nothing) to another
    option: it adds Δscore − F to the criterion total and Δcost + F to the spend, with F the
    fixed cost of the new action if it is not yet in use. Among the moves that add value but
    cost more than ``budget − spent``, the best ratio (currency of value per currency of
    budget) is what the next unit of budget would buy at the margin; for the greedy it is the
    efficiency of the best hull increment it could not afford.

    Returns
    -------
    float
        That ratio; 0 if no such move exists (every worthwhile option is bought).
    """
    table = allocation.table.reindex(options.score["customer"].values)
    actions = options.score["action"].values.astype(str)
    unopened = np.where(np.isin(actions, allocation.fixed_costs.index.to_numpy(dtype=str)),
                        0.0, options.fixed_cost.values)
    gain = (options.score.values - table["score"].to_numpy()[:, None]) - unopened[None, :]
    extra = (options.cost.values[None, :] - table["cost"].to_numpy()[:, None]) + unopened[None, :]
    left = allocation.budget - allocation.spent
    unaffordable = options.positive & (gain > 0) & (extra > left)
    if not unaffordable.any():
        return 0.0
    return float((gain[unaffordable] / extra[unaffordable]).max())


def _grid(options: Options, budgets: Sequence[float] | None, n_points: int) -> np.ndarray:
    """Sorted distinct budgets: the given ones, or ``n_points`` up to the full cost."""
    if budgets is not None:
        amounts = [check_budget(b, "budgets") for b in budgets]
        if not amounts:
            raise SpecError("field 'budgets' is empty; give at least one budget")
        return np.unique(amounts)
    if isinstance(n_points, bool) or not isinstance(n_points, int) or n_points < 2:
        raise SpecError(f"field 'n_points' must be a whole number >= 2, "
                        f"got {n_points!r}")
    full = options.full_cost()
    if not full > 0:
        raise DataError("no option both adds value and costs something, so there is no "
                        "budget to vary; give the budgets explicitly")
    return full * np.arange(1, n_points + 1) / n_points


def budget_curve(action_values: xr.Dataset, budgets: Sequence[float] | None = None, *,
                 n_points: int = 20, criterion: Criterion | str = "mean",
                 method: str = "greedy", hdi_prob: float | None = None) -> pd.DataFrame:
    """Allocate and simulate over a grid of budgets.

    Parameters
    ----------
    action_values
        As for :func:`bayesclv.budget.allocate`.
    budgets
        Budgets to evaluate (currency, each finite and > 0; sorted, duplicates dropped).
        Default: ``n_points`` evenly spaced budgets F/n, 2F/n, …, F, where F is the cost of
        giving every customer its dearest positive option, fixed costs included (no
        allocation can spend more).
    n_points
        Grid size when ``budgets`` is not given, >= 2.
    criterion
        Scoring criterion (default the posterior mean).
    method
        ``"greedy"`` (default) or ``"exact"``.
    hdi_prob
        HDI mass (default: the action values' ``hdi_prob``, else 0.90).

    Returns
    -------
    pandas.DataFrame
        One row per budget: ``budget``, ``spent``, ``customers_targeted``, ``objective``
        (criterion total: scores minus fixed costs), ``value_mean``, ``value_hdi_{p}%_low``,
        ``value_hdi_{p}%_high`` (net incremental value, currency), ``roi_mean``,
        ``p_roi_negative``, ``expected_loss`` (currency), ``marginal_value`` (Δ value_mean /
        Δ budget from the previous row; NaN on the first), ``next_efficiency`` (see
        :func:`next_increment_efficiency`) and ``kept_previous`` (the previous budget's
        allocation was kept, see the module docstring). ``attrs`` hold the currency,
        ``hdi_prob``, criterion and method. Deterministic: the same inputs give the same
        table.
    """
    check_method(method)
    prob = resolve_hdi_prob(action_values, hdi_prob)
    options = scored_options(action_values, criterion)
    label = hdi_label(prob)
    rows = []
    previous: Allocation | None = None
    outcome = None
    for budget in _grid(options, budgets, n_points):
        allocation = allocate_options(options, float(budget), method)
        kept = previous is not None and allocation.objective < previous.objective
        if kept:
            allocation = replace(previous, budget=float(budget))
        else:
            outcome = simulate_campaign(action_values, allocation, hdi_prob=prob)
        summary = outcome.summary
        rows.append({
            "budget": float(budget),
            "spent": allocation.spent,
            "customers_targeted": allocation.n_targeted,
            "objective": allocation.objective,
            "value_mean": summary["value_mean"],
            f"value_{label}_low": summary[f"value_{label}_low"],
            f"value_{label}_high": summary[f"value_{label}_high"],
            "roi_mean": summary["roi_mean"],
            "p_roi_negative": summary["p_roi_negative"],
            "expected_loss": summary["expected_loss"],
            "next_efficiency": next_increment_efficiency(options, allocation),
            "kept_previous": kept,
        })
        previous = allocation
    curve = pd.DataFrame(rows)
    marginal = np.diff(curve["value_mean"].to_numpy()) / np.diff(curve["budget"].to_numpy())
    curve.insert(curve.columns.get_loc("next_efficiency"), "marginal_value",
                 np.concatenate([[np.nan], marginal]))
    curve.attrs = {"currency": options.currency, "hdi_prob": prob,
                   "criterion": options.criterion.label, "method": method}
    return curve
