"""BG/NBD: published log-likelihood and MLE, lifetimes, simulation."""

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter
from scipy import optimize

from bayesclv.maths import (
    bgnbd_conditional_expected_purchases,
    bgnbd_expected_purchases,
    bgnbd_loglik,
    bgnbd_p_alive,
)

PUBLISHED = dict(r=0.243, alpha=4.414, a=0.793, b=2.426)
P = tuple(PUBLISHED.values())


def test_total_loglik_at_published_mle(cdnow):
    ll = bgnbd_loglik(*P, cdnow.x.values, cdnow.t_x.values, cdnow["T"].values).sum()
    assert ll == pytest.approx(-9582.4, abs=0.1)


def test_mle_reproduces_published_parameters(cdnow):
    x, t_x, T = cdnow.x.values, cdnow.t_x.values, cdnow["T"].values
    fit = optimize.minimize(lambda lp: -bgnbd_loglik(*np.exp(lp), x, t_x, T).sum(),
                            np.zeros(4), method="L-BFGS-B")
    np.testing.assert_allclose(np.exp(fit.x), P, rtol=0.01)


def test_heavy_buyers_and_x_zero_are_finite():
    x = np.array([0, 1, 500, 500])
    t_x = np.array([0.0, 0.0, 38.0, 0.1])
    out = bgnbd_loglik(*P, x, t_x, 38.86)
    assert np.isfinite(out).all()
    # x = 0: only the "alive" branch, B(a, b)/B(a, b) = 1.
    assert out[0] == pytest.approx(P[0] * np.log(P[1] / (P[1] + 38.86)), rel=1e-13)


def _lifetimes_fitter():
    fitter = BetaGeoFitter()
    fitter.params_ = pd.Series(PUBLISHED)
    return fitter


@pytest.mark.parametrize(("x", "t_x", "T"), [(0, 0.0, 38.86), (2, 30.43, 38.86), (1, 1.0, 38.86),
                                             (10, 38.0, 38.86), (300, 38.0, 38.86)])
def test_p_alive_and_conditional_expectation_match_lifetimes(x, t_x, T):
    fitter = _lifetimes_fitter()
    assert bgnbd_p_alive(*P, x, t_x, T) == pytest.approx(
        float(np.squeeze(fitter.conditional_probability_alive(x, t_x, T))), rel=1e-10)
    assert bgnbd_conditional_expected_purchases(*P, x, t_x, T, 39.0) == pytest.approx(
        float(np.squeeze(fitter.conditional_expected_number_of_purchases_up_to_time(
            39.0, x, t_x, T))), rel=1e-9)


def test_unconditional_expectation_matches_lifetimes():
    assert bgnbd_expected_purchases(*P, np.array([1.0, 39.0, 78.0])) == pytest.approx(
        _lifetimes_fitter().expected_number_of_purchases_up_to_time(np.array([1.0, 39.0, 78.0])),
        rel=1e-10)


def _simulate(n, T, t, rng):
    r, alpha, a, b = P
    lam = rng.gamma(r, 1.0 / alpha, n)
    last = rng.geometric(rng.beta(a, b, n))  # the repeat purchase after which they drop out
    n_T = rng.poisson(lam * T)
    x = np.minimum(n_T, last)
    # t_x: the x-th of n_T uniform arrival times on (0, T].
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), np.maximum(n_T - x + 1, 1)), 0.0)
    alive = n_T < last
    future = np.where(alive, np.minimum(rng.poisson(lam * t), last - n_T), 0)
    return x, t_x, alive, future


def test_scoring_agrees_with_simulation_of_the_generative_process():
    rng = np.random.default_rng(2005)
    T, t = 38.86, 39.0
    x, t_x, alive, future = _simulate(200_000, T, t, rng)
    p = bgnbd_p_alive(*P, x, t_x, T)
    e = bgnbd_conditional_expected_purchases(*P, x, t_x, T, t)
    assert abs(p.mean() - alive.mean()) < 4 * alive.std() / np.sqrt(alive.size)
    assert abs(e.mean() - future.mean()) < 4 * future.std() / np.sqrt(future.size)
    zero = x == 0
    assert abs(e[zero][0] - future[zero].mean()) < 4 * future[zero].std() / np.sqrt(zero.sum())
    _, _, _, new = _simulate(200_000, 0.0, t, rng)
    assert abs(bgnbd_expected_purchases(*P, t) - new.mean()) < 4 * new.std() / np.sqrt(new.size)
