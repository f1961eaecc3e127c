"""Gamma-Gamma spend: published MLE, conditional mean, density normalisation."""

import numpy as np
import pytest
from scipy import integrate, optimize

from bayesclv.maths import gammagamma_conditional_mean_spend, gammagamma_loglik

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
