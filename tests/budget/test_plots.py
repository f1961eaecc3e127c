"""The budget-curve plot."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bayesclv.budget import budget_curve, plot_budget_curve  # noqa: E402
from bayesclv.errors import DataError  # noqa: E402


@pytest.fixture(scope="module")
def curve(make_values):
    return budget_curve(make_values(80, seed=9), n_points=6, hdi_prob=0.8)


def test_plot_shows_mean_band_and_break_even(curve):
    fig, ax = plt.subplots()
    assert plot_budget_curve(curve, ax=ax) is ax
    assert "EUR" in ax.get_xlabel() and "EUR" in ax.get_ylabel()
    assert "80 % HDI" in ax.get_title()
    mean = next(line for line in ax.get_lines() if line.get_label() == "posterior mean")
    np.testing.assert_allclose(mean.get_xdata(), curve["budget"])
    np.testing.assert_allclose(mean.get_ydata(), curve["value_mean"])
    even = next(line for line in ax.get_lines() if line.get_label() == "break-even")
    assert set(even.get_ydata()) == {0.0}
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(curve["value_hdi_80%_low"].min())
    assert band.max() == pytest.approx(curve["value_hdi_80%_high"].max())
    plt.close(fig)


def test_plot_makes_its_own_axes_and_refuses_other_tables(curve):
    ax = plot_budget_curve(curve)
    assert ax.figure is not None
    plt.close(ax.figure)
    with pytest.raises(DataError, match="budget_curve"):
        plot_budget_curve(curve.drop(columns="value_hdi_80%_low"))
