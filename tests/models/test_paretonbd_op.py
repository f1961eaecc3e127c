"""The fused Pareto/NBD timing Op against the PyTensor graph of the maths formula."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from bayesclv.maths import paretonbd_timing_loglik
from bayesclv.models.paretonbd_op import pareto_nbd_timing

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
