"""Predictive checks: the simulator matches the closed forms; CDNOW's histogram is covered."""

import numpy as np
import pytest

from bayesclv.datasets import load_cdnow_summary_39wk
from bayesclv.errors import DataError
from bayesclv.maths import (
    bgnbd_expected_purchases,
    mbgnbd_expected_purchases,
    paretonbd_expected_purchases,
)
from bayesclv.models import fit
from bayesclv.validate.ppc import predictive_check, simulate_repeat_purchases

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
MBG = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}
PARETO = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
T = np.linspace(5.0, 40.0, 8)


@pytest.mark.parametrize(
    ("family", "params", "expected"),
    [
        ("bg_nbd", BG, bgnbd_expected_purchases),
        ("mbg_nbd", MBG, mbgnbd_expected_purchases),
        ("pareto_nbd", PARETO, paretonbd_expected_purchases),
    ],
)
def test_simulated_mean_matches_closed_form(family, params, expected):
    rng = np.random.default_rng(7)
    n = 200_000
    shaped = {k: np.full((n, T.size), v) for k, v in params.items()}
    x = simulate_repeat_purchases(family, shaped, T, rng)
    truth = expected(*params.values(), T)
    se = x.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(x.mean(axis=0) - truth) < 4 * se)


def test_bgnbd_zero_purchase_probability():
    # P(X(t) = 0) = (alpha / (alpha + t))^r under BG/NBD (FHL 2005, eq. 8 with x = 0).
    rng = np.random.default_rng(8)
    n = 200_000
    shaped = {k: np.full((n, T.size), v) for k, v in BG.items()}
    zero = simulate_repeat_purchases("bg_nbd", shaped, T, rng) == 0
    truth = (BG["alpha"] / (BG["alpha"] + T)) ** BG["r"]
    se = np.sqrt(truth * (1 - truth) / n)
    assert np.all(np.abs(zero.mean(axis=0) - truth) < 4 * se)


def test_posterior_predictive_covers_cdnow(spec_factory):
    summary = load_cdnow_summary_39wk()
    result = fit(summary, spec_factory("bg_nbd", spend=False, tune=300, draws=300), progress=False)
    check = predictive_check(result, summary, n_draws=300)
    assert check["observed"].sum() == 2357
    assert float(check["predicted_mean"].sum()) == pytest.approx(2357)
    # FHL (2005, fig. 3): BG/NBD reproduces CDNOW's calibration histogram closely; allow one
    # of the eight bins outside its 90 % predictive interval.
    assert int(check["inside"].sum()) >= 7
    prior = predictive_check(result, summary, kind="prior", n_draws=300)
    # The weak default priors spread the predicted zero-purchase count far wider.
    width = lambda c: float((c["predicted_high"] - c["predicted_low"]).sel(x="0").item())  # noqa: E731
    assert width(prior) > 5 * width(check)


def test_the_interval_is_central_at_the_mass_asked_for(cdnow, spec_factory, fit_factory):
    result = fit_factory(spec_factory("bg_nbd", spend=False), draws=20)
    wide = predictive_check(result, cdnow, n_draws=40, interval_prob=0.9, seed=3)
    narrow = predictive_check(result, cdnow, n_draws=40, interval_prob=0.5, seed=3)
    assert wide.attrs["interval"] == "central 90%" and narrow.attrs["interval"] == "central 50%"
    np.testing.assert_array_equal(wide["predicted_mean"], narrow["predicted_mean"])
    assert bool((wide["predicted_low"] <= narrow["predicted_low"]).all())
    assert bool((wide["predicted_high"] >= narrow["predicted_high"]).all())
    with pytest.raises(DataError, match="interval_prob=1.5 must be in"):
        predictive_check(result, cdnow, interval_prob=1.5)


@pytest.mark.parametrize("kind", ["posterior", "prior"])
def test_fits_with_covariates_are_checked_customer_by_customer(covariate_fit, kind):
    fitted, summary = covariate_fit
    check = predictive_check(fitted, summary, kind=kind, n_draws=20)
    per_segment = summary.frame.groupby("segment", observed=True).size()
    np.testing.assert_array_equal(check["predicted_mean"].sum("x").values, per_segment.values)
    np.testing.assert_array_equal(check["observed"].sum("x").values, per_segment.values)
