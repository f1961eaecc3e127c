"""Allocate retention actions to customers under a campaign budget.

At most one action per customer (or none: ``do_nothing``); the per-customer costs of the
chosen actions plus the fixed costs of the actions used fit the budget; the sum of the
chosen options' criterion scores minus those fixed costs is as large as the method can make
it. Scores are incremental values **net of the per-customer cost**, so an option with a
score <= 0 is never chosen. ``method="greedy"`` (default): :mod:`bayesclv.budget.greedy`;
``method="exact"``: :mod:`bayesclv.budget.exact`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from bayesclv.actions import ALLOCATION_METHODS, BASELINE
from bayesclv.budget.exact import exact_choice
from bayesclv.budget.greedy import greedy_choice
from bayesclv.budget.options import Options, check_budget, exact_spend, scored_options
from bayesclv.decision.criteria import Criterion
from bayesclv.errors import SpecError

__all__ = ["Allocation", "allocate", "allocate_options", "check_method"]


@dataclass(frozen=True, eq=False)
class Allocation:
    """Who gets which action, what it costs and what it is worth by the criterion.

    Attributes
    ----------
    table
        One row per customer (index ``customer``): ``segment``, ``action`` (``"do_nothing"``
        if none), ``cost`` (per-customer cost, currency) and ``score`` (criterion score of
        the incremental value net of that cost, currency; 0 for do nothing).
    fixed_costs
        Fixed cost (currency) of each action used, indexed by ``action``.
    budget
        The budget the allocation was made under, currency.
    spent
        Per-customer costs plus fixed costs, currency; never above ``budget``. Summed
        exactly, as the decimals the costs print as (see
        :func:`bayesclv.budget.options.exact_amount`), and rounded once.
    criterion
        Label of the criterion that scored the options (``mean``, ``quantile_10%``, …).
    method
        ``"greedy"`` or ``"exact"``.
    currency
        The currency of every amount.
    """

    table: pd.DataFrame
    fixed_costs: pd.Series
    budget: float
    spent: float
    criterion: str
    method: str
    currency: str

    @property
    def objective(self) -> float:
        """Sum of chosen scores minus fixed costs: the criterion's campaign total, currency."""
        return math.fsum(self.table["score"]) - math.fsum(self.fixed_costs)

    @property
    def n_targeted(self) -> int:
        """Number of customers who get an action."""
        return int((self.table["action"] != BASELINE).sum())

    def choice(self) -> xr.DataArray:
        """Each customer's action (``"do_nothing"`` if none), dim (customer,) with ``segment``."""
        return xr.DataArray(
            self.table["action"].to_numpy(dtype=str), dims="customer", name="action",
            coords={"customer": self.table.index.to_numpy(),
                    "segment": ("customer", self.table["segment"].to_numpy(dtype=str))},
            attrs={"budget": self.budget, "spent": self.spent, "criterion": self.criterion,
                   "method": self.method, "currency": self.currency},
        )


def check_method(method: str) -> str:
    """``method`` if it is an allocation method, else :class:`SpecError` naming the field."""
    if method not in ALLOCATION_METHODS:
        raise SpecError(f"field 'budget.method' = {method!r} is not one of "
                        f"{', '.join(ALLOCATION_METHODS)}")
    return method


def allocate_options(options: Options, budget: float, method: str = "greedy") -> Allocation:
    """Allocate already-scored options (see :func:`allocate`; the budget curve reuses them).

    Parameters
    ----------
    options
        From :func:`bayesclv.budget.options.scored_options`.
    budget
        Campaign budget, currency, finite and > 0.
    method
        ``"greedy"`` or ``"exact"``.

    Returns
    -------
    Allocation
    """
    amount = check_budget(budget)
    solver = greedy_choice if check_method(method) == "greedy" else exact_choice
    choice = solver(options, amount).values
    chosen = choice >= 0
    position = np.maximum(choice, 0)
    actions = options.score["action"].values.astype(str)
    table = pd.DataFrame(
        {
            "segment": options.score["segment"].values.astype(str),
            "action": np.where(chosen, actions[position], BASELINE),
            "cost": np.where(chosen, options.cost.values[position], 0.0),
            "score": np.where(chosen, options.score.values[np.arange(choice.size), position],
                              0.0),
        },
        index=pd.Index(options.score["customer"].values, name="customer"),
    )
    used = np.unique(choice[chosen])
    fixed_costs = pd.Series(options.fixed_cost.values[used], name="fixed_cost",
                            index=pd.Index(actions[used], name="action"))
    return Allocation(table=table, fixed_costs=fixed_costs, budget=amount,
                      spent=float(exact_spend(options, choice)),
                      criterion=options.criterion.label, method=method,
                      currency=options.currency)


def allocate(action_values: xr.Dataset, budget: float, *,
             criterion: Criterion | str = "mean", method: str = "greedy") -> Allocation:
    """Choose at most one action per customer to maximise the criterion total within a budget.

    Parameters
    ----------
    action_values
        Incremental values per draw, dims (chain, draw, customer, action), from
        :func:`bayesclv.decision.action_values`: ``incremental_value`` (currency, net of the
        per-customer cost, NaN where not eligible), ``eligible``, and coordinates
        ``segment``, ``cost`` and ``fixed_cost``.
    budget
        Campaign budget, currency: per-customer costs plus fixed costs of the actions used
        never exceed it. Finite and > 0.
    criterion
        How each (customer, action)'s draws become a score: ``"mean"`` (default),
        ``"quantile"``, ``"mean_minus_sd"``, ``"cvar"``, or a :class:`Criterion` with its
        parameter.
    method
        ``"greedy"`` (default; within one option's score of the optimum, see
        :mod:`bayesclv.budget.greedy`) or ``"exact"`` (a MILP).

    Returns
    -------
    Allocation

    Raises
    ------
    SpecError
        A budget that is not a finite positive amount (``budget.amount``), an unknown method
        (``budget.method``) or criterion, a negative cost or fixed cost.
    DataError
        Action values missing a variable or coordinate.
    """
    check_budget(budget)
    check_method(method)
    return allocate_options(scored_options(action_values, criterion), budget, method)
