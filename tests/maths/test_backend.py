"""The array-namespace shim and the PyTensor versions of the log-likelihoods."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from bayesclv.maths import bgnbd_loglik, gammagamma_loglik, mbgnbd_loglik, paretonbd_loglik
from bayesclv.maths.backend import NUMPY_OPS, ops_for

EDGE_ROWS = np.array([
    # x, t_x, T
    [0, 0.0, 38.86],
    [0, 0.0, 0.0],      # T = 0
    [1, 0.0, 38.86],
    [2, 30.43, 38.86],
    [5, 38.86, 38.86],  # t_x = T
    [500, 30.0, 38.86],
    [500, 0.5, 38.86],
]).T

FAMILIES = {
    "paretonbd": (paretonbd_loglik, [(0.553, 10.578, 0.606, 11.669),
                                     (0.553, 10.578, 0.606, 10.578 + 1e-9),  # alpha ~ beta
                                     (0.3, 40.0, 2.0, 1.5), (2.0, 1.5, 0.3, 40.0)]),
    "bgnbd": (bgnbd_loglik, [(0.243, 4.414, 0.793, 2.426), (0.243, 4.414, 0.793, 1.0),
                             (2.0, 40.0, 3.0, 0.5)]),
    "mbgnbd": (mbgnbd_loglik, [(0.525, 6.183, 0.891, 1.614), (0.243, 4.414, 0.793, 1.0),
                               (2.0, 40.0, 3.0, 0.5), (0.1, 1.0, 0.2, 20.0)]),
}


def test_ops_for_picks_the_backend_from_argument_types():
    assert ops_for(1.0, np.ones(3)) is NUMPY_OPS
    assert ops_for(1.0, pt.dscalar()).name == "pytensor"


def test_numpy_log1mexp_is_accurate_on_both_sides():
    x = np.array([-1e-20, -1e-5, -0.5, -1.0, -40.0])
    np.testing.assert_allclose(NUMPY_OPS.log1mexp(x), np.log(-np.expm1(x)), rtol=1e-14, atol=1e-16)
    assert NUMPY_OPS.log1mexp(-40.0) == pytest.approx(-np.exp(-40.0), rel=1e-14)


def _compiled(loglik):
    theta = pt.dvector("theta")
    x, t_x, T = pt.dvector("x"), pt.dvector("t_x"), pt.dvector("T")
    ll = loglik(theta[0], theta[1], theta[2], theta[3], x, t_x, T)
    return pytensor.function([theta, x, t_x, T], [ll, pt.jacobian(ll, theta)])


@pytest.mark.parametrize("family", FAMILIES)
def test_pytensor_values_and_gradients_match_numpy(family):
    loglik, param_sets = FAMILIES[family]
    fn = _compiled(loglik)
    for theta in map(np.array, param_sets):
        values, jac = fn(theta, *EDGE_ROWS)
        np.testing.assert_allclose(values, loglik(*theta, *EDGE_ROWS), rtol=1e-12, atol=1e-12)
        assert np.isfinite(jac).all()
        h = 1e-6 * theta
        fd = np.stack([
            (loglik(*(theta + h * e), *EDGE_ROWS) - loglik(*(theta - h * e), *EDGE_ROWS))
            / (2 * h @ e) for e in np.eye(4)
        ], axis=1)
        np.testing.assert_allclose(jac, fd, rtol=1e-5, atol=1e-7)


def test_gammagamma_pytensor_matches_numpy_with_finite_gradients():
    p, q, g = pt.dscalars("p", "q", "g")
    n, z = np.array([1.0, 2.0, 50.0]), np.array([5.0, 30.0, 300.0])
    ll = gammagamma_loglik(p, q, g, n, z).sum()
    fn = pytensor.function([p, q, g], [ll, *pt.grad(ll, [p, q, g])])
    value, *grads = fn(6.25, 3.74, 15.44)
    assert value == pytest.approx(gammagamma_loglik(6.25, 3.74, 15.44, n, z).sum(), rel=1e-12)
    assert np.isfinite(grads).all()
