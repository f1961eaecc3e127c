"""The fused Op for treated customers: against adaptive quadrature, finite differences, the
PyTensor graph of the treatment formula and, with factors of 1, the untreated Op."""

import importlib.util
import itertools
import pathlib

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from bayesclv.maths.paretonbd_kernel import dead_term_series
from bayesclv.maths.paretonbd_treatment import paretonbd_treated_timing_loglik
from bayesclv.models import paretonbd_op
from bayesclv.models.paretonbd_op import pareto_nbd_timing, pareto_nbd_treated_timing

_spec = importlib.util.spec_from_file_location(
    "paretonbd_oracle", pathlib.Path(__file__).parents[1] / "maths" / "paretonbd_oracle.py")
oracle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(oracle)

MODES = ["NUMBA", "FAST_RUN"]  # nutpie's backend, and PyMC's (the Op's Python perform)
NAMES = ("r", "alpha", "s", "beta", "log_fl", "log_fm")


def rows(n: int = 400, seed: int = 0):
    """Treated histories: τ anywhere in [0, T] (0 and T included), purchases before and
    after it, t_x = τ, t_x = T, and heavy buyers."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(1.0, 78.0, n)
    tau = T * rng.choice([0.0, 0.3, 0.7, 1.0], n) * rng.uniform(0.5, 1.0, n)
    t_x = T * rng.choice([0.0, 0.2, 0.6, 0.999, 1.0], n) * rng.uniform(0.5, 1.0, n)
    t_x = np.where(rng.random(n) < 0.05, tau, t_x)
    x = np.where(t_x > 0, rng.choice([1, 2, 5, 20, 200], n), 0).astype(float)
    after = (x > 0) & (t_x >= tau)
    x_post = np.where(after, np.ceil(x * rng.uniform(0.0, 1.0, n)), 0.0)
    x_post = np.where(after, np.maximum(x_post, 1.0), 0.0)
    segment = rng.integers(0, 3, n)
    weight = rng.integers(1, 40, n).astype(float)
    return segment, x, x_post, t_x, T, tau, weight


def random_params(rng):
    """r, s in [0.1, 3], α, β in [1, 50] (either larger), log factors within ±1, 3 segments."""
    return [rng.uniform(0.1, 3, 3), rng.uniform(1, 50, 3), rng.uniform(0.1, 3, 3),
            rng.uniform(1, 50, 3), rng.uniform(-1, 1, 3), rng.uniform(-1, 1, 3)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_value_and_gradient_match_the_treatment_graph(mode, seed):
    segment, x, x_post, t_x, T, tau, weight = rows(seed=seed)
    params = [pt.dvector(n) for n in NAMES]
    ours = pareto_nbd_treated_timing(*params, segment, x, x_post, t_x, T, tau, weight)[0]
    theirs = pt.dot(weight, paretonbd_treated_timing_loglik(
        *(p[segment] for p in params), x, x_post, t_x, T, tau))
    f = pytensor.function(params, [ours, *pt.grad(ours, params)], mode=mode)
    g = pytensor.function(params, [theirs, *pt.grad(theirs, params)], mode="FAST_RUN")
    rng = np.random.default_rng(seed + 10)
    for _ in range(5):
        values = random_params(rng)
        got, want = f(*values), g(*values)
        # the graph keeps its fixed 16-node rule where the Op sums the exact series
        assert got[0] == pytest.approx(want[0], rel=1e-10)
        for a, b in zip(got[1:], want[1:], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-8 * np.abs(b).max())


CDNOW_LIKE = [np.array([0.55, 0.6, 0.5]), np.array([10.6, 12.0, 9.0]),
              np.array([0.61, 0.5, 0.7]), np.array([11.7, 10.0, 9.5])]


@pytest.mark.parametrize(("params", "rel"), [
    (CDNOW_LIKE, 1e-12),
    # α, β far apart: rows the quadrature takes, whole or split at τ, keep its bound
    (random_params(np.random.default_rng(0))[:4], 1e-9)])
def test_factors_of_one_give_the_untreated_op(params, rel):
    segment, x, x_post, t_x, T, tau, weight = rows()
    inputs = [pt.dvector(n) for n in NAMES]
    treated = pareto_nbd_treated_timing(*inputs, segment, x, x_post, t_x, T, tau, weight)
    plain = pareto_nbd_timing(*inputs[:4], segment, x, t_x, T, weight)
    f = pytensor.function(inputs, [*treated[:5], *plain], mode="NUMBA")
    got = f(*params, np.zeros(3), np.zeros(3))
    assert got[0] == pytest.approx(got[5], rel=rel)
    for a, b in zip(got[1:5], got[6:], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e3 * rel, atol=1e3 * rel * np.abs(b).max())


def test_only_rows_of_a_segment_move_its_gradient():
    segment, x, x_post, t_x, T, tau, weight = rows(seed=3)
    segment = np.where(segment == 2, 1, segment)  # segment 2 has no rows
    params = [pt.dvector(n) for n in NAMES]
    total = pareto_nbd_treated_timing(*params, segment, x, x_post, t_x, T, tau, weight)[0]
    f = pytensor.function(params, pt.grad(total, params), mode="NUMBA")
    for grad in f(*random_params(np.random.default_rng(3))):
        assert grad[2] == 0.0 and grad[0] != 0.0 and grad[1] != 0.0


def test_second_derivatives_are_refused_not_wrong():
    from pytensor.gradient import NullTypeGradError

    params = [pt.dvector(n) for n in NAMES]
    total = pareto_nbd_treated_timing(*params, *rows(n=20))[0]
    first = pt.grad(total, params[4]).sum()
    with pytest.raises(NullTypeGradError):
        pt.grad(first, params[4])


def one_row(params, history):
    """The Op's value and gradient for a single row, one segment, weight 1."""
    out = paretonbd_op.treated_timing_loglik_and_grad(
        *(np.array([v]) for v in params), np.zeros(1, np.int64),
        *(np.array([v], dtype=float) for v in history), np.ones(1))
    return float(out[0]), np.array([float(g[0]) for g in out[1:]])


def uses_series(r, alpha, s, beta, log_fl, log_fm, x, x_post, t_x, T, tau) -> bool:
    """Whether every dead term of the row is summed by the series (else quadrature)."""
    post = dead_term_series(r, (alpha + tau) / np.exp(log_fl), s, (beta + tau) / np.exp(log_fm),
                            x, max(t_x - tau, 0.0), T - tau)[0]
    return post and (tau <= t_x or dead_term_series(r, alpha, s, beta, x, t_x, tau)[0])


# (r, α, s, β, log f_λ, log f_μ): CDNOW's posterior with the factors of the test,
# either of α, β larger, and far apart (where the series gives way to the quadrature);
# histories (x, x_post, t_x, T, τ): dropout possible before and after τ, only after, τ = 0,
# τ = T, t_x = τ, heavy buyers.
PARAMS = [(0.553, 10.578, 0.606, 11.669, 0.0, np.log(0.6)),
          (0.553, 11.669, 0.606, 10.578, np.log(1.3), np.log(0.6)),
          (2.0, 7.0, 0.3, 7.0, -0.5, 0.8), (0.2, 5.0, 2.5, 9.0, 0.7, -0.9),
          (3.0, 2.0, 0.1, 40.0, 0.2, 0.3), (0.1, 45.0, 3.0, 1.5, -0.3, -0.2)]
HISTORIES = [(0, 0, 0.0, 52.0, 26.0), (2, 0, 20.0, 52.0, 26.0), (4, 2, 40.0, 52.0, 26.0),
             (3, 3, 30.0, 52.0, 0.0), (3, 0, 30.0, 39.0, 39.0), (2, 1, 26.0, 52.0, 26.0),
             (100, 40, 38.0, 52.0, 26.0), (500, 200, 51.9, 78.0, 40.0)]
CASES = list(itertools.product(PARAMS, HISTORIES))


@pytest.mark.parametrize(("params", "history"), CASES)
def test_value_matches_adaptive_quadrature(params, history):
    value, _ = one_row(params, history)
    want = oracle.treated_timing_quad(*params[:4], *np.exp(params[4:]), *history)
    # the series is exact to ~1e-14; rows it leaves to the quadrature keep its bound
    tol = 1e-8 if uses_series(*params, *history) else 2e-7
    assert value == pytest.approx(want, abs=tol * max(1.0, abs(want)))


def random_histories(n, seed):
    """Parameters and treated histories spread over the ranges of a fit."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        r, s = rng.uniform(0.2, 2.0, 2)
        alpha, beta = rng.uniform(2.0, 20.0, 2)
        T = rng.uniform(1.0, 60.0)
        tau = rng.uniform(0.0, T)
        x = int(rng.integers(0, 15))
        t_x = rng.uniform(0.0, T) if x else 0.0
        x_post = int(rng.integers(1, x + 1)) if x and t_x >= tau else 0
        yield (r, alpha, s, beta, *rng.normal(0.0, 0.5, 2)), (x, x_post, t_x, T, tau)


@pytest.mark.parametrize(("params", "history"), list(random_histories(100, seed=7)))
def test_random_histories_match_adaptive_quadrature(params, history):
    value, _ = one_row(params, history)
    want = oracle.treated_timing_quad(*params[:4], *np.exp(params[4:]), *history)
    assert value == pytest.approx(want, abs=1e-8)


def test_both_paths_occur_on_the_grid():
    assert {uses_series(*p, *h) for p, h in CASES} == {True, False}


@pytest.mark.parametrize(("params", "history"), CASES)
def test_gradient_matches_finite_differences(params, history):
    _, grad = one_row(params, history)
    for i, theta in enumerate(params):
        step = 1e-6 * max(abs(theta), 1.0)
        up, down = list(params), list(params)
        up[i], down[i] = theta + step, theta - step
        numeric = (one_row(up, history)[0] - one_row(down, history)[0]) / (2 * step)
        assert grad[i] == pytest.approx(numeric, rel=1e-5, abs=1e-6)
