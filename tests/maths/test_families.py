"""The family records: one generative process per family, consistent with its closed forms."""

import numpy as np
import pytest

from bayesclv.maths.families import BG_NBD, FAMILIES, MBG_NBD, PARETO_NBD, family

PUBLISHED = {
    "pareto_nbd": (0.553, 10.578, 0.606, 11.669),
    "bg_nbd": (0.243, 4.414, 0.793, 2.426),
    "mbg_nbd": (0.525, 6.183, 0.891, 1.614),
}
# Histories (x, t_x, T) in weeks, x = 0 and heavy buyers included.
HISTORIES = (np.array([0.0, 0, 2, 10, 30]), np.array([0.0, 0, 30.43, 5, 38]),
             np.array([0.0, 38.86, 38.86, 39, 39]))


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
    # x repeat purchases survived and the chance at the first purchase too
    assert MBG_NBD.alive_parameters(PUBLISHED["mbg_nbd"], x, T) == pytest.approx(
        [0.525 + 3, 6.183 + 30, 0.891, 1.614 + 3 + 1])


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_conditional_expectation_is_p_alive_times_the_expectation_if_alive(name):
    # What scoring relies on: per period, P(alive) × alive_expected_purchases at
    # alive_parameters is the family's conditional expectation.
    record = family(name)
    x, t_x, T = HISTORIES
    if_alive = record.alive_expected_purchases(
        *record.alive_parameters(PUBLISHED[name], x, T), 52.0)
    np.testing.assert_allclose(
        record.p_alive(*PUBLISHED[name], x, t_x, T) * if_alive,
        record.conditional_expected_purchases(*PUBLISHED[name], x, t_x, T, 52.0), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_simulated_futures_of_the_alive_average_to_the_expectation_if_alive(name):
    record = family(name)
    n = 200_000
    x, T = np.full(n, 4.0), np.full(n, 30.0)
    params = record.alive_parameters([np.full(n, v) for v in PUBLISHED[name]], x, T)
    future = record.alive_future(np.random.default_rng(3), params, np.ones(n, dtype=bool))
    total = future.purchases(0.0, 10.0) + future.purchases(10.0, 52.0)
    want = record.alive_expected_purchases(*(p[0] for p in params), 52.0)
    assert abs(total.mean() - want) < 4 * total.std() / np.sqrt(n)


def test_a_new_mbg_customer_may_be_gone_before_any_repeat_purchase():
    # b/(a+b) survive the first purchase; the rest never buy again. Over 1e12 weeks a
    # survivor buys nothing with probability (α/(α+1e12))^r ≈ 1e-6 only.
    n = 200_000
    r, alpha, a, b = PUBLISHED["mbg_nbd"]
    params = [np.full(n, v) for v in PUBLISHED["mbg_nbd"]]
    bought = MBG_NBD.future(np.random.default_rng(4), params, None).purchases(0.0, 1e12)
    never = (bought == 0).mean()
    assert abs(never - a / (a + b)) < 4 * np.sqrt(never * (1 - never) / n)


def test_doubling_the_purchase_rate_doubles_pareto_expected_purchases():
    # λ ~ Gamma(r, α) scaled by 2 is Gamma(r, α/2); with dropout unchanged E[X(t)] doubles.
    treated = PARETO_NBD.treated_parameters(list(PUBLISHED["pareto_nbd"]), 2.0, 1.0)
    base = PARETO_NBD.expected_purchases(*PUBLISHED["pareto_nbd"], 52.0)
    assert PARETO_NBD.expected_purchases(*treated, 52.0) == pytest.approx(2 * base, rel=1e-12)


def test_unknown_family_names_the_known_ones():
    with pytest.raises(ValueError, match="pareto_nbd, bg_nbd, mbg_nbd"):
        family("bg_cnbd")


@pytest.mark.parametrize("name", sorted(FAMILIES))
@pytest.mark.parametrize("per_unit", [1.0, 7.0])
def test_purchase_events_from_birth_average_to_the_expectation(name, per_unit):
    # Purchase times in clock units (days against weekly rates with per_unit = 7): the
    # purchases in the first 39 weeks average to E[X(39)], all inside (0, window], each
    # customer's in time order, none after their dropout.
    record = family(name)
    n = 200_000
    rng = np.random.default_rng(4)
    r, alpha = PUBLISHED[name][:2]
    rate = rng.gamma(r, 1.0 / alpha, size=n) / per_unit
    window = np.full(n, 39.0 * per_unit)
    events = record.purchase_events(rng, list(PUBLISHED[name]), rate, window, per_unit)
    counts = np.bincount(events.customer, minlength=n)
    want = float(record.expected_purchases(*PUBLISHED[name], 39.0))
    assert abs(counts.mean() - want) < 4 * counts.std() / np.sqrt(n)
    assert np.all((events.time > 0) & (events.time <= window[events.customer]))
    assert np.all(events.time <= events.lifetime[events.customer])
    assert np.all(np.diff(events.customer) >= 0)
    assert events.dropout.shape == events.lifetime.shape == (n,)


def test_purchase_event_lifetimes_follow_each_dropout_process():
    n = 200_000
    rate, window = np.full(n, 0.5), np.full(n, 10.0)
    # Pareto/NBD: P(lifetime > t) = (β / (β + t))^s, t in weeks; lifetimes in days here.
    r, alpha, s, beta = PUBLISHED["pareto_nbd"]
    events = PARETO_NBD.purchase_events(np.random.default_rng(5), [r, alpha, s, beta],
                                        rate / 7.0, window * 7.0, 7.0)
    survived = (events.lifetime > 20.0 * 7.0).mean()
    want = (beta / (beta + 20.0)) ** s
    assert abs(survived - want) < 4 * np.sqrt(want * (1 - want) / n)
    # MBG/NBD drops out at the first purchase with chance E[p] = a / (a + b); BG/NBD never.
    mbg, bg = PUBLISHED["mbg_nbd"], PUBLISHED["bg_nbd"]
    at_start = MBG_NBD.purchase_events(np.random.default_rng(6), list(mbg), rate, window, 1.0)
    share = (at_start.lifetime == 0).mean()
    want = mbg[2] / (mbg[2] + mbg[3])
    assert abs(share - want) < 4 * np.sqrt(want * (1 - want) / n)
    assert not np.isin(at_start.customer, np.flatnonzero(at_start.lifetime == 0)).any()
    never = BG_NBD.purchase_events(np.random.default_rng(6), list(bg), rate, window, 1.0)
    assert not np.any(never.lifetime == 0)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_time_scales_are_the_parameters_that_change_with_the_time_unit(name):
    # Measuring time in days instead of weeks multiplies exactly the time_scales by 7: every
    # probability and count is then the same.
    record = family(name)
    weeks = PUBLISHED[name]
    days = [v * 7.0 if n in record.time_scales else v
            for n, v in zip(record.natural, weeks, strict=True)]
    x, t_x, T = HISTORIES
    np.testing.assert_allclose(record.p_alive(*days, x, 7 * t_x, 7 * T),
                               record.p_alive(*weeks, x, t_x, T), rtol=1e-10)
    np.testing.assert_allclose(record.expected_purchases(*days, 7 * 39.0),
                               record.expected_purchases(*weeks, 39.0), rtol=1e-10)
    np.testing.assert_allclose(
        record.loglik(*days, x, 7 * t_x, 7 * T) + x * np.log(7.0),
        record.loglik(*weeks, x, t_x, T), rtol=1e-10)
