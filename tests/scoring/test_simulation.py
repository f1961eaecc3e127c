"""Simulated futures average to the closed-form conditional expectations."""

import numpy as np
import pytest
from hand_fits import PUBLISHED

from bayesclv.maths import (
    bgnbd_conditional_expected_purchases,
    gammagamma_conditional_mean_spend,
    mbgnbd_conditional_expected_purchases,
    paretonbd_conditional_expected_purchases,
    paretonbd_p_alive,
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


def test_without_a_spend_model_each_simulated_purchase_is_worth_the_value_per_purchase():
    # the same purchases as without any value (the random stream is not touched), each
    # worth exactly value.per_purchase
    n = 200
    frequency = {k: np.full((n, 1), v) for k, v in PUBLISHED["pareto_nbd"].items()}
    chunk = CustomerInputs(
        customer=np.array(["a", "b"], dtype=object), segment=np.array(["s", "s"], dtype=object),
        code=np.zeros(2, dtype=int), x=np.array([2.0, 10]), t_x=np.array([30.0, 35]),
        T=np.array([38.0, 39]), n_spend=np.zeros(2), mean_spend=np.zeros(2))
    periods = np.array([10.0, 52.0])
    runs = {}
    for per_purchase in (None, 12.5):
        post = PosteriorDraws(family="pareto_nbd", segments=("s",), frequency=frequency,
                              spend=None, chain=np.zeros(n, dtype=int), draw=np.arange(n),
                              value_per_purchase=per_purchase)
        runs[per_purchase] = list(simulate_periods(post, chunk, periods,
                                                   np.random.default_rng(5)))
    for (plain, nothing), (bought, spend) in zip(runs[None], runs[12.5], strict=True):
        np.testing.assert_array_equal(bought, plain)
        np.testing.assert_array_equal(nothing, 0.0)
        np.testing.assert_array_equal(spend, 12.5 * bought)
    assert sum(bought.sum() for bought, _ in runs[12.5]) > 0


def test_a_given_p_alive_is_used_as_is():
    # the caller's P(alive) draws the same futures as the one computed inside; P(alive) = 0
    # leaves no purchase at all
    n = 300
    post = PosteriorDraws(
        family="pareto_nbd", segments=("s",),
        frequency={k: np.full((n, 1), v) for k, v in PUBLISHED["pareto_nbd"].items()},
        spend=None, chain=np.zeros(n, dtype=int), draw=np.arange(n))
    chunk = CustomerInputs(
        customer=np.array(["a", "b"], dtype=object), segment=np.array(["s", "s"], dtype=object),
        code=np.zeros(2, dtype=int), x=np.array([2.0, 10]), t_x=np.array([30.0, 35]),
        T=np.array([38.0, 39]), n_spend=np.zeros(2), mean_spend=np.zeros(2))
    periods = np.array([10.0, 52.0])
    alive = paretonbd_p_alive(*PUBLISHED["pareto_nbd"].values(), chunk.x, chunk.t_x, chunk.T)
    runs = [list(simulate_periods(post, chunk, periods, np.random.default_rng(2), given))
            for given in (None, np.tile(alive, (n, 1)))]
    for (bought, _), (again, _) in zip(*runs, strict=True):
        np.testing.assert_array_equal(again, bought)
    assert sum(bought.sum() for bought, _ in runs[0]) > 0
    dead = simulate_periods(post, chunk, periods, np.random.default_rng(2), np.zeros((n, 2)))
    assert all(bought.sum() == 0 for bought, _ in dead)
