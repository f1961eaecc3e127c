"""Tidy summaries of per-draw values: columns named with the HDI level, MAP points, labels."""

import numpy as np
import pytest
import xarray as xr

from bayesclv.errors import DataError
from bayesclv.scoring.summaries import (
    hdi_label,
    ordered_segments,
    resolve_hdi_prob,
    summarise_draws,
)


def per_draw(values: np.ndarray) -> xr.Dataset:
    chains, draws, n = values.shape
    return xr.Dataset({"clv": (("chain", "draw", "customer"), values)},
                      coords={"chain": np.arange(chains), "draw": np.arange(draws),
                              "customer": [f"c{i}" for i in range(n)]})


def test_summary_statistics_over_chains_and_draws():
    values = np.random.default_rng(0).normal(size=(2, 500, 3)) + np.array([0.0, 10.0, -5.0])
    table = summarise_draws(per_draw(values), ["clv"], 0.8, "customer")
    assert list(table.columns) == ["clv_mean", "clv_median", "clv_sd", "clv_hdi_80%_low",
                                   "clv_hdi_80%_high"]
    assert list(table.index) == ["c0", "c1", "c2"] and table.index.name == "customer"
    flat = values.reshape(1000, 3)
    np.testing.assert_allclose(table["clv_mean"], flat.mean(axis=0))
    np.testing.assert_allclose(table["clv_sd"], flat.std(axis=0, ddof=1))
    # An 80 % HDI of a normal is close to mean ± 1.28 sd and holds 80 % of the draws.
    inside = (flat >= table["clv_hdi_80%_low"].values) & (flat <= table["clv_hdi_80%_high"].values)
    np.testing.assert_allclose(inside.mean(axis=0), 0.8, atol=0.01)


def test_a_single_draw_is_its_own_interval():
    values = np.array([[[1.0, 2.0]]])
    table = summarise_draws(per_draw(values), ["clv"], 0.9, "customer")
    np.testing.assert_array_equal(table["clv_hdi_90%_low"], [1.0, 2.0])
    np.testing.assert_array_equal(table["clv_hdi_90%_high"], [1.0, 2.0])
    np.testing.assert_array_equal(table["clv_sd"], [0.0, 0.0])


def test_missing_variable_and_bad_mass_are_named():
    draws = per_draw(np.zeros((1, 2, 1)))
    with pytest.raises(DataError, match=r"variables \['value'\] are not in the draws"):
        summarise_draws(draws, ["value"], 0.9, "customer")
    with pytest.raises(DataError, match="hdi_prob=1.5"):
        resolve_hdi_prob(draws, 1.5)
    assert resolve_hdi_prob(draws.assign_attrs(hdi_prob=0.5), None) == 0.5
    assert resolve_hdi_prob(draws, None) == 0.9


def test_labels():
    assert hdi_label(0.9) == "hdi_90%" and hdi_label(0.29) == "hdi_29%"
    assert ordered_segments(np.array(["z", "q", "m", "z"]), ["m", "x", "z"]) == ["m", "z", "q"]
    assert ordered_segments(np.array(["b", "a"]), None) == ["b", "a"]
