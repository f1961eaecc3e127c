"""Residual value: the one product margin × spend × discounted purchases × P(alive)."""

import numpy as np
import pytest

from bayesclv.scoring.inputs import customer_inputs, posterior_draws
from bayesclv.scoring.quantities import (
    ProcessFactors,
    distinct_histories,
    expected_spend,
    horizon_if_alive,
    p_alive,
)
from bayesclv.scoring.residual_value import ActionFactors, ResidualValue
from bayesclv.scoring.settings import value_settings
from bayesclv.spec import ValueSpec

VALUE = ValueSpec(margin=0.3, annual_discount_rate=0.1, horizon_months=24)
FAMILIES = ["pareto_nbd", "bg_nbd", "mbg_nbd"]


def scored(cdnow, spec_factory, fit_factory, family, spend=True):
    fit = fit_factory(spec_factory(family, spend=spend), draws=15, seed=4, summary=cdnow)
    value = VALUE if spend else ValueSpec(margin=0.3, horizon_months=24, per_purchase=9.0)
    settings = value_settings(value, "weeks")
    post = posterior_draws(fit, value=value)
    chunk = customer_inputs(cdnow, fit).take(np.arange(400))
    return post, chunk, settings, ResidualValue(post, chunk, settings)


def neutral(n_segments, **changed):
    factors = {"purchase": 1.0, "dropout": 1.0, "spend": 1.0, "reactivation": 0.0, **changed}
    return ActionFactors(**{k: np.full((1, n_segments), v) for k, v in factors.items()})


@pytest.mark.parametrize("family", FAMILIES)
def test_baseline_is_the_product_of_the_scoring_quantities(cdnow, spec_factory, fit_factory,
                                                          family):
    post, chunk, settings, value = scored(cdnow, spec_factory, fit_factory, family)
    rows = distinct_histories(chunk)
    alive = p_alive(post, rows)[:, rows.inverse]
    purchases, discounted = horizon_if_alive(post, rows, settings)
    discounted = discounted[:, rows.age_inverse][:, rows.inverse]
    spend = expected_spend(post, chunk)
    np.testing.assert_array_equal(value.p_alive, alive)
    np.testing.assert_array_equal(value.spend, spend)
    np.testing.assert_array_equal(value.baseline, 0.3 * spend * discounted * alive)
    np.testing.assert_array_equal(value.value_at_risk(),
                                  (1 - alive) * (0.3 * spend * discounted))
    np.testing.assert_allclose(value.expected_purchases(),
                               alive * purchases[:, rows.age_inverse][:, rows.inverse])
    np.testing.assert_allclose(value.discounted_purchases(), alive * discounted)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("spend", [True, False])
def test_neutral_factors_give_the_baseline_bit_for_bit(cdnow, spec_factory, fit_factory,
                                                      family, spend):
    post, _, _, value = scored(cdnow, spec_factory, fit_factory, family, spend)
    np.testing.assert_array_equal(value.under(neutral(len(post.segments))), value.baseline)
    np.testing.assert_array_equal(value.incremental(neutral(len(post.segments)), 2.5), -2.5)


@pytest.mark.parametrize("family", FAMILIES)
def test_spend_and_reactivation_factors_scale_what_they_should(cdnow, spec_factory,
                                                               fit_factory, family):
    post, _, _, value = scored(cdnow, spec_factory, fit_factory, family)
    n = len(post.segments)
    np.testing.assert_allclose(value.incremental(neutral(n, spend=1.2), 1.0),
                               0.2 * value.baseline - 1.0, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(value.incremental(neutral(n, reactivation=0.25), 0.0),
                               0.25 * value.value_at_risk(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("family", FAMILIES)
def test_process_factors_change_the_discounted_purchases_given_alive(cdnow, spec_factory,
                                                                    fit_factory, family):
    post, chunk, settings, value = scored(cdnow, spec_factory, fit_factory, family)
    n_samples, n = post.n_samples, len(post.segments)
    factors = neutral(n, purchase=1.3, dropout=0.7)
    rows = distinct_histories(chunk)
    _, changed = horizon_if_alive(post, rows, settings,
                                  ProcessFactors(np.full((n_samples, n), 1.3),
                                                 np.full((n_samples, n), 0.7)))
    changed = changed[:, rows.age_inverse][:, rows.inverse]
    np.testing.assert_allclose(value.under(factors), 0.3 * value.spend * changed * value.p_alive,
                               rtol=1e-12)
    assert np.all(value.under(factors) > value.baseline)
