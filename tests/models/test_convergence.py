"""Convergence diagnostics flag exactly the failures they should, in plain words."""

import warnings

import arviz as az
import numpy as np
import pytest
import xarray as xr

from bayesclv.errors import ConvergenceWarning
from bayesclv.models.convergence import _bfmi, diagnose, warn_if_unconverged


def chains(values: np.ndarray, name: str = "log_r_pop") -> xr.Dataset:
    return xr.Dataset({name: (("chain", "draw"), values)})


def stats(n_chains: int, n_draws: int, diverging: int = 0, seed: int = 0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    flags = np.zeros((n_chains, n_draws), dtype=bool)
    flags.flat[:diverging] = True
    energy = rng.normal(size=(n_chains, n_draws))
    return xr.Dataset(
        {"diverging": (("chain", "draw"), flags), "energy": (("chain", "draw"), energy)}
    )


def test_independent_chains_pass():
    rng = np.random.default_rng(1)
    result = diagnose(chains(rng.normal(size=(4, 1000))), stats(4, 1000), ["log_r_pop"])
    assert result.ok, result.problems
    assert result.table.loc["log_r_pop", "r_hat"] == pytest.approx(1.0, abs=0.01)
    # iid draws: bulk ESS close to the number of draws.
    assert result.table.loc["log_r_pop", "ess_bulk"] > 3000
    # iid energy: E-BFMI = E[(ΔE)^2] / Var(E) = 2.
    assert all(b == pytest.approx(2.0, rel=0.15) for b in result.bfmi)


def test_disagreeing_chains_flag_rhat_and_warn():
    rng = np.random.default_rng(2)
    values = rng.normal(size=(4, 500)) + np.array([0.0, 0.0, 0.0, 3.0])[:, None]
    result = diagnose(chains(values), stats(4, 500), ["log_r_pop"])
    assert result.table.loc["log_r_pop", "r_hat"] > 1.1
    assert any("R-hat above 1.01" in p and "log_r_pop" in p for p in result.problems)
    with pytest.warns(ConvergenceWarning, match="R-hat above 1.01"):
        warn_if_unconverged(result, "the frequency model")


def test_divergences_low_ess_and_bfmi_are_reported():
    rng = np.random.default_rng(3)
    # A random walk: highly autocorrelated, so ESS is tiny.
    walk = rng.normal(size=(2, 300)).cumsum(axis=1)
    sampler = stats(2, 300, diverging=7)
    sampler["energy"] = (("chain", "draw"), rng.normal(size=(2, 300)).cumsum(axis=1))
    result = diagnose(chains(walk), sampler, ["log_r_pop"])
    assert result.divergences == 7
    text = " ".join(result.problems)
    assert "7 divergent transition(s)" in text
    assert "effective sample size below 200" in text
    assert "E-BFMI below 0.3" in text


def test_segment_parameters_are_labelled():
    rng = np.random.default_rng(4)
    posterior = xr.Dataset(
        {"log_r_z": (("chain", "draw", "segment"), rng.normal(size=(2, 400, 3)))},
        coords={"segment": ["a", "b", "c"]},
    )
    result = diagnose(posterior, stats(2, 400), ["log_r_z"])
    assert list(result.table.index) == ["log_r_z[a]", "log_r_z[b]", "log_r_z[c]"]


def test_no_warning_when_converged():
    rng = np.random.default_rng(5)
    result = diagnose(chains(rng.normal(size=(4, 1000))), stats(4, 1000), ["log_r_pop"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        warn_if_unconverged(result, "the frequency model")


def test_bfmi_divides_by_the_variance_over_n_draws_unlike_arviz_1():
    # E-BFMI keeps ArviZ 0.x's definition (variance with ddof 0); ArviZ 1.x uses ddof 1.
    energy = stats(3, 200, seed=6)["energy"]
    ours = _bfmi(energy.values)
    arviz_1 = az.bfmi(energy.to_dataset(), group=None)["energy"].values
    np.testing.assert_allclose(ours * 199 / 200, arviz_1, rtol=1e-12)
    by_hand = [np.sum(np.diff(e) ** 2) / 199 / np.mean((e - e.mean()) ** 2) for e in energy.values]
    np.testing.assert_allclose(ours, by_hand, rtol=1e-12)


def test_table_is_one_row_per_element_with_the_stats_as_columns():
    rng = np.random.default_rng(7)
    posterior = xr.Dataset(
        {"log_r_pop": (("chain", "draw"), rng.normal(size=(2, 300))),
         "log_r_z": (("chain", "draw", "segment"), rng.normal(size=(2, 300, 2)))},
        coords={"segment": ["a", "b"]},
    )
    table = diagnose(posterior, stats(2, 300), ["log_r_pop", "log_r_z"]).table
    assert list(table.columns) == ["mean", "sd", "r_hat", "ess_bulk", "ess_tail"]
    assert list(table.index) == ["log_r_pop", "log_r_z[a]", "log_r_z[b]"]
    values = posterior["log_r_z"].sel(segment="b").values
    assert table.loc["log_r_z[b]", "mean"] == pytest.approx(values.mean(), rel=1e-12)
    assert table.loc["log_r_z[b]", "sd"] == pytest.approx(values.std(), rel=1e-12)
