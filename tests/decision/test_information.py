"""Value of information: zero for known effects, and a closed form for a spend effect."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bayesclv.actions import Action, Effect
from bayesclv.clv import clv_draws
from bayesclv.decision import value_of_information
from bayesclv.errors import SpecError
from bayesclv.spec import ValueSpec

VALUE = ValueSpec(margin=0.3, annual_discount_rate=0.1, horizon_months=24)


@pytest.fixture(scope="module")
def fit(spec_factory, fit_factory, cdnow):
    return fit_factory(spec_factory("pareto_nbd"), draws=25, seed=4, summary=cdnow)


def test_known_effects_are_worth_nothing_to_learn(fit, cdnow):
    known = [Action("k", 1.0, (Effect("dropout_rate", -0.2, -0.2),))]
    table = value_of_information(fit, cdnow, known, value=VALUE, n_effect_draws=4)
    assert table["evppi"].abs().max() < 1e-9


def test_spend_effect_matches_the_lognormal_call_price(fit, cdnow):
    """V_i = (f − 1) B_i − c with f log-normal, so E[max(0, V_i)] is a Black-Scholes call.

    With one action, EVPPI = Σ_i E_f[max(0, (f − 1) B̄_i − c)] − max(0, (E f − 1) B̄_i − c),
    B̄_i the posterior mean baseline value.
    """
    effect = Effect("spend", -0.15, 0.25)
    cost = 0.8
    n_draws = 6000
    table = value_of_information(fit, cdnow, [Action("s", cost, (effect,))], value=VALUE,
                                 n_effect_draws=n_draws, seed=3)
    baseline = clv_draws(fit, cdnow, value=VALUE)["clv"].mean(("chain", "draw")).values
    m, s = effect.normal()
    strike = 1.0 + cost / baseline
    d1 = (m + s**2 - np.log(strike)) / s
    call = np.exp(m + s**2 / 2) * stats.norm.cdf(d1) - strike * stats.norm.cdf(d1 - s)
    informed = baseline * call
    now = np.maximum(0.0, (np.exp(m + s**2 / 2) - 1.0) * baseline - cost)
    want = (informed - now).sum()
    got = table.loc[("s", "portfolio"), "evppi"]
    assert want > 50  # the decision is genuinely uncertain for many customers
    assert got == pytest.approx(want, rel=0.02)


def test_evppi_is_non_negative_and_splits_by_segment(fit, cdnow):
    actions = [Action("d", 2.0, (Effect("dropout_rate", -0.4, 0.1),)),
               Action("w", 1.0, (Effect("reactivation", 0.01, 0.2),))]
    table = value_of_information(fit, cdnow, actions, value=VALUE, n_effect_draws=8)
    assert (table["evppi"] >= 0).all()
    for action in ("d", "w"):
        rows = table.loc[action]
        assert rows.loc["portfolio", "evppi"] == pytest.approx(
            rows.drop("portfolio")["evppi"].sum())


def test_bad_settings_are_named(fit, cdnow):
    action = [Action("d", 2.0, (Effect("dropout_rate", -0.4, 0.1),))]
    with pytest.raises(SpecError, match="n_effect_draws"):
        value_of_information(fit, cdnow, action, n_effect_draws=1)


def test_an_eligibility_band_gives_the_table_of_the_eligible_customers_alone(fit, cdnow):
    # Only eligible customers can gain from learning an action's effect: with one action the
    # table equals that of the same action, unrestricted, on the eligible customers alone
    # (same posterior draws, same effect draws).
    from dataclasses import replace

    from bayesclv.actions import Eligibility
    from bayesclv.decision import action_values

    open_to_all = Action("d", 2.0, (Effect("dropout_rate", -0.4, 0.1),))
    banded = replace(open_to_all, eligibility=Eligibility(p_alive=(0.5, 1.0)))
    values = action_values(fit, cdnow, [banded], value=VALUE, seed=7)
    eligible = values["eligible"].values[:, 0]
    assert 100 < eligible.sum() < eligible.size - 100
    table = value_of_information(fit, cdnow, [banded], value=VALUE, n_effect_draws=8, seed=7)
    alone = value_of_information(fit, cdnow.subset(eligible), [open_to_all], value=VALUE,
                                 n_effect_draws=8, seed=7)
    for column in ("n_eligible", "value_now", "evppi"):
        assert table[column].to_numpy() == pytest.approx(alone[column].to_numpy(), rel=1e-12)
    # an action_values result passed in gives the same table as scoring again
    reused = value_of_information(fit, cdnow, [banded], value=VALUE, n_effect_draws=8, seed=7,
                                  values=values)
    assert reused["evppi"].to_numpy() == pytest.approx(table["evppi"].to_numpy(), rel=1e-12)
    # ... and its eligibility is the one used: half the eligible customers struck off
    fewer = values.copy(deep=True)
    kept = np.flatnonzero(eligible)[::2]
    fewer["eligible"].values[:, 0] = np.isin(np.arange(eligible.size), kept)
    halved = value_of_information(fit, cdnow, [banded], value=VALUE, n_effect_draws=8, seed=7,
                                  values=fewer)
    assert halved.loc[("d", "portfolio"), "n_eligible"] == kept.size < eligible.sum()
    with pytest.raises(SpecError, match="same actions and customers"):
        value_of_information(fit, cdnow, [open_to_all, banded], value=VALUE, values=values)


def test_chunks_change_no_number(fit, cdnow):
    actions = [Action("call", 2.0, (Effect("dropout_rate", -0.3, -0.1),)),
               Action("coupon", 1.0, (Effect("spend", 0.05, 0.2),))]
    whole = value_of_information(fit, cdnow, actions, value=VALUE, n_effect_draws=4,
                                 chunk_size=10**6)
    chunked = value_of_information(fit, cdnow, actions, value=VALUE, n_effect_draws=4,
                                   chunk_size=500)
    pd.testing.assert_frame_equal(chunked, whole, check_exact=True)
