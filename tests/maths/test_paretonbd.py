"""Pareto/NBD: Gauss-Legendre likelihood vs independent oracles, MLE, PyTensor, scoring."""

import importlib.util
import itertools
import pathlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifetimes import ParetoNBDFitter
from scipy import optimize

from bayesclv.maths import (
    paretonbd_conditional_expected_purchases,
    paretonbd_expected_purchases,
    paretonbd_loglik,
    paretonbd_p_alive,
)

_spec = importlib.util.spec_from_file_location(
    "paretonbd_oracle", pathlib.Path(__file__).with_name("paretonbd_oracle.py"))
oracle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(oracle)

PUBLISHED = dict(r=0.553, alpha=10.578, s=0.606, beta=11.669)
P = tuple(PUBLISHED.values())

# CDNOW-like grid, including alpha ~ beta, alpha >> beta, beta >> alpha, heavy buyers,
# t_x = T, t_x ~ 0 and short T.
GRID = list(itertools.product(
    [(0.553, 10.578, 0.606, 11.669), (0.553, 11.669, 0.606, 10.578), (0.243, 4.4, 0.3, 4.4),
     (0.2, 1.0, 2.5, 50.0), (2.5, 50.0, 0.2, 1.0), (3.0, 2.0, 0.1, 40.0), (0.1, 45.0, 3.0, 1.5)],
    [(0, 0.0, 38.86), (1, 0.01, 38.86), (2, 30.43, 38.86), (30, 20.0, 78.0), (100, 38.0, 39.0),
     (500, 30.0, 38.86), (500, 0.5, 78.0), (5, 38.86, 38.86), (0, 0.0, 0.0), (0, 0.0, 0.5)],
))


@pytest.mark.parametrize(("params", "data"), GRID)
def test_gauss_legendre_matches_quadrature_on_cdnow_like_grid(params, data):
    got = paretonbd_loglik(*params, *data)
    want = oracle.loglik_quad(*params, *data)
    assert np.isfinite(got)
    # log-scale difference = relative error in L. The 16-node rule is exact to 1e-9 while
    # alpha and beta are within a factor 10 of each other, 1e-5 up to a factor 50
    # (docs/maths.md, "Measured accuracy").
    ratio = max(params[1], params[3]) / min(params[1], params[3])
    assert abs(got - want) <= (1e-9 if ratio <= 10 else 1e-5)


@pytest.mark.parametrize("params", [GRID[0][0], GRID[1][0], GRID[3][0], GRID[4][0]])
@pytest.mark.parametrize("data", [(0, 0.0, 38.86), (2, 30.43, 38.86), (30, 10.0, 78.0),
                                  (300, 5.0, 38.86)])
def test_gauss_legendre_matches_hyp2f1_closed_form(params, data):
    """Both branches (alpha >= beta, alpha < beta) of the Fader-Hardie 2F1 expression."""
    assert abs(paretonbd_loglik(*params, *data) - oracle.loglik_hyp2f1(*params, *data)) <= 1e-9


# Worst |error in log L| found by a corner search of this box (docs/maths.md, "Measured
# accuracy"), by how far apart alpha and beta are, with a factor 2.5 of headroom.
ERROR_BOUND_BY_SCALE_RATIO = ((3.0, 2e-8), (10.0, 5e-7), (50.0, 3e-3))


@settings(max_examples=150, deadline=None)
@given(
    r=st.floats(0.1, 3.0), s=st.floats(0.1, 3.0), alpha=st.floats(1.0, 50.0),
    beta=st.floats(1.0, 50.0), x=st.integers(0, 200), frac=st.floats(0.0, 1.0),
    T=st.floats(0.0, 78.0),
)
def test_gauss_legendre_error_within_documented_bounds(r, s, alpha, beta, x, frac, T):
    t_x = 0.0 if x == 0 else frac * T
    got = paretonbd_loglik(r, alpha, s, beta, x, t_x, T)
    ratio = max(alpha, beta) / min(alpha, beta)
    bound = next(b for limit, b in ERROR_BOUND_BY_SCALE_RATIO if ratio <= limit)
    assert abs(got - oracle.loglik_quad(r, alpha, s, beta, x, t_x, T)) <= bound


@settings(max_examples=100, deadline=None)
@given(
    r=st.floats(1e-3, 100.0), s=st.floats(1e-3, 100.0), alpha=st.floats(1e-3, 1e3),
    beta=st.floats(1e-3, 1e3), x=st.integers(0, 500), frac=st.floats(0.0, 1.0),
    T=st.floats(0.0, 200.0),
)
def test_finite_over_extreme_ranges(r, s, alpha, beta, x, frac, T):
    t_x = 0.0 if x == 0 else frac * T
    assert np.isfinite(paretonbd_loglik(r, alpha, s, beta, x, t_x, T))
    assert 0.0 <= paretonbd_p_alive(r, alpha, s, beta, x, t_x, T) <= 1.0


def test_t_x_equal_T_is_the_alive_term_only():
    r, alpha, s, beta = P
    x, T = 4, 30.0
    from scipy.special import gammaln

    want = (gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
            - (r + x) * np.log(alpha + T) - s * np.log(beta + T))
    assert paretonbd_loglik(*P, x, T, T) == pytest.approx(want, rel=1e-14)
    assert paretonbd_loglik(*P, 0, 0.0, 0.0) == pytest.approx(0.0, abs=1e-14)


def test_broadcasts_over_draws_and_customers(cdnow):
    draws = np.array([P, (0.5, 10.0, 0.7, 12.0)])[:, :, None]  # (param, draw, 1)
    out = paretonbd_loglik(*draws.transpose(1, 0, 2), cdnow.x.values, cdnow.t_x.values,
                           cdnow["T"].values)
    assert out.shape == (2, len(cdnow))
    np.testing.assert_allclose(out[0], paretonbd_loglik(*P, cdnow.x, cdnow.t_x, cdnow["T"]))


def test_total_loglik_at_published_mle(cdnow):
    ll = paretonbd_loglik(*P, cdnow.x.values, cdnow.t_x.values, cdnow["T"].values).sum()
    assert ll == pytest.approx(-9595.0, abs=0.1)  # Fader & Hardie (2005 note)


def test_mle_reproduces_published_parameters(cdnow):
    x, t_x, T = cdnow.x.values, cdnow.t_x.values, cdnow["T"].values

    def nll(log_params):
        return -paretonbd_loglik(*np.exp(log_params), x, t_x, T).sum()

    fit = optimize.minimize(nll, np.log([1.0, 10.0, 1.0, 10.0]), method="Nelder-Mead",
                            options=dict(xatol=1e-6, fatol=1e-8, maxiter=4000))
    np.testing.assert_allclose(np.exp(fit.x), P, rtol=0.02)


def _lifetimes_fitter():
    fitter = ParetoNBDFitter()
    fitter.params_ = pd.Series(PUBLISHED)
    return fitter


HISTORIES = [(0, 0.0, 38.86), (2, 30.43, 38.86), (1, 1.0, 38.86), (10, 38.0, 38.86),
             (50, 10.0, 38.86)]


@pytest.mark.parametrize(("x", "t_x", "T"), HISTORIES)
def test_p_alive_and_conditional_expectation_match_lifetimes(x, t_x, T):
    fitter = _lifetimes_fitter()
    assert paretonbd_p_alive(*P, x, t_x, T) == pytest.approx(
        float(np.squeeze(fitter.conditional_probability_alive(x, t_x, T))), rel=1e-9)
    assert paretonbd_conditional_expected_purchases(*P, x, t_x, T, 39.0) == pytest.approx(
        float(np.squeeze(fitter.conditional_expected_number_of_purchases_up_to_time(
            39.0, x, t_x, T))), rel=1e-9)


def test_unconditional_expectation_matches_lifetimes_and_s_equal_one_limit():
    assert paretonbd_expected_purchases(*P, 39.0) == pytest.approx(
        _lifetimes_fitter().expected_number_of_purchases_up_to_time(39.0), rel=1e-12)
    r, alpha, beta, t = 0.5, 10.0, 12.0, 52.0
    limit = r * beta / alpha * np.log1p(t / beta)
    assert paretonbd_expected_purchases(r, alpha, 1.0, beta, t) == pytest.approx(limit, rel=1e-14)
    assert paretonbd_expected_purchases(r, alpha, 1.0 + 1e-7, beta, t) == pytest.approx(
        limit, rel=1e-6)


def _simulate(n, T, t, rng):
    r, alpha, s, beta = P
    lam = rng.gamma(r, 1.0 / alpha, n)
    mu = rng.gamma(s, 1.0 / beta, n)
    death = rng.exponential(1.0 / mu)
    observed = np.minimum(death, T)
    x = rng.poisson(lam * observed)
    t_x = np.where(x > 0, observed * rng.beta(np.maximum(x, 1), 1.0), 0.0)
    alive = death > T
    future = rng.poisson(lam * np.clip(np.minimum(death, T + t) - T, 0.0, None))
    return x, t_x, alive, future


def test_scoring_agrees_with_simulation_of_the_generative_process():
    """Law of total expectation over simulated customers, and exact conditioning on x = 0."""
    rng = np.random.default_rng(20050101)
    T, t = 38.86, 39.0
    x, t_x, alive, future = _simulate(200_000, T, t, rng)
    p = paretonbd_p_alive(*P, x, t_x, T)
    e = paretonbd_conditional_expected_purchases(*P, x, t_x, T, t)
    se_alive = alive.std() / np.sqrt(alive.size)
    se_future = future.std() / np.sqrt(future.size)
    assert abs(p.mean() - alive.mean()) < 4 * se_alive
    assert abs(e.mean() - future.mean()) < 4 * se_future
    zero = x == 0
    assert abs(p[zero][0] - alive[zero].mean()) < 4 * alive[zero].std() / np.sqrt(zero.sum())
    assert abs(e[zero][0] - future[zero].mean()) < 4 * future[zero].std() / np.sqrt(zero.sum())
    new = rng.poisson(rng.gamma(P[0], 1.0 / P[1], 200_000)
                      * np.minimum(rng.exponential(1.0 / rng.gamma(P[2], 1.0 / P[3], 200_000)), t))
    assert abs(paretonbd_expected_purchases(*P, t) - new.mean()) < 4 * new.std() / np.sqrt(new.size)
