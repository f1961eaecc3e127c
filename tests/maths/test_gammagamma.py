"""Gamma-Gamma spend: published MLE, conditional mean, density normalisation."""

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from bayesclv.maths import gammagamma_conditional_mean_spend, gammagamma_loglik
from bayesclv.maths.gammagamma import gammagamma_treated_loglik

P = (6.25, 3.74, 15.44)


def test_mle_on_repeat_buyers_reproduces_published_parameters(cdnow):
    buyers = cdnow[cdnow.x > 0]
    assert len(buyers) == 946
    n, zbar = buyers.x.values, buyers.zbar.values
    fit = optimize.minimize(lambda lp: -gammagamma_loglik(*np.exp(lp), n, zbar).sum(),
                            np.log([1.0, 1.0, 1.0]), method="Nelder-Mead",
                            options=dict(xatol=1e-8, fatol=1e-10, maxiter=5000))
    np.testing.assert_allclose(np.exp(fit.x), P, rtol=0.02)


@pytest.mark.parametrize("n", [1, 3, 20])
def test_density_integrates_to_one_with_the_conditional_mean_of_the_prior(n):
    total = integrate.quad(lambda z: np.exp(gammagamma_loglik(*P, n, z)), 0, np.inf)[0]
    assert total == pytest.approx(1.0, rel=1e-8)
    mean = integrate.quad(lambda z: z * np.exp(gammagamma_loglik(*P, n, z)), 0, np.inf)[0]
    assert mean == pytest.approx(P[0] * P[2] / (P[1] - 1.0), rel=1e-8)


def test_conditional_mean_spend():
    p, q, gamma = P
    assert gammagamma_conditional_mean_spend(*P, 0, 0.0) == pytest.approx(p * gamma / (q - 1))
    # Weighted average of the prior mean and the customer's own mean (FHL 2005).
    n, zbar = 5, 40.0
    weight = p * n / (p * n + q - 1)
    want = (1 - weight) * p * gamma / (q - 1) + weight * zbar
    assert gammagamma_conditional_mean_spend(*P, n, zbar) == pytest.approx(want, rel=1e-14)


@pytest.mark.parametrize("q", [1e3, 1e6, 1e12, 1e40, 1e86])
def test_huge_q_tends_to_the_gamma_density_of_the_mean(q):
    # q → ∞ with q/γ = ν fixed: every customer has the same ν, so the mean of n
    # Gamma(p, ν) transactions is Gamma(pn, rate nν); the error is O(1/q).
    from scipy import stats

    p, nu = 3.0, 0.2
    n = np.array([1.0, 2.0, 7.0, 40.0])
    zbar = np.array([5.0, 14.0, 30.0, 16.0])
    got = gammagamma_loglik(p, q, q / nu, n, zbar)
    want = stats.gamma.logpdf(zbar, a=p * n, scale=1.0 / (n * nu))
    np.testing.assert_allclose(got, want, rtol=0, atol=max(5e-12, 50.0 * p * n.max() / q))


def test_the_stable_form_joins_the_plain_one_at_the_switch():
    from scipy import special

    from bayesclv.maths.gammagamma import LARGE_Q

    p, n, zbar = 2.5, np.array([1.0, 3.0, 12.0]), np.array([8.0, 20.0, 35.0])
    for q in (LARGE_Q * 0.999, LARGE_Q * 1.001):
        gamma = q / 0.1
        pn = p * n
        plain = (special.gammaln(pn + q) - special.gammaln(pn) - special.gammaln(q)
                 + q * np.log(gamma) + (pn - 1) * np.log(zbar) + pn * np.log(n)
                 - (pn + q) * np.log(gamma + n * zbar))
        np.testing.assert_allclose(gammagamma_loglik(p, q, gamma, n, zbar), plain,
                                   rtol=0, atol=1e-8)


def _treated_oracle(p, q, gamma, f, n1, s1, n2, s2):
    """Mix the Gamma densities of the two sums over ν by quadrature (in log ν, at the mode)."""
    def log_density(x):
        nu = np.exp(x)
        value = stats.gamma.logpdf(nu, q, scale=1 / gamma) + x
        if n1:
            value += stats.gamma.logpdf(s1, p * n1, scale=1 / nu)
        if n2:
            value += stats.gamma.logpdf(s2, p * n2, scale=f / nu)
        return value

    mode = np.log((p * (n1 + n2) + q) / (gamma + s1 + s2 / f))
    peak = log_density(mode)
    value, _ = integrate.quad(lambda x: np.exp(log_density(x) - peak), mode - 30, mode + 30,
                              points=[mode], epsrel=1e-12, limit=500)
    return np.log(value) + peak


def test_treated_spend_density_matches_mixing_over_nu_numerically():
    rng = np.random.default_rng(0)
    for _ in range(100):
        p, q = rng.uniform(1, 8), rng.uniform(1.5, 6)
        gamma, f = rng.uniform(5, 30), np.exp(rng.normal(0, 0.4))
        n1, n2 = (int(v) for v in rng.integers(0, 6, 2))
        n1 = max(n1, 1 - n2)
        s1, s2 = rng.uniform(5, 200) * n1, rng.uniform(5, 200) * n2
        got = gammagamma_treated_loglik(p, q, gamma, np.log(f), n1, s1, n2, s2)
        assert got == pytest.approx(_treated_oracle(p, q, gamma, f, n1, s1, n2, s2), abs=1e-9)


def test_treated_spend_with_nothing_after_is_the_density_of_the_sum():
    # the density of the mean is that of the sum times n (Jacobian of zbar = S / n)
    got = gammagamma_treated_loglik(6.25, 3.74, 15.44, np.log(0.7), 4, 4 * 35.0, 0, 0.0)
    assert got + np.log(4) == pytest.approx(gammagamma_loglik(6.25, 3.74, 15.44, 4, 35.0),
                                            abs=1e-12)
