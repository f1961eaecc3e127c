"""Checking and scoring action values; exact spend."""

from fractions import Fraction

import numpy as np
import pytest

from bayesclv.budget.options import check_budget, exact_spend, scored_options
from bayesclv.decision.criteria import Criterion
from bayesclv.errors import DataError, SpecError


def test_scores_are_the_criterion_and_nan_where_not_eligible(from_draws):
    values = np.arange(2 * 10 * 2 * 2, dtype=float).reshape(2, 10, 2, 2)
    eligible = np.array([[True, False], [True, True]])
    options = scored_options(from_draws(values, [1.0, 2.0], eligible=eligible))
    assert options.score.dims == ("customer", "action")
    assert np.isnan(options.score.values[0, 1])
    assert options.score.values[1, 0] == pytest.approx(values[..., 1, 0].mean())
    assert options.currency == "EUR"
    low = scored_options(from_draws(values, [1.0, 2.0]), Criterion("quantile", 0.1))
    assert (low.score.values < options.score.values[~np.isnan(options.score.values)].max()).all()
    assert low.criterion.label == "quantile_10%"


def test_full_cost_is_dearest_positive_option_plus_fixed_costs_of_openable(from_draws):
    means = np.array([[5.0, 8.0, -1.0], [-2.0, -3.0, -4.0], [1.0, -1.0, 3.0]])
    options = scored_options(from_draws(means[None, None], [1.0, 4.0, 9.0], [10.0, 20.0, 40.0]))
    # customer 0: dearest positive 4; customer 1: none; customer 2: 9; all three actions open.
    assert options.full_cost() == 4.0 + 9.0 + 10.0 + 20.0 + 40.0


def test_exact_spend_compares_the_decimals_that_were_typed(from_draws):
    options = scored_options(from_draws(np.ones((1, 1, 3, 2)), [0.1, 0.7], [0.0, 0.2]))
    assert 0.1 + 0.1 + 0.1 > 0.3  # in binary floating point three offers overspend 0.3
    assert exact_spend(options, np.zeros(3, dtype=int)) == Fraction("0.3")
    assert exact_spend(options, np.array([1, -1, 0])) == Fraction("1.0")
    assert exact_spend(options, np.full(3, -1), np.array([False, True])) == Fraction("0.2")


@pytest.mark.parametrize("amount", [0, -5.0, float("nan"), float("inf"), "100", True])
def test_bad_budget_names_the_field(amount):
    with pytest.raises(SpecError, match=r"budget\.amount"):
        check_budget(amount)


@pytest.mark.parametrize("field", ["cost", "fixed_cost"])
@pytest.mark.parametrize("bad", [-1.0, float("nan")])
def test_negative_or_missing_cost_names_the_field_and_action(from_draws, field, bad):
    values = from_draws(np.ones((1, 2, 3, 2)), [1.0, 2.0], [0.0, 0.0])
    amounts = values[field].values.copy()
    amounts[1] = bad
    with pytest.raises(SpecError, match=rf"field '{field}' of action 'a1'"):
        scored_options(values.assign_coords({field: ("action", amounts)}))


def test_unknown_criterion_is_named(from_draws):
    with pytest.raises(SpecError, match="criterion 'median'"):
        scored_options(from_draws(np.ones((1, 2, 3, 2)), [1.0, 2.0]), "median")


def test_baseline_cannot_be_an_action(from_draws):
    values = from_draws(np.ones((1, 2, 3, 2)), [1.0, 2.0])
    with pytest.raises(SpecError, match="do_nothing"):
        scored_options(values.assign_coords(action=["a0", "do_nothing"]))


def test_missing_variable_and_broken_eligible_draws_are_data_errors(from_draws):
    values = from_draws(np.ones((1, 2, 3, 2)), [1.0, 2.0])
    with pytest.raises(DataError, match="'eligible'"):
        scored_options(values.drop_vars("eligible"))
    broken = values.copy(deep=True)
    broken["incremental_value"][0, 1, 2, 0] = np.nan
    with pytest.raises(DataError, match="customer 'c00002' is eligible for action 'a0'"):
        scored_options(broken)
