"""Pareto/NBD with a treatment: against numerical integration, the untreated identity, PyTensor."""

import importlib.util
import pathlib

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import integrate

from bayesclv.maths import paretonbd_timing_loglik
from bayesclv.maths.paretonbd_treatment import (
    paretonbd_piecewise_timing_loglik,
    paretonbd_treated_timing_loglik,
)

_spec = importlib.util.spec_from_file_location(
    "paretonbd_oracle", pathlib.Path(__file__).with_name("paretonbd_oracle.py"))
oracle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(oracle)


def random_cases(n, seed):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        r, s = rng.uniform(0.2, 2.0, 2)
        alpha, beta = rng.uniform(2.0, 20.0, 2)
        f_l, f_m = np.exp(rng.normal(0.0, 0.5, 2))
        T = rng.uniform(1.0, 60.0)
        tau = rng.uniform(0.0, T)
        x = int(rng.integers(0, 15))
        t_x = rng.uniform(0.0, T) if x else 0.0
        x_post = int(rng.integers(1, x + 1)) if x and t_x >= tau else 0
        yield (r, alpha, s, beta, f_l, f_m, x, x_post, t_x, T, tau)


@pytest.mark.parametrize("case", list(random_cases(200, seed=7)))
def test_matches_adaptive_quadrature_of_the_individual_likelihood(case):
    r, alpha, s, beta, f_l, f_m, x, x_post, t_x, T, tau = case
    got = paretonbd_treated_timing_loglik(r, alpha, s, beta, np.log(f_l), np.log(f_m), x,
                                          x_post, t_x, T, tau)
    assert got == pytest.approx(oracle.treated_timing_quad(*case), abs=1e-8)


@pytest.mark.parametrize(("x", "x_post", "t_x", "tau"),
                         [(0, 0, 0.0, 5.0), (3, 0, 10.0, 15.0), (3, 2, 20.0, 15.0),
                          (3, 3, 20.0, 0.0), (2, 0, 39.0, 39.0)])
def test_factors_of_one_give_the_untreated_likelihood(x, x_post, t_x, tau):
    got = paretonbd_treated_timing_loglik(0.55, 10.6, 0.61, 11.7, 0.0, 0.0, x, x_post, t_x,
                                          39.0, tau)
    assert got == pytest.approx(paretonbd_timing_loglik(0.55, 10.6, 0.61, 11.7, x, t_x, 39.0),
                                abs=1e-12)


def test_pytensor_graph_matches_numpy_with_finite_gradients():
    cases = np.array(list(random_cases(50, seed=3)), dtype=float)
    names = ("r", "alpha", "s", "beta", "log_fl", "log_fm")
    params = [pt.dscalar(n) for n in names]
    data = [pt.dvector(n) for n in ("x", "x_post", "t_x", "T", "tau")]
    total = paretonbd_treated_timing_loglik(*params, *data)
    f = pytensor.function([*params, *data], [total, *pt.grad(total.sum(), params)])
    values = (0.55, 10.6, 0.61, 11.7, np.log(1.2), np.log(0.6))
    columns = [cases[:, i] for i in (6, 7, 8, 9, 10)]
    got, *grads = f(*values, *columns)
    want = paretonbd_treated_timing_loglik(*values, *columns)
    np.testing.assert_allclose(got, want, rtol=1e-9)
    assert np.all(np.isfinite(grads))
    step = 1e-6
    for i in range(len(values)):
        up = list(values)
        up[i] += step
        down = list(values)
        down[i] -= step
        numeric = (paretonbd_treated_timing_loglik(*up, *columns).sum()
                   - paretonbd_treated_timing_loglik(*down, *columns).sum()) / (2 * step)
        assert grads[i] == pytest.approx(numeric, rel=1e-5, abs=1e-6)


def piecewise_oracle(r, alpha, s, beta, starts, f_l, f_m, x_in, t_x, T):
    """Adaptive quadrature of the individual likelihood mixed over the dropout time."""
    edges = [*starts[1:], np.inf]

    def exposure(t, f):
        return sum(fk * max(0.0, min(t, end) - start)
                   for start, end, fk in zip(starts, edges, f, strict=True))

    def piece(w):
        return next(k for k in range(len(starts)) if starts[k] <= w < edges[k])

    x = sum(x_in)
    alive = (alpha + exposure(T, f_l)) ** -(r + x) * (beta + exposure(T, f_m)) ** -s

    def dead(w):
        return (f_m[piece(w)] * (alpha + exposure(w, f_l)) ** -(r + x)
                * (beta + exposure(w, f_m)) ** -(s + 1))

    points = [b for b in starts if t_x < b < T] or None
    integral, _ = integrate.quad(dead, t_x, T, points=points, epsabs=0, epsrel=1e-12,
                                 limit=200)
    return sum(n * np.log(f) for n, f in zip(x_in, f_l, strict=True)) + np.log(alive + s * integral)


@pytest.mark.parametrize("seed", range(40))
def test_three_pieces_match_adaptive_quadrature(seed):
    rng = np.random.default_rng(seed)
    r, s = rng.uniform(0.2, 2.0, 2)
    alpha, beta = rng.uniform(2.0, 20.0, 2)
    T = rng.uniform(5.0, 60.0)
    starts = [0.0, *np.sort(rng.uniform(0.0, 1.2 * T, 2))]   # the last may start after T
    f_l, f_m = np.exp(rng.normal(0.0, 0.5, (2, 3)))
    times = np.sort(rng.uniform(0.0, T, int(rng.integers(0, 8))))
    x_in = [int(np.sum((times >= lo) & (times < hi)))
            for lo, hi in zip(starts, [*starts[1:], np.inf], strict=True)]
    t_x = float(times[-1]) if times.size else 0.0
    got = paretonbd_piecewise_timing_loglik(r, alpha, s, beta, starts, np.log(f_l),
                                            np.log(f_m), x_in, len(times), t_x, T)
    want = piecewise_oracle(r, alpha, s, beta, starts, f_l, f_m, x_in, t_x, T)
    assert got == pytest.approx(want, abs=1e-8)


def test_pieces_with_factors_of_one_are_the_untreated_likelihood():
    got = paretonbd_piecewise_timing_loglik(0.55, 10.6, 0.61, 11.7, (0.0, 5.0, 20.0, 50.0),
                                            (0.0,) * 4, (0.0,) * 4, (1, 1, 2, 0), 4, 30.0, 39.0)
    assert got == pytest.approx(paretonbd_timing_loglik(0.55, 10.6, 0.61, 11.7, 4, 30.0, 39.0),
                                abs=1e-12)
