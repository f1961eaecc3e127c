"""Per-draw CLV: agreement with the closed forms, identities, spend priors, labels, errors."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayesclv.clv import (
    clv_draws,
    new_customer_value,
    predictive_clv,
    segment_totals,
    value_by_period,
)
from bayesclv.data import ColumnMap, CustomerSummary, summarise
from bayesclv.errors import DataError, SpecError
from bayesclv.maths import (
    bgnbd_conditional_expected_purchases,
    bgnbd_expected_purchases,
    bgnbd_p_alive,
    gammagamma_conditional_mean_spend,
    mbgnbd_conditional_expected_purchases,
    mbgnbd_expected_purchases,
    mbgnbd_p_alive,
    paretonbd_conditional_expected_purchases,
    paretonbd_expected_purchases,
    paretonbd_p_alive,
)
from bayesclv.spec import ValueSpec

CLOSED = {
    "bg_nbd": (bgnbd_p_alive, bgnbd_conditional_expected_purchases, bgnbd_expected_purchases),
    "mbg_nbd": (mbgnbd_p_alive, mbgnbd_conditional_expected_purchases,
                mbgnbd_expected_purchases),
    "pareto_nbd": (paretonbd_p_alive, paretonbd_conditional_expected_purchases,
                   paretonbd_expected_purchases),
}
ONE_MONTH = 365.25 / 7 / 12


def _params(fit, names):
    ds = fit.parameters()
    return [ds[n].values.reshape(-1, ds.sizes["segment"])[:, :1] for n in names]


@pytest.mark.parametrize("family", ["bg_nbd", "mbg_nbd", "pareto_nbd"])
def test_draws_match_closed_forms(cdnow, spec_factory, fit_factory, family):
    fit = fit_factory(spec_factory(family), draws=20, summary=cdnow)
    value = ValueSpec(horizon_months=12, annual_discount_rate=0.0)
    draws = clv_draws(fit, cdnow, value=value)
    assert dict(draws.sizes) == {"chain": 2, "draw": 20, "customer": cdnow.n_customers}
    assert draws["segment"].dims == ("customer",)
    assert draws.attrs["time_unit"] == "weeks" and "residual" in draws.attrs["value_kind"]
    frame = cdnow.frame
    params = _params(fit, fit.family.natural)
    hist = (frame["x"].to_numpy(), frame["t_x"].to_numpy(), frame["T"].to_numpy())
    p_alive, conditional, _ = CLOSED[family]
    flat = {k: draws[k].values.reshape(40, -1) for k in draws.data_vars}
    np.testing.assert_allclose(flat["p_alive"], p_alive(*params, *hist), rtol=1e-12)
    horizon = 12 * ONE_MONTH
    expected = conditional(*params, *hist, horizon)
    np.testing.assert_allclose(flat["expected_purchases"], expected, rtol=1e-9, atol=1e-12)
    # Zero discount rate: discounting changes nothing.
    np.testing.assert_allclose(flat["discounted_purchases"], expected, rtol=1e-9, atol=1e-12)


def test_one_period_margin_one_no_discount_is_spend_times_purchases(cdnow, spec_factory,
                                                                   fit_factory):
    fit = fit_factory(spec_factory("pareto_nbd"), draws=10, summary=cdnow)
    value = ValueSpec(margin=1.0, annual_discount_rate=0.0, horizon_months=1.0, period="month")
    draws = clv_draws(fit, cdnow, value=value)
    np.testing.assert_allclose(draws["clv"], draws["expected_spend"]
                               * draws["expected_purchases"], rtol=1e-12)


def test_discounting_lowers_value_and_period_end_is_below_mid(cdnow, spec_factory, fit_factory):
    fit = fit_factory(spec_factory("bg_nbd"), draws=5, summary=cdnow)
    end = clv_draws(fit, cdnow, value=ValueSpec(annual_discount_rate=0.2))
    mid = clv_draws(fit, cdnow, value=ValueSpec(annual_discount_rate=0.2), convention="mid")
    assert (end["discounted_purchases"] <= mid["discounted_purchases"]).all()
    assert (mid["discounted_purchases"] < mid["expected_purchases"] + 1e-12).all()


def test_spend_uses_own_history_and_segment_prior(spec_factory, fit_factory):
    frame = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d"], "segment": ["s1", "s1", "s2", "s2"],
        "x": [0, 3, 0, 3], "t_x": [0.0, 20.0, 0.0, 20.0], "T": [30.0] * 4,
        "n_spend": [0, 3, 0, 3], "mean_spend": [np.nan, 40.0, np.nan, 40.0],
    })
    summary = CustomerSummary.from_frame(frame, segment="segment")
    fit = fit_factory(spec_factory("bg_nbd"), segments=("s1", "s2"), draws=5,
                      scale={"gamma": [1.0, 3.0]}, summary=summary)
    spend = clv_draws(fit, summary)["expected_spend"]
    g = fit.spend_parameters()
    prior = (g["p"] * g["gamma"] / (g["q"] - 1)).values
    np.testing.assert_allclose(spend.sel(customer="a"), prior[..., 0])
    np.testing.assert_allclose(spend.sel(customer="c"), prior[..., 1])
    assert float(spend.sel(customer="c").mean()) > 2 * float(spend.sel(customer="a").mean())
    own = gammagamma_conditional_mean_spend(g["p"].values[..., 0], g["q"].values[..., 0],
                                            g["gamma"].values[..., 0], 3, 40.0)
    np.testing.assert_allclose(spend.sel(customer="b"), own)


def test_retention_cost_is_subtracted_per_customer(cdnow, spec_factory, fit_factory):
    fit = fit_factory(spec_factory("bg_nbd"), draws=4, summary=cdnow)
    base = clv_draws(fit, cdnow)
    cost = pd.Series(np.arange(cdnow.n_customers, dtype=float), index=cdnow.frame.index[::-1])
    net = clv_draws(fit, cdnow, retention_cost=cost)
    np.testing.assert_allclose(base["clv"] - net["clv"],
                               np.broadcast_to(cost.reindex(cdnow.frame.index).values,
                                               base["clv"].shape))
    with pytest.raises(DataError, match="retention_cost"):
        clv_draws(fit, cdnow, retention_cost=np.ones(3))


def test_totals_are_sums_of_customers_per_draw(cdnow, spec_factory, fit_factory):
    fit = fit_factory(spec_factory("pareto_nbd"), draws=30, summary=cdnow)
    draws = clv_draws(fit, cdnow)
    totals = segment_totals(draws)
    np.testing.assert_array_equal(totals["clv"].sel(segment="portfolio").values,
                                  draws["clv"].values.sum(axis=-1))
    assert list(totals["n_customers"].values) == [cdnow.n_customers] * 2


def test_per_period_flows_add_up_to_horizon_totals(cdnow, spec_factory, fit_factory):
    fit = fit_factory(spec_factory("bg_nbd"), draws=6, summary=cdnow)
    value = ValueSpec(margin=0.3, horizon_months=24, period="quarter")
    periods = value_by_period(fit, cdnow, value=value, chunk_size=700)
    assert periods.sizes["period"] == 8
    totals = segment_totals(clv_draws(fit, cdnow, value=value))
    np.testing.assert_allclose(periods["expected_purchases"].sum("period"),
                               totals["expected_purchases"], rtol=1e-10)
    np.testing.assert_allclose(periods["discounted_margin"].sum("period"), totals["clv"],
                               rtol=1e-10)
    assert str(periods["period_end_date"].values[-1])[:10] == "1999-09-30"


@pytest.mark.parametrize("family", ["bg_nbd", "mbg_nbd", "pareto_nbd"])
def test_new_customer_value_is_unconditional_expectation(spec_factory, fit_factory, family):
    # MBG/NBD: a new customer may drop out at the first purchase, so this is below the
    # purchases expected if alive.
    fit = fit_factory(spec_factory(family), segments=("a", "b"), draws=8)
    value = ValueSpec(margin=0.5, annual_discount_rate=0.0, horizon_months=12)
    new = new_customer_value(fit, value=value)
    ds, g = fit.parameters(), fit.spend_parameters()
    expected = CLOSED[family][2](*(ds[name] for name in fit.family.natural), 12 * ONE_MONTH)
    np.testing.assert_allclose(new["expected_purchases"], expected, rtol=1e-10)
    np.testing.assert_allclose(new["clv"], 0.5 * expected * g["p"] * g["gamma"] / (g["q"] - 1),
                               rtol=1e-10)


def test_errors_name_the_bad_argument(cdnow, spec_factory, fit_factory):
    fit = fit_factory(spec_factory("bg_nbd"), segments=("other",), draws=2, summary=cdnow)
    with pytest.raises(DataError, match="segment"):
        clv_draws(fit, cdnow)
    fit = fit_factory(spec_factory("bg_nbd"), draws=2, summary=cdnow)
    with pytest.raises(DataError, match="thin"):
        clv_draws(fit, cdnow, thin=0)
    with pytest.raises(SpecError, match="horizon_months"):
        clv_draws(fit, cdnow, value=ValueSpec(horizon_months=0))
    with pytest.raises(SpecError, match=r"so a purchase has no value in money: set "
                                         r"value\.per_purchase"):
        clv_draws(replace(fit, spend=None), cdnow)


def test_per_period_flows_add_up_per_segment(cdnow_log, spec_factory, fit_factory):
    ids = cdnow_log["customer_id"].unique()
    segments = pd.Series(np.array(["b", "a", "c"])[np.arange(ids.size) % 3], index=ids)
    summary = summarise(cdnow_log, calibration_end="1997-09-30", segments=segments)
    fit = fit_factory(spec_factory("pareto_nbd"), segments=("a", "b", "c"), draws=5,
                      scale={"r": [0.5, 1.0, 2.0], "s": [2.0, 1.0, 0.5]}, summary=summary)
    periods = value_by_period(fit, summary, chunk_size=500)
    totals = segment_totals(clv_draws(fit, summary))
    for segment in ("a", "b", "c", "portfolio"):
        np.testing.assert_allclose(
            periods["discounted_margin"].sel(segment=segment).sum("period"),
            totals["clv"].sel(segment=segment), rtol=1e-10)


# A log without amounts: the fit has no spend model and value.per_purchase values purchases.
PER_PURCHASE = ValueSpec(per_purchase=25.0, margin=0.3)


@pytest.fixture(scope="module")
def visits(cdnow_log):
    """The CDNOW sample without its amounts: purchases only, spend unknown."""
    return summarise(cdnow_log.drop(columns=["amount"]), calibration_end="1997-09-30",
                     columns=ColumnMap(amount=None))


def without_spend(spec_factory, family, value=PER_PURCHASE):
    return replace(spec_factory(family, spend=False), value=value)


def test_a_value_per_purchase_reproduces_the_published_expectation(cdnow, spec_factory,
                                                                     fit_factory):
    # FHL 2005: at the published BG/NBD estimates the customer with x = 2, t_x = 30.43,
    # T = 38.86 (CDNOW's "0001") expects 1.226 purchases in the next 39 weeks; undiscounted,
    # at 25 per purchase and a 30 % margin, that is 0.3 × 25 × 1.226 = 9.195.
    value = replace(PER_PURCHASE, horizon_months=39 * 7 / 30.4375, annual_discount_rate=0.0)
    fit = fit_factory(without_spend(spec_factory, "bg_nbd", value), draws=2, spread=0.0,
                      summary=cdnow)
    assert fit.spend is None
    first = clv_draws(fit, cdnow)[["clv", "expected_spend"]].sel(customer="0001")
    np.testing.assert_array_equal(first["expected_spend"], 25.0)
    np.testing.assert_allclose(first["clv"], 0.3 * 25 * 1.226, atol=0.3 * 25 * 5e-4)  # 3 d.p.


@pytest.mark.parametrize("family", ["bg_nbd", "mbg_nbd", "pareto_nbd"])
def test_clv_at_a_value_per_purchase_is_value_margin_and_discounted_purchases(
        visits, spec_factory, fit_factory, family):
    fit = fit_factory(without_spend(spec_factory, family), draws=5, summary=visits)
    draws = clv_draws(fit, visits)
    assert draws.attrs["value_per_purchase"] == 25.0
    # per draw and customer, from the closed forms alone: the conditional expectation
    # (P(alive) × purchases expected if alive) of each month, discounted at 10 %/year at
    # the month's end, × 25 × 0.3
    frame = visits.frame
    hist = (frame["x"].to_numpy(), frame["t_x"].to_numpy(), frame["T"].to_numpy())
    params = _params(fit, fit.family.natural)
    conditional = CLOSED[family][1]
    discounted, before = 0.0, 0.0
    for month in range(1, 37):
        through = conditional(*params, *hist, month * ONE_MONTH)
        discounted = discounted + 1.1 ** (-month / 12) * (through - before)
        before = through
    np.testing.assert_allclose(draws["clv"].values.reshape(10, -1), 25.0 * 0.3 * discounted,
                               rtol=1e-9)
    np.testing.assert_array_equal(draws["expected_spend"], 25.0)


def test_a_value_per_purchase_equals_a_spend_model_of_that_constant_spend(
        visits, spec_factory, fit_factory):
    # Gamma-Gamma with p = 1, q = 2, γ = 25 in every draw gives customers without repeat
    # spend (all of a log without amounts) the prior mean p γ / (q − 1) = 25: the same
    # numbers, bit for bit, in every money output.
    fit = fit_factory(without_spend(spec_factory, "pareto_nbd"), draws=6, summary=visits)
    shape = fit.parameters()["r"].shape
    posterior = fit.frequency["posterior"].to_dataset()
    spend = xr.Dataset({name: (("chain", "draw", "segment"), np.full(shape, level))
                        for name, level in (("p", 1.0), ("q", 2.0), ("gamma", 25.0))},
                       coords=posterior[["r"]].coords)
    modelled = replace(fit, spec=replace(fit.spec, spend=True, value=replace(
        PER_PURCHASE, per_purchase=None)), spend=xr.DataTree.from_dict({"posterior": spend}))
    for score in (lambda f: clv_draws(f, visits, retention_cost=1.0),
                  lambda f: value_by_period(f, visits, chunk_size=700),
                  lambda f: new_customer_value(f)):
        xr.testing.assert_identical(score(fit).drop_attrs(), score(modelled).drop_attrs())


def test_the_value_settings_passed_give_the_value_per_purchase(visits, spec_factory,
                                                               fit_factory):
    fit = fit_factory(without_spend(spec_factory, "bg_nbd"), draws=3, summary=visits)
    spec_value = clv_draws(fit, visits)["clv"]
    doubled = clv_draws(fit, visits, value=replace(PER_PURCHASE, per_purchase=50.0))["clv"]
    np.testing.assert_allclose(doubled, 2 * spec_value, rtol=1e-15)
    periods = value_by_period(fit, visits, value=replace(PER_PURCHASE, per_purchase=50.0))
    np.testing.assert_allclose(periods["revenue"], 50.0 * periods["expected_purchases"],
                               rtol=1e-12)
    simulated = predictive_clv(fit, visits, seed=1)
    np.testing.assert_array_equal(simulated["revenue"], 25.0 * simulated["purchases"])
    with pytest.raises(SpecError, match=r"^there is no spend model \(model.spend = false\), "
                                        r"so a purchase has no value in money"):
        clv_draws(fit, visits, value=ValueSpec())
    spend_fit = fit_factory(spec_factory("bg_nbd"), draws=3, summary=visits)
    with pytest.raises(SpecError, match=r"^value\.per_purchase = 25\.0 values every purchase "
                                        r"alike, but model\.spend = true"):
        clv_draws(spend_fit, visits, value=PER_PURCHASE)
