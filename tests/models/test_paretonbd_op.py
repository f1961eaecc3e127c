"""The fused Pareto/NBD timing Op: against adaptive quadrature, finite differences and the
PyTensor graph of the maths formula (its Gauss–Legendre rule)."""

import importlib.util
import itertools
import pathlib

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from bayesclv.distinct import distinct
from bayesclv.maths import paretonbd_count_loglik, paretonbd_timing_loglik
from bayesclv.maths.paretonbd_kernel import dead_term_series
from bayesclv.models import paretonbd_op
from bayesclv.models.paretonbd_op import pareto_nbd_timing

_spec = importlib.util.spec_from_file_location(
    "paretonbd_oracle", pathlib.Path(__file__).parents[1] / "maths" / "paretonbd_oracle.py")
oracle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(oracle)

MODES = ["NUMBA", "FAST_RUN"]  # nutpie's backend, and PyMC's (the Op's Python perform)


def rows(n: int = 600, seed: int = 0):
    """Histories over the CDNOW-like range: x = 0, t_x = T, t_x ≈ 0 and heavy buyers."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(0.0, 78.0, n)
    t_x = T * rng.choice([0.0, 1e-3, 0.5, 0.999, 1.0], n) * rng.uniform(0.5, 1.0, n)
    t_x = np.minimum(t_x, T)
    x = np.where(t_x > 0, rng.choice([1, 2, 5, 20, 200], n), 0).astype(float)
    segment = rng.integers(0, 3, n)
    weight = rng.integers(1, 40, n).astype(float)
    return segment, x, t_x, T, weight


def reference(params, segment, x, t_x, T, weight):
    r, alpha, s, beta = params
    total = pt.dot(weight, paretonbd_timing_loglik(
        r[segment], alpha[segment], s[segment], beta[segment], x, t_x, T))
    return total


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_value_and_gradient_match_the_formula(mode, seed):
    data = rows(seed=seed)
    params = [pt.dvector(n) for n in ("r", "alpha", "s", "beta")]
    ours = pareto_nbd_timing(*params, *data)[0]
    theirs = reference(params, *data)
    f = pytensor.function(params, [ours, *pt.grad(ours, params)], mode=mode)
    g = pytensor.function(params, [theirs, *pt.grad(theirs, params)], mode="FAST_RUN")
    rng = np.random.default_rng(seed + 10)
    for _ in range(5):
        # r, s in [0.1, 3], α, β in [1, 50]: both branches of the absorbed base occur
        values = [rng.uniform(0.1, 3, 3), rng.uniform(1, 50, 3),
                  rng.uniform(0.1, 3, 3), rng.uniform(1, 50, 3)]
        got, want = f(*values), g(*values)
        assert got[0] == pytest.approx(want[0], rel=1e-10)
        for a, b in zip(got[1:], want[1:], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-8 * np.abs(b).max())


def test_only_rows_of_a_segment_move_its_gradient():
    segment, x, t_x, T, weight = rows(seed=3)
    segment = np.where(segment == 2, 1, segment)  # segment 2 has no rows
    params = [pt.dvector(n) for n in ("r", "alpha", "s", "beta")]
    ours = pareto_nbd_timing(*params, segment, x, t_x, T, weight)[0]
    f = pytensor.function(params, pt.grad(ours, params), mode="NUMBA")
    grads = f(*(np.array([0.5, 0.6, 0.7]), np.array([10.0, 11, 12]),
                np.array([0.6, 0.5, 0.4]), np.array([12.0, 11, 10])))
    for grad in grads:
        assert grad[2] == 0.0 and grad[0] != 0.0 and grad[1] != 0.0


def test_second_derivatives_are_refused_not_wrong():
    from pytensor.gradient import NullTypeGradError

    segment, x, t_x, T, weight = rows(n=20)
    params = [pt.dvector(n) for n in ("r", "alpha", "s", "beta")]
    total = pareto_nbd_timing(*params, segment, x, t_x, T, weight)[0]
    first = pt.grad(total, params[0]).sum()
    with pytest.raises(NullTypeGradError):
        pt.grad(first, params[0])


def one_row(r, alpha, s, beta, x, t_x, T):
    """The Op's value and gradient for a single row, one segment, weight 1."""
    one = np.zeros(1, np.int64)
    at_T, at_t_x = distinct(one, [T]), distinct(one, [t_x])
    out = paretonbd_op.timing_loglik_and_grad(
        *(np.array([v]) for v in (r, alpha, s, beta)), one,
        np.array([x]), np.array([t_x]), np.array([T]), np.ones(1),
        at_T.inverse, at_T.stacked(), at_t_x.inverse, at_t_x.stacked())
    return float(out[0]), np.array([float(g[0]) for g in out[1:]])


def uses_series(r, alpha, s, beta, x, t_x, T) -> bool:
    return dead_term_series(r, alpha, s, beta, x, t_x, T)[0]


# (r, α, s, β): α ≈ β (CDNOW's posterior), either one larger, equal, and far apart (where
# the series gives way to the quadrature); rows: light, heavy, t_x ≈ T, t_x ≈ 0, long T.
PARAMS = [(0.553, 10.578, 0.606, 11.669), (0.553, 11.669, 0.606, 10.578),
          (2.0, 7.0, 0.3, 7.0), (0.2, 5.0, 2.5, 9.0), (3.0, 2.0, 0.1, 40.0),
          (0.1, 45.0, 3.0, 1.5)]
HISTORIES = [(0, 0.0, 38.86), (1, 0.01, 38.86), (2, 30.43, 38.86), (30, 20.0, 78.0),
             (100, 38.0, 39.0), (500, 30.0, 38.86), (5, 38.859, 38.86)]


@pytest.mark.parametrize(("params", "history"), list(itertools.product(PARAMS, HISTORIES)))
def test_value_matches_adaptive_quadrature(params, history):
    value, _ = one_row(*params, *history)
    count = float(paretonbd_count_loglik(*params, history[0]))
    want = oracle.loglik_quad(*params, *history) - count
    # the series is exact to ~1e-14; rows it leaves to the quadrature keep its bound
    tol = 1e-11 if uses_series(*params, *history) else 2e-7
    assert value == pytest.approx(want, abs=tol * max(1.0, abs(want)))


def test_both_paths_occur_on_the_grid():
    paths = {uses_series(*p, *h) for p, h in itertools.product(PARAMS, HISTORIES) if h[1] < h[2]}
    assert paths == {True, False}
    # CDNOW's posterior region never needs the quadrature
    assert all(uses_series(*PARAMS[0], *h) for h in HISTORIES if h[1] < h[2])


@pytest.mark.parametrize(("params", "history"), list(itertools.product(PARAMS, HISTORIES)))
def test_gradient_matches_finite_differences(params, history):
    _, grad = one_row(*params, *history)
    for i, theta in enumerate(params):
        step = 1e-6 * theta
        up, down = list(params), list(params)
        up[i], down[i] = theta + step, theta - step
        numeric = (one_row(*up, *history)[0] - one_row(*down, *history)[0]) / (2 * step)
        assert grad[i] == pytest.approx(numeric, rel=1e-5, abs=1e-6)
