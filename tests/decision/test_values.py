"""Incremental value per draw: exact identities, simulation, eligibility, seeds, truth recovery."""

from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

from bayesclv.actions import Action, Effect, Eligibility
from bayesclv.clv import clv_draws
from bayesclv.decision import action_values, best_actions
from bayesclv.decision.values import draw_action_factors
from bayesclv.errors import SpecError
from bayesclv.scoring.inputs import customer_inputs, posterior_draws
from bayesclv.scoring.quantities import ProcessFactors, distinct_histories, horizon_if_alive
from bayesclv.scoring.settings import value_settings
from bayesclv.spec import ValueSpec

VALUE = ValueSpec(margin=0.3, annual_discount_rate=0.1, horizon_months=24)


@pytest.fixture(scope="module")
def fits(spec_factory, fit_factory, cdnow):
    return {family: fit_factory(spec_factory(family), draws=40, seed=3, summary=cdnow)
            for family in ("pareto_nbd", "bg_nbd", "mbg_nbd")}


def known(process, change, cost=0.0, **fields):
    return Action(f"{process}_{change}", cost, (Effect(process, change, change),), **fields)


@pytest.mark.parametrize("family", ["pareto_nbd", "bg_nbd", "mbg_nbd"])
def test_no_effect_costs_exactly_its_cost(fits, cdnow, family):
    values = action_values(fits[family], cdnow, [known("spend", 0.0, cost=2.5)], value=VALUE)
    np.testing.assert_array_equal(values["incremental_value"].values, -2.5)


@pytest.mark.parametrize("family", ["pareto_nbd", "bg_nbd", "mbg_nbd"])
def test_spend_effect_scales_baseline_value(fits, cdnow, family):
    values = action_values(fits[family], cdnow, [known("spend", 0.12, cost=1.0)], value=VALUE)
    baseline = clv_draws(fits[family], cdnow, value=VALUE)["clv"]
    np.testing.assert_allclose(values["baseline_clv"], baseline, rtol=1e-12)
    np.testing.assert_allclose(values["incremental_value"].isel(action=0),
                               0.12 * baseline - 1.0, rtol=1e-10, atol=1e-10)


def test_pareto_purchase_rate_effect_is_linear(fits, cdnow):
    # Pareto/NBD expected purchases are linear in 1/alpha, so scaling lambda by f scales the
    # residual value by f exactly.
    values = action_values(fits["pareto_nbd"], cdnow, [known("purchase_rate", -0.2)],
                           value=VALUE)
    np.testing.assert_allclose(values["incremental_value"].isel(action=0),
                               -0.2 * values["baseline_clv"], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("family", ["pareto_nbd", "bg_nbd", "mbg_nbd"])
def test_reactivation_recovers_that_share_of_value_at_risk(fits, cdnow, family):
    values = action_values(fits[family], cdnow, [known("reactivation", 0.25, cost=0.5)],
                           value=VALUE)
    at_risk = clv_draws(fits[family], cdnow, value=VALUE)["value_at_risk"]
    np.testing.assert_allclose(values["incremental_value"].isel(action=0),
                               0.25 * at_risk - 0.5, rtol=1e-10, atol=1e-10)


def test_dropout_effect_matches_simulating_the_changed_process(cdnow, spec_factory,
                                                                fit_factory):
    """Pareto/NBD alive at T: lambda ~ Gamma(r+x, alpha+T), mu ~ f Gamma(s, beta+T)."""
    fit = fit_factory(spec_factory("pareto_nbd"), chains=1, draws=1, spread=0.0, summary=cdnow)
    settings = value_settings(VALUE, "weeks")
    post = posterior_draws(fit)
    inputs = customer_inputs(cdnow, fit).take(np.array([0, 1, 5]))
    rows = distinct_histories(inputs)
    f = 0.6
    factors = ProcessFactors(purchase=np.ones((1, 1)), dropout=np.full((1, 1), f))
    purchases, _ = horizon_if_alive(post, rows, settings, factors)
    r, alpha, s, beta = (post.frequency[k][0, 0] for k in ("r", "alpha", "s", "beta"))
    rng = np.random.default_rng(7)
    n, horizon = 400_000, settings.horizon
    for (_, x, T), want in zip(rows.ages, purchases[0], strict=True):
        lam = rng.gamma(r + x, 1.0 / (alpha + T), n)
        mu = f * rng.gamma(s, 1.0 / (beta + T), n)
        life = np.minimum(rng.exponential(1.0 / mu), horizon)
        bought = rng.poisson(lam * life)
        assert abs(bought.mean() - want) < 4 * bought.std() / np.sqrt(n)


def test_bg_nbd_dropout_effect_scales_the_mean_dropout_probability():
    from bayesclv.maths.families import BG_NBD

    r, alpha, a, b = (np.array([0.24]), np.array([4.4]), np.array([0.79]), np.array([2.4]))
    _, _, a2, b2 = BG_NBD.treated_parameters([r, alpha, a, b], np.ones(1), np.full(1, 0.5))
    assert a2 / (a2 + b2) == pytest.approx(0.5 * a / (a + b))
    assert a2 + b2 == pytest.approx(a + b)


def test_less_dropout_is_worth_more(fits, cdnow):
    actions = [known("dropout_rate", c) for c in (-0.1, -0.3, -0.5)]
    means = action_values(fits["bg_nbd"], cdnow, actions, value=VALUE)[
        "incremental_value"].mean(("chain", "draw"))
    assert np.all(means.isel(action=0) > 0)
    assert np.all(np.diff(means.values, axis=1) > 0)


def test_effects_are_shared_across_segments_unless_overridden(cdnow, spec_factory, fit_factory):
    summary = cdnow.subset(np.ones(cdnow.n_customers, dtype=bool))
    labels = np.where(np.arange(summary.n_customers) % 2 == 0, "a", "b")
    from bayesclv.data import CustomerSummary

    two = CustomerSummary.from_frame(
        summary.frame.assign(segment=labels).reset_index(), segment="segment")
    fit = fit_factory(spec_factory("pareto_nbd"), segments=("a", "b"), draws=30, summary=two)
    shared = Action("s", 1.0, (Effect("spend", -0.1, 0.3),))
    override = Action("o", 1.0, (Effect("spend", -0.1, 0.3),),
                      segment_effects={"b": (Effect("spend", -0.1, 0.3),)})
    effect = action_values(fit, two, [shared, override], value=VALUE, seed=5)["effect"].sel(
        process="spend")
    a, b = effect.sel(effect_segment="a"), effect.sel(effect_segment="b")
    np.testing.assert_array_equal(a.sel(action="s"), b.sel(action="s"))
    assert not np.allclose(a.sel(action="o"), b.sel(action="o"))


def test_same_seed_same_values_other_seed_other_effects(fits, cdnow):
    action = [Action("d", 1.0, (Effect("dropout_rate", -0.3, -0.1),))]
    one = action_values(fits["pareto_nbd"], cdnow, action, value=VALUE, seed=4)
    two = action_values(fits["pareto_nbd"], cdnow, action, value=VALUE, seed=4)
    three = action_values(fits["pareto_nbd"], cdnow, action, value=VALUE, seed=5)
    np.testing.assert_array_equal(one["incremental_value"], two["incremental_value"])
    assert not np.array_equal(one["effect"], three["effect"])


def test_chunks_do_not_change_the_result(fits, cdnow):
    action = [Action("d", 1.0, (Effect("dropout_rate", -0.3, -0.1),))]
    whole = action_values(fits["bg_nbd"], cdnow, action, value=VALUE, seed=1)
    chunked = action_values(fits["bg_nbd"], cdnow, action, value=VALUE, seed=1, chunk_size=333)
    xr.testing.assert_identical(chunked, whole)


def test_eligibility_bands_select_and_nan_the_rest(fits, cdnow):
    rule = Eligibility(p_alive=(0.0, 0.3), recency_weeks=(13.0, np.inf))
    values = action_values(fits["pareto_nbd"], cdnow,
                           [known("reactivation", 0.1, eligibility=rule)], value=VALUE)
    mask = values["eligible"].isel(action=0).values
    p_alive = values["p_alive"].mean(("chain", "draw")).values
    recency = (cdnow.frame["T"] - cdnow.frame["t_x"]).values
    np.testing.assert_array_equal(mask, (p_alive <= 0.3) & (recency >= 13.0))
    chosen = values["incremental_value"].isel(action=0)
    assert chosen.isel(customer=np.flatnonzero(~mask)).isnull().all()
    assert chosen.isel(customer=np.flatnonzero(mask)).notnull().all()


def test_eligibility_that_selects_nobody_is_a_spec_error(fits, cdnow):
    nobody = known("spend", 0.1, eligibility=Eligibility(clv=(1e9, np.inf)))
    with pytest.raises(SpecError, match=r"action 'spend_0.1': its eligibility .*clv.* selects "
                                        r"none of the 2,357 customers"):
        action_values(fits["pareto_nbd"], cdnow, [nobody], value=VALUE)


def test_unknown_segments_are_named(fits, cdnow):
    bad = known("spend", 0.1, eligibility=Eligibility(segments=("vip",)))
    with pytest.raises(SpecError, match=r"'eligibility.segments' names segment\(s\) \['vip'\]"):
        action_values(fits["pareto_nbd"], cdnow, [bad], value=VALUE)
    with pytest.raises(SpecError, match="no actions to evaluate"):
        action_values(fits["pareto_nbd"], cdnow, [], value=VALUE)


def test_truly_best_action_is_ranked_first_for_most_customers(cdnow, spec_factory,
                                                               fit_factory):
    """A simulated world: true parameters and true effects known, the posterior around them.

    Truth: one draw at the true parameters with each effect fixed at its true value. Belief:
    a posterior spread around the truth and effect priors whose 90 % range holds the truth.
    """
    spec = spec_factory("pareto_nbd")
    # Cheap and mild, mid-priced, dear and strong: each is truly best for some customers.
    truth = {"loyalty": -0.45, "discount": 0.06, "call": 0.25}
    costs = {"loyalty": 3.0, "discount": 0.5, "call": 15.0}
    process = {"loyalty": "dropout_rate", "discount": "purchase_rate", "call": "purchase_rate"}

    def actions(width):
        return [Action(name, costs[name], (Effect(process[name], truth[name] - width,
                                                  truth[name] + width),)) for name in truth]

    true_fit = fit_factory(spec, chains=1, draws=1, spread=0.0, summary=cdnow)
    belief = fit_factory(spec, draws=100, spread=0.05, seed=9, summary=cdnow)
    best_true = best_actions(action_values(true_fit, cdnow, actions(0.0), value=VALUE))
    best_belief = best_actions(action_values(belief, cdnow, actions(0.08), value=VALUE, seed=2))
    assert best_true["best_action"].value_counts()[list(truth)].min() >= 30
    targeted = best_true["best_action"] != "do_nothing"
    agree = (best_true["best_action"] == best_belief["best_action"])[targeted].mean()
    assert agree > 0.8
    assert (best_true["best_action"] == best_belief["best_action"]).mean() > 0.9


def test_jointly_learned_effects_are_drawn_together_across_processes_and_segments():
    grid = np.arange(1, 200) / 1000.0
    joint = "one fit"
    action = Action("offer", cost=1.0, effects=(
        Effect.from_samples("purchase_rate", grid, "fit", joint=joint),
        Effect.from_samples("dropout_rate", -grid, "fit", joint=joint)),
        segment_effects={"b": (Effect.from_samples("dropout_rate", -2 * grid, "fit",
                                                   joint=joint),)})
    factors = draw_action_factors(action, ["a", "b"], 500, np.random.default_rng(0))
    # 1 + δ rounds δ, so the pairing holds to rounding of a number near 1
    np.testing.assert_allclose(factors.purchase[:, 0] - 1.0, 1.0 - factors.dropout[:, 0],
                               atol=1e-15)
    np.testing.assert_allclose(2 * (factors.purchase[:, 1] - 1.0), 1.0 - factors.dropout[:, 1],
                               atol=1e-15)
    assert np.unique(factors.purchase[:, 0]).size > 100


def test_without_a_spend_model_a_spend_effect_scales_the_value_per_purchase(
        cdnow, spec_factory, fit_factory):
    # spend = false, value.per_purchase = 20: the baseline is 20 × margin × discounted
    # purchases, and a +12 % spend effect adds 12 % of it, as it would to modelled spend
    value = replace(VALUE, per_purchase=20.0)
    fit = fit_factory(replace(spec_factory("bg_nbd", spend=False), value=value), draws=10,
                      summary=cdnow)
    values = action_values(fit, cdnow, [known("spend", 0.12, cost=1.0)])
    draws = clv_draws(fit, cdnow)
    np.testing.assert_allclose(values["baseline_clv"], 20.0 * 0.3 * draws["discounted_purchases"],
                               rtol=1e-12)
    np.testing.assert_allclose(values["incremental_value"].isel(action=0),
                               0.12 * values["baseline_clv"] - 1.0, rtol=1e-10, atol=1e-10)
    assert values.attrs["value_per_purchase"] == 20.0
