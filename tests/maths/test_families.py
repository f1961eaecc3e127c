"""The family records: one generative process per family, consistent with its closed forms."""

import numpy as np
import pytest

from bayesclv.maths.families import BG_NBD, FAMILIES, PARETO_NBD, family

PUBLISHED = {
    "pareto_nbd": (0.553, 10.578, 0.606, 11.669),
    "bg_nbd": (0.243, 4.414, 0.793, 2.426),
}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_simulated_purchases_average_to_the_expectation(name):
    # Customers from birth, in two consecutive windows: their total over (0, 39] must
    # average to E[X(39)] (within 4 Monte Carlo standard errors).
    record = family(name)
    n = 200_000
    params = [np.full(n, v) for v in PUBLISHED[name]]
    future = record.future(np.random.default_rng(1), params, None)
    total = future.purchases(0.0, 20.0) + future.purchases(20.0, 39.0)
    want = float(record.expected_purchases(*PUBLISHED[name], 39.0))
    assert abs(total.mean() - want) < 4 * total.std() / np.sqrt(n)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_dead_customers_buy_nothing(name):
    record = family(name)
    params = [np.full(1000, v) for v in PUBLISHED[name]]
    alive = np.arange(1000) % 2 == 0
    bought = record.future(np.random.default_rng(2), params, alive).purchases(0.0, 500.0)
    assert bought[~alive].sum() == 0 and bought[alive].sum() > 0


def test_alive_parameters_are_the_conditional_posteriors():
    x, T = np.array([3.0]), np.array([30.0])
    assert PARETO_NBD.alive_parameters(PUBLISHED["pareto_nbd"], x, T) == pytest.approx(
        [0.553 + 3, 10.578 + 30, 0.606, 11.669 + 30])
    assert BG_NBD.alive_parameters(PUBLISHED["bg_nbd"], x, T) == pytest.approx(
        [0.243 + 3, 4.414 + 30, 0.793, 2.426 + 3])


def test_doubling_the_purchase_rate_doubles_pareto_expected_purchases():
    # λ ~ Gamma(r, α) scaled by 2 is Gamma(r, α/2); with dropout unchanged E[X(t)] doubles.
    treated = PARETO_NBD.treated_parameters(list(PUBLISHED["pareto_nbd"]), 2.0, 1.0)
    base = PARETO_NBD.expected_purchases(*PUBLISHED["pareto_nbd"], 52.0)
    assert PARETO_NBD.expected_purchases(*treated, 52.0) == pytest.approx(2 * base, rel=1e-12)


def test_unknown_family_names_the_known_ones():
    with pytest.raises(ValueError, match="pareto_nbd, bg_nbd"):
        family("mbg_nbd")
