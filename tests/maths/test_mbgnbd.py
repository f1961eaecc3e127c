"""MBG/NBD: lifetimes' ModifiedBetaGeoFitter, the published CDNOW estimates, quadrature and
simulation of the generative process (the PyTensor graph: tests/maths/test_backend.py)."""

import numpy as np
import pandas as pd
import pytest
from lifetimes import ModifiedBetaGeoFitter
from scipy import integrate, optimize, stats
from scipy.special import betaln, gammaln

from bayesclv.maths import (
    bgnbd_loglik,
    mbgnbd_conditional_expected_purchases,
    mbgnbd_count_loglik,
    mbgnbd_expected_purchases,
    mbgnbd_loglik,
    mbgnbd_p_alive,
    mbgnbd_timing_loglik,
)

# BTYDplus's MBG/NBD fit of the CDNOW sample, 39 weeks (quoted by lifetimes' and
# PyMC-Marketing's tests): r, alpha, a, b.
PUBLISHED = dict(r=0.525, alpha=6.183, a=0.891, b=1.614)
P = tuple(PUBLISHED.values())
# Our MLE below (the likelihood is flat to ~1e-5 in a and b); log-likelihood -9582.13268.
MLE = (0.524838, 6.182992, 0.891356, 1.614000)
PARAMETER_SETS = [P, (0.243, 4.414, 0.793, 2.426), (2.0, 40.0, 3.0, 0.5), (0.1, 1.0, 0.2, 20.0)]


def _history(cdnow):
    return cdnow.x.to_numpy(float), cdnow.t_x.to_numpy(float), cdnow["T"].to_numpy(float)


def _lifetimes_fitter(params=PUBLISHED):
    fitter = ModifiedBetaGeoFitter()
    fitter.params_ = pd.Series(params)
    return fitter


@pytest.mark.parametrize("params", PARAMETER_SETS)
def test_loglik_per_customer_matches_lifetimes(cdnow, params):
    x, t_x, T = _history(cdnow)
    ours = mbgnbd_loglik(*params, x, t_x, T)
    # lifetimes' negative log-likelihood is a weighted mean: one customer at a time it is
    # that customer's negative log-likelihood.
    nll = ModifiedBetaGeoFitter._negative_log_likelihood
    theirs = np.array([
        -nll(np.log(params), x[i:i + 1], t_x[i:i + 1], T[i:i + 1], np.ones(1), 0.0)
        for i in range(x.size)
    ])
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_count_and_timing_parts_add_up_to_the_paper_likelihood():
    # The two terms of Batislam et al.'s L, written out with Beta functions.
    r, alpha, a, b = P
    x, t_x, T = np.array([0, 0, 1, 7, 200]), np.array([0, 0, 0.5, 30, 38]), np.array(
        [0.0, 38.86, 38.86, 38.86, 38.86])
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    alive = betaln(a, b + x + 1) - (r + x) * np.log(alpha + T)
    gone = betaln(a + 1, b + x) - (r + x) * np.log(alpha + t_x)
    want = common + np.logaddexp(alive, gone)
    got = mbgnbd_count_loglik(*P, x) + mbgnbd_timing_loglik(*P, x, t_x, T)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(mbgnbd_loglik(*P, x, t_x, T), want, rtol=1e-13, atol=1e-15)
    # At T = 0 the history "no repeat purchase" is certain.
    assert abs(got[0]) < 1e-15


def test_mle_reproduces_lifetimes_and_published_parameters(cdnow):
    x, t_x, T = _history(cdnow)
    fit = optimize.minimize(lambda lp: -mbgnbd_loglik(*np.exp(lp), x, t_x, T).sum(),
                            np.zeros(4), method="Nelder-Mead",
                            options={"xatol": 1e-9, "fatol": 1e-9, "maxiter": 4000})
    ours = np.exp(fit.x)
    np.testing.assert_allclose(ours, MLE, rtol=1e-5)
    assert -fit.fun == pytest.approx(-9582.13268, abs=1e-5)
    theirs = ModifiedBetaGeoFitter().fit(x, t_x, T).params_[["r", "alpha", "a", "b"]]
    np.testing.assert_allclose(ours, theirs.to_numpy(), rtol=1e-5)
    # The published values are rounded to 3 decimals.
    np.testing.assert_allclose(ours, P, atol=6e-4)
    # MBG/NBD fits CDNOW a little better than BG/NBD at its published MLE (-9582.4).
    bg = bgnbd_loglik(0.243, 4.414, 0.793, 2.426, x, t_x, T).sum()
    assert bg == pytest.approx(-9582.4, abs=0.1) and -fit.fun > bg


@pytest.mark.parametrize(("x", "t_x", "T"), [(0, 0.0, 38.86), (0, 0.0, 0.0), (2, 30.43, 38.86),
                                             (1, 1.0, 38.86), (10, 38.0, 38.86),
                                             (300, 38.0, 38.86)])
def test_p_alive_and_conditional_expectation_match_lifetimes(x, t_x, T):
    fitter = _lifetimes_fitter()
    assert mbgnbd_p_alive(*P, x, t_x, T) == pytest.approx(
        float(np.squeeze(fitter.conditional_probability_alive(x, t_x, T))), rel=1e-12)
    assert mbgnbd_conditional_expected_purchases(*P, x, t_x, T, 39.0) == pytest.approx(
        float(np.squeeze(fitter.conditional_expected_number_of_purchases_up_to_time(
            39.0, x, t_x, T))), rel=1e-9)


def test_p_alive_at_no_repeat_purchase_is_below_one():
    # At T = 0 it is the chance of surviving the first purchase, b/(a+b).
    r, alpha, a, b = P
    assert mbgnbd_p_alive(*P, 0, 0.0, 0.0) == pytest.approx(b / (a + b), rel=1e-14)
    assert mbgnbd_p_alive(*P, 0, 0.0, 38.86) < b / (a + b)


def test_unconditional_expectation_matches_lifetimes():
    t = np.array([0.1429, 1.0, 3.0, 31.8571, 39.0, 78.0])
    assert mbgnbd_expected_purchases(*P, t) == pytest.approx(
        _lifetimes_fitter().expected_number_of_purchases_up_to_time(t), rel=1e-10)


def test_p_alive_and_expectations_match_quadrature_over_p():
    # Independent of lifetimes: mix the individual-level quantities over p ~ Beta(a, b) by
    # quadrature, λ ~ Gamma(r, α) in closed form. Given p, a customer survives x + 1
    # chances with (1-p)^(x+1) and E[purchases in (0, t)] = (1-p)/p (1 - E[e^(-λ p t)]).
    r, alpha, a, b = P
    beta = stats.beta(a, b)
    x, t_x, T = 3, 20.0, 38.86

    def mixed(f):
        return integrate.quad(lambda p: beta.pdf(p) * f(p), 0, 1, limit=200)[0]

    # P(alive): alive branch ∝ (1-p)^(x+1) E[λ^x e^(-λT)], gone ∝ p (1-p)^x E[λ^x e^(-λ t_x)];
    # the λ parts are Γ(r+x)/Γ(r) α^r (α+·)^-(r+x), whose common factor cancels.
    alive = mixed(lambda p: (1 - p) ** (x + 1)) * (alpha + T) ** -(r + x)
    gone = mixed(lambda p: p * (1 - p) ** x) * (alpha + t_x) ** -(r + x)
    assert mbgnbd_p_alive(*P, x, t_x, T) == pytest.approx(alive / (alive + gone), rel=1e-9)
    t = 39.0
    new = mixed(lambda p: (1 - p) / p * (1 - (alpha / (alpha + p * t)) ** r))
    assert mbgnbd_expected_purchases(*P, t) == pytest.approx(new, rel=1e-8)


def _simulate(n, T, t, rng):
    r, alpha, a, b = P
    lam = rng.gamma(r, 1.0 / alpha, n)
    # the number of repeat purchases before dropping out: Geometric(p) on {0, 1, ...}
    last = rng.geometric(rng.beta(a, b, n)) - 1
    n_T = rng.poisson(lam * T)
    x = np.minimum(n_T, last)
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), np.maximum(n_T - x + 1, 1)), 0.0)
    alive = n_T < last
    future = np.where(alive, np.minimum(rng.poisson(lam * t), last - n_T), 0)
    return x, t_x, alive, future


def test_scoring_agrees_with_simulation_of_the_generative_process():
    rng = np.random.default_rng(2007)
    T, t = 38.86, 39.0
    x, t_x, alive, future = _simulate(200_000, T, t, rng)
    p = mbgnbd_p_alive(*P, x, t_x, T)
    e = mbgnbd_conditional_expected_purchases(*P, x, t_x, T, t)
    assert abs(p.mean() - alive.mean()) < 4 * alive.std() / np.sqrt(alive.size)
    assert abs(e.mean() - future.mean()) < 4 * future.std() / np.sqrt(future.size)
    zero = x == 0
    assert abs(p[zero][0] - alive[zero].mean()) < 4 * alive[zero].std() / np.sqrt(zero.sum())
    assert abs(e[zero][0] - future[zero].mean()) < 4 * future[zero].std() / np.sqrt(zero.sum())
    _, _, _, new = _simulate(200_000, 0.0, t, rng)
    assert abs(mbgnbd_expected_purchases(*P, t) - new.mean()) < 4 * new.std() / np.sqrt(new.size)
