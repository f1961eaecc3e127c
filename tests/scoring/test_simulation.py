"""Simulated futures average to the closed-form conditional expectations."""

import numpy as np
import pytest
from hand_fits import PUBLISHED

from bayesclv.maths import (
    bgnbd_conditional_expected_purchases,
    gammagamma_conditional_mean_spend,
    mbgnbd_conditional_expected_purchases,
    paretonbd_conditional_expected_purchases,
)
from bayesclv.scoring.inputs import CustomerInputs, PosteriorDraws
from bayesclv.scoring.simulation import simulate_periods


@pytest.mark.parametrize("family", ["bg_nbd", "mbg_nbd", "pareto_nbd"])
def test_simulator_matches_closed_form_conditional_expectation(family):
    n = 40_000
    params = PUBLISHED[family]
    post = PosteriorDraws(
        family=family, segments=("s",),
        frequency={k: np.full((n, 1), v) for k, v in params.items()},
        spend={k: np.full((n, 1), v) for k, v in PUBLISHED["spend"].items()},
        chain=np.zeros(n, dtype=int), draw=np.arange(n),
    )
    x = np.array([0.0, 2, 10, 5, 30])
    chunk = CustomerInputs(
        customer=np.array(list("abcde"), dtype=object), segment=np.array(["s"] * 5, dtype=object),
        code=np.zeros(5, dtype=int), x=x, t_x=np.array([0.0, 20, 30, 5, 38]),
        T=np.array([30.0, 38, 35, 39, 39]), n_spend=x, mean_spend=np.array([0, 20, 40, 10, 25.0]))
    bought, spent = 0, 0
    for purchases, spend in simulate_periods(post, chunk, np.array([10.0, 20.0, 52.0]),
                                             np.random.default_rng(3)):
        bought, spent = bought + purchases, spent + spend
    closed = {"bg_nbd": bgnbd_conditional_expected_purchases,
              "mbg_nbd": mbgnbd_conditional_expected_purchases,
              "pareto_nbd": paretonbd_conditional_expected_purchases}[family]
    expected = closed(*params.values(), chunk.x, chunk.t_x, chunk.T, 52.0)
    error = bought.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(bought.mean(axis=0) - expected) < 4 * error + 1e-3)
    value = expected * gammagamma_conditional_mean_spend(*PUBLISHED["spend"].values(),
                                                         chunk.n_spend, chunk.mean_spend)
    assert np.all(np.abs(spent.mean(axis=0) - value) < 4 * spent.std(axis=0) / np.sqrt(n) + 1e-2)
