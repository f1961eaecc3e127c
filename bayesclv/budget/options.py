"""Scored options: the (customer, action) pairs a campaign can buy, their scores and costs.

Both allocation methods and the budget curve start here, so the action values are checked
and scored (a sort over draws for the risk-aware criteria) once per call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import xarray as xr

from bayesclv.actions import BASELINE
from bayesclv.decision.criteria import Criterion, criterion, score
from bayesclv.dims import SAMPLE_DIMS
from bayesclv.errors import DataError, SpecError

__all__ = ["Options", "check_budget", "exact_amount", "exact_spend", "scored_options"]

VALUE_DIMS = (*SAMPLE_DIMS, "customer", "action")


@dataclass(frozen=True, eq=False)
class Options:
    """Every (customer, action) pair with its criterion score, and the actions' costs.

    Attributes
    ----------
    score
        Criterion score of the incremental value, dims (customer, action), currency per
        customer, **net of the per-customer cost**; NaN where the customer is not eligible.
        ``segment`` is a coordinate on ``customer``.
    cost
        Cost per targeted customer, dim (action,), currency, >= 0.
    fixed_cost
        Cost paid once per campaign if anyone gets the action, dim (action,), currency, >= 0.
    criterion
        The criterion that produced ``score``.
    currency
        The currency of every amount (``""`` if the action values do not say).
    """

    score: xr.DataArray
    cost: xr.DataArray
    fixed_cost: xr.DataArray
    criterion: Criterion
    currency: str

    @property
    def positive(self) -> np.ndarray:
        """(customer, action) bool: eligible with a score > 0, the only options ever chosen."""
        return np.asarray(self.score.values > 0)

    def full_cost(self) -> float:
        """Spend that buys every customer's dearest positive option, fixed costs included.

        No allocation can spend more, so a budget at or above it is not binding.
        """
        positive = self.positive
        cost = np.where(positive, self.cost.values[None, :], 0.0).max(axis=1, initial=0.0)
        opened = self.fixed_cost.values[positive.any(axis=0)]
        return math.fsum([*cost, *opened])


def check_budget(amount: float, field: str = "budget.amount") -> float:
    """``amount`` as a float, checked to be a finite positive amount of currency."""
    if isinstance(amount, bool) or not isinstance(amount, (int, float, np.integer, np.floating)):
        raise SpecError(f"field '{field}' must be a number (currency), got {amount!r}")
    value = float(amount)
    if not (math.isfinite(value) and value > 0):
        raise SpecError(f"field '{field}' must be a finite amount > 0 (currency), got {value}")
    return value


def exact_amount(amount: float) -> Fraction:
    """An amount as the decimal it prints as, exactly: 2.35 is 235/100.

    Spend is compared with the budget in these terms, so 100 offers at 2.35 fit a budget
    of 235 (in binary floating point 100 × 2.35 is a hair over 235, and summing floats in
    a different order can land on either side).
    """
    return Fraction(repr(float(amount)))


def exact_spend(options: Options, choice: np.ndarray,
                opened: np.ndarray | None = None) -> Fraction:
    """Exact total cost of a choice: per-customer costs plus fixed costs.

    Parameters
    ----------
    options
        The options (for their costs).
    choice
        One action position per customer, −1 for do nothing.
    opened
        (action,) bool: whose fixed costs are paid (default: the actions used).

    Returns
    -------
    fractions.Fraction
        The spend, currency, exact (see :func:`exact_amount`): "spend <= budget" must not
        pass or fail by a rounding.
    """
    counts = np.bincount(choice[choice >= 0], minlength=options.cost.size)
    paid = counts > 0 if opened is None else opened
    terms = [exact_amount(c) * int(n) for c, n in zip(options.cost.values, counts, strict=True)]
    terms += [exact_amount(f) for f in options.fixed_cost.values[paid]]
    return sum(terms, Fraction(0))


def scored_options(action_values: xr.Dataset, rule: Criterion | str | None = None) -> Options:
    """Check action values and score each (customer, action) by a criterion.

    Parameters
    ----------
    action_values
        Dims (chain, draw, customer, action); ``incremental_value`` (currency, net of the
        per-customer cost, NaN where not eligible) and ``eligible`` (customer, action);
        coordinates ``segment`` on customer and ``cost``, ``fixed_cost`` on action.
    rule
        The criterion (default: the posterior mean); see
        :mod:`bayesclv.decision.criteria`.

    Returns
    -------
    Options
        Scores (NaN where not eligible) and costs.

    Raises
    ------
    DataError
        A missing variable or coordinate, or an eligible option whose score is not finite.
    SpecError
        An unknown criterion, a negative or non-finite cost, an action named ``do_nothing``.
    """
    rule = criterion(rule)
    for name in ("incremental_value", "eligible"):
        if name not in action_values.data_vars:
            raise DataError(f"action values have no variable {name!r} "
                            f"(variables: {', '.join(map(str, action_values.data_vars))})")
    values = action_values["incremental_value"]
    if set(values.dims) != set(VALUE_DIMS):
        raise DataError(f"'incremental_value' must have dims {VALUE_DIMS}, got {values.dims}")
    for name in ("segment", "cost", "fixed_cost"):
        if name not in action_values.coords:
            raise DataError(f"action values have no coordinate {name!r}")
    actions = [str(a) for a in action_values["action"].values]
    if BASELINE in actions:
        raise SpecError(f"action {BASELINE!r} is the implicit baseline; it cannot be an action")
    for name in ("cost", "fixed_cost"):
        amounts = np.asarray(action_values[name].values, dtype=float)
        bad = ~(np.isfinite(amounts) & (amounts >= 0))
        if bad.any():
            at = int(np.argmax(bad))
            raise SpecError(f"field '{name}' of action {actions[at]!r} must be a finite amount "
                            f">= 0 (currency), got {amounts[at]}")
    eligible = action_values["eligible"].transpose("customer", "action").values.astype(bool)
    scores = score(values, rule).transpose("customer", "action")
    broken = eligible & ~np.isfinite(scores.values)
    if broken.any():
        i, a = (int(k[0]) for k in np.nonzero(broken))
        raise DataError(f"customer {str(scores['customer'].values[i])!r} is eligible for action "
                        f"{actions[a]!r} but its incremental_value has non-finite draws")
    scores = scores.where(eligible)
    return Options(
        score=scores,
        cost=action_values["cost"].astype(float),
        fixed_cost=action_values["fixed_cost"].astype(float),
        criterion=rule,
        currency=str(action_values.attrs.get("currency", "")),
    )
