"""The budget curve: grid, monotonicity rule, marginal values, determinism, errors."""

import numpy as np
import pandas as pd
import pytest

import bayesclv.budget.curve as curve_module
from bayesclv.budget import allocate, budget_curve
from bayesclv.budget.curve import next_increment_efficiency
from bayesclv.budget.options import scored_options
from bayesclv.errors import DataError, SpecError

NAN = np.nan


@pytest.fixture(scope="module")
def values(make_values):
    return make_values(150, (2.0, 5.0, 12.0), (0.0, 40.0, 90.0), seed=8)


@pytest.mark.parametrize("method", ["greedy", "exact"])
def test_value_never_falls_as_the_budget_grows(values, method):
    curve = budget_curve(values, n_points=8, method=method)
    assert (np.diff(curve["objective"]) >= 0).all()
    assert (np.diff(curve["value_mean"]) >= -1e-9).all()
    assert (curve["spent"] <= curve["budget"]).all()
    # Criterion "mean": the objective is the mean net value.
    np.testing.assert_allclose(curve["value_mean"], curve["objective"], rtol=1e-10)


def test_default_grid_reaches_the_full_cost_and_the_curve_flattens(values):
    curve = budget_curve(values, n_points=5)
    full = scored_options(values).full_cost()
    np.testing.assert_allclose(curve["budget"], full * np.arange(1, 6) / 5)
    assert curve["next_efficiency"].iloc[-1] == 0.0  # everything worth buying is bought
    assert list(curve.columns) == [
        "budget", "spent", "customers_targeted", "objective", "value_mean",
        "value_hdi_90%_low", "value_hdi_90%_high", "roi_mean", "p_roi_negative",
        "expected_loss", "marginal_value", "next_efficiency", "kept_previous"]
    assert curve.attrs == {"currency": "EUR", "hdi_prob": 0.9, "criterion": "mean",
                           "method": "greedy"}


def test_marginal_value_is_the_slope_between_grid_points(values):
    curve = budget_curve(values, [300.0, 100.0, 200.0, 100.0])
    assert list(curve["budget"]) == [100.0, 200.0, 300.0]  # sorted, duplicates dropped
    assert np.isnan(curve["marginal_value"].iloc[0])
    slope = np.diff(curve["value_mean"]) / 100.0
    np.testing.assert_allclose(curve["marginal_value"].iloc[1:], slope)
    # Each grid point's next unit of budget is worth at least the slope to the next one
    # in this concave, well-filled regime.
    assert (curve["next_efficiency"].iloc[:-1].to_numpy() >= slope - 1e-9).all()


def test_same_inputs_same_curve(values):
    pd.testing.assert_frame_equal(budget_curve(values, n_points=6),
                                  budget_curve(values, n_points=6))


def test_next_efficiency_is_the_best_increment_left_out(from_draws):
    # As in test_greedy: at 4.5, c0's second step (a2 → a4, 4/3 per unit) is the best
    # increment that does not fit; with everything bought nothing is left out.
    means = np.array([[NAN, -1.0, 3.0, 4.0, 7.0], [2.0, NAN, NAN, 5.0, NAN],
                      [NAN, 0.5, NAN, NAN, NAN]])
    values = from_draws(means[None, None], [0.0, 1.0, 2.0, 4.0, 5.0],
                        eligible=~np.isnan(means))
    options = scored_options(values)
    assert next_increment_efficiency(options, allocate(values, 4.5)) == pytest.approx(4 / 3)
    assert next_increment_efficiency(options, allocate(values, 100.0)) == 0.0


def test_next_efficiency_counts_the_fixed_cost_of_an_unopened_action(from_draws):
    # One customer, a1 worth 10, costs 1 + 4 to open: (10 − 4) / (1 + 4) per unit.
    values = from_draws(np.full((1, 1, 1, 1), 10.0), [1.0], [4.0])
    options = scored_options(values)
    assert next_increment_efficiency(options, allocate(values, 3.0)) == pytest.approx(6 / 5)


def test_a_worse_allocation_at_a_larger_budget_is_not_taken(values, monkeypatch):
    real = curve_module.allocate_options

    def erratic(options, budget, method):
        # At 300 pretend the method only managed what 100 buys.
        return real(options, 100.0 if budget == 300.0 else budget, method)

    monkeypatch.setattr(curve_module, "allocate_options", erratic)
    curve = budget_curve(values, [100.0, 200.0, 300.0])
    assert list(curve["kept_previous"]) == [False, False, True]
    kept, before = curve.iloc[2], curve.iloc[1]
    assert kept["budget"] == 300.0
    for column in ("spent", "objective", "value_mean", "customers_targeted"):
        assert kept[column] == before[column]
    assert kept["marginal_value"] == 0.0


def test_bad_grids_are_named(values, from_draws):
    with pytest.raises(SpecError, match="'budgets'"):
        budget_curve(values, [100.0, -1.0])
    with pytest.raises(SpecError, match="'budgets' is empty"):
        budget_curve(values, [])
    with pytest.raises(SpecError, match="'n_points'"):
        budget_curve(values, n_points=1)
    with pytest.raises(SpecError, match=r"budget\.method"):
        budget_curve(values, method="lp")
    with pytest.raises(DataError, match="give the budgets explicitly"):
        budget_curve(from_draws(-np.ones((1, 2, 3, 2)), [1.0, 2.0]))
