"""Decision criteria on draws whose answers are known exactly."""

import numpy as np
import pytest
import xarray as xr

from bayesclv.decision.criteria import Criterion, criterion, score
from bayesclv.errors import SpecError


def draws(values):
    """One chain of draws per column: dims (chain, draw, option)."""
    array = np.asarray(values, dtype=float)
    return xr.DataArray(array[None], dims=("chain", "draw", "option"),
                        coords={"option": [f"o{i}" for i in range(array.shape[1])]})


def test_each_criterion_on_known_draws():
    values = draws(np.column_stack([np.arange(100.0), np.full(100, 7.0)]))
    np.testing.assert_allclose(score(values), [49.5, 7.0])
    np.testing.assert_allclose(score(values, Criterion("quantile", 0.1)),
                               [np.quantile(np.arange(100.0), 0.1), 7.0])
    np.testing.assert_allclose(score(values, "cvar"), [4.5, 7.0])  # mean of 0..9
    sd = np.arange(100.0).std(ddof=1)
    np.testing.assert_allclose(score(values, Criterion("mean_minus_sd", 2.0)),
                               [49.5 - 2 * sd, 7.0])


def test_risk_aware_criteria_prefer_the_safe_option():
    rng = np.random.default_rng(0)
    risky = rng.normal(10.0, 30.0, 4000)
    safe = rng.normal(8.0, 1.0, 4000)
    values = draws(np.column_stack([risky, safe]))
    assert score(values).values.argmax() == 0
    for rule in ("quantile", "cvar", "mean_minus_sd"):
        assert score(values, rule).values.argmax() == 1


def test_nan_marks_what_does_not_apply_and_stays_nan():
    values = draws(np.column_stack([np.arange(10.0), np.full(10, np.nan)]))
    out = score(values, "cvar")
    assert np.isnan(out.values[1]) and out.values[0] == 0.0
    assert list(out.dims) == ["option"]


def test_labels_and_bad_parameters():
    assert Criterion("quantile", 0.05).label == "quantile_5%"
    assert Criterion("mean_minus_sd").label == "mean_minus_1sd"
    assert criterion(None).name == "mean"
    with pytest.raises(SpecError, match="needs a share q in"):
        Criterion("cvar", 1.5)
    with pytest.raises(SpecError, match="is not one of"):
        Criterion("median")
    with pytest.raises(SpecError, match="takes no parameter"):
        Criterion("mean", 0.1)
