"""The pack built from a fit: every table present, titled with its units, and consistent."""

import hashlib
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from bayesclv.clv import PORTFOLIO
from bayesclv.decision import BASELINE
from bayesclv.models.convergence import Convergence
from bayesclv.report import build_report, value_section, write_report
from bayesclv.report.build import fit_warnings
from bayesclv.report.pack import REPRODUCIBLE_TIME
from bayesclv.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
VALUE_KEYS = ["parameters", "customer_equity", "value_by_period", "customer_clv",
              "churn_by_segment", "churn_watchlist", "holdout_metrics"]
DECISION_KEYS = ["decisions_by_segment", "best_action_per_customer", "best_action_counts",
                 "value_of_information", "campaign", "campaign_by_action",
                 "campaign_by_segment", "allocation", "budget_curve"]


@pytest.fixture(scope="module")
def spec():
    return load_spec(ROOT / "models" / "cdnow.toml")


@pytest.fixture(scope="module")
def pack(spec, cdnow, fit_factory):
    return build_report(fit_factory(spec, draws=40, summary=cdnow), cdnow, thin=2, top=25)


def test_every_table_in_reading_order(pack):
    assert [t.key for t in pack.tables] == VALUE_KEYS + DECISION_KEYS
    assert [f.key for f in pack.figures] == ["equity_by_segment", "budget_curve"]
    assert pack.title == "cdnow: customer lifetime value and retention decisions"


def test_titles_and_facts_state_currency_and_interval(pack):
    for key in ("customer_equity", "value_by_period", "campaign", "budget_curve"):
        title = pack.table(key).title
        assert "USD" in title and "90% HDI" in title, title
    facts = dict(pack.facts)
    assert facts["currency"] == "USD"
    assert facts["intervals"].startswith("90% highest-density intervals")
    assert facts["customers"].startswith("2,357 in 1 segment(s)")
    assert facts["fit"] == "NUTS: 2 chains × 40 draws kept"
    assert pack.warnings == ()  # a hand-built fit has no sampler diagnostics to fail


def test_portfolio_equity_is_the_sum_of_customers_expected_clv(pack):
    # linearity of expectation: E[Σ CLV_i] = Σ E[CLV_i], draw by draw
    customers = pack.table("customer_clv").frame
    equity = pack.table("customer_equity").frame
    assert equity.loc[PORTFOLIO, "clv_mean"] == pytest.approx(customers["clv_mean"].sum(),
                                                              rel=1e-12)
    assert equity.loc[PORTFOLIO, "n_customers"] == len(customers) == 2357
    assert len(pack.table("churn_watchlist").frame) == 25


def test_the_campaign_stays_within_the_budget_and_matches_its_plan(pack):
    campaign = pack.table("campaign").frame["value"]
    allocation = pack.table("allocation").frame
    targeted = allocation[allocation["action"] != BASELINE]
    assert campaign["cost"] + campaign["fixed_cost"] <= 3000.0 + 1e-9  # the spec's budget
    assert campaign["customers_targeted"] == len(targeted)
    counts = pack.table("best_action_counts").frame
    assert counts.loc["total", "total"] == 2357


def test_the_hdi_level_follows_the_spec(spec, cdnow, fit_factory):
    narrow = replace(spec, value=replace(spec.value, hdi_prob=0.8))
    section = value_section(fit_factory(narrow, draws=20, summary=cdnow), cdnow, narrow)
    equity = next(t for t in section.tables if t.key == "customer_equity")
    assert "80% HDI" in equity.title and "clv_hdi_80%_low" in equity.frame.columns


def test_unconverged_and_map_fits_warn_before_any_number():
    table = pd.DataFrame({"r_hat": [1.2], "ess_bulk": [50.0]})
    bad = Convergence(table, divergences=3, bfmi=(0.9,), problems=("R-hat above 1.01: log_r",))
    (warning,) = fit_warnings({"frequency": bad}, "nuts")
    assert "frequency model did NOT converge: R-hat above 1.01: log_r" in warning
    assert "MAP fit" in fit_warnings({}, "map")[0]


def test_long_posteriors_are_thinned_evenly_for_the_value_tables(spec, cdnow, fit_factory,
                                                                  monkeypatch):
    # With more than 2 × REPORT_SAMPLES draws the value tables use every k-th draw of each
    # chain, and say so; their numbers are those of clv_draws at that thinning.
    from bayesclv.clv import clv_draws, customer_equity
    from bayesclv.report import build

    monkeypatch.setattr(build, "REPORT_SAMPLES", 30)
    fit = fit_factory(spec, chains=2, draws=45, summary=cdnow)  # 90 draws: one in 3 → 2 × 15
    assert build.report_thin(fit) == 3
    section = value_section(fit, cdnow, spec)
    equity = section.tables[1].frame
    want = customer_equity(clv_draws(fit, cdnow, value=spec.value, thin=3))
    assert equity.loc[PORTFOLIO, "clv_mean"] == pytest.approx(want.loc[PORTFOLIO, "clv_mean"],
                                                              rel=1e-12)
    facts = dict(build.report_facts(fit, cdnow, spec, {}, build.report_time()))
    assert facts["fit"] == ("NUTS: 2 chains × 45 draws kept; the value tables and the holdout "
                            "check use 30 of them (one draw in 3 of each chain)")


@pytest.mark.parametrize(("family", "fact", "title"), [
    ("pareto_nbd", "weeks (rates α, β per week)", "α, β per week, γ in USD"),
    ("bg_nbd", "weeks (rate α per week)", "α per week, γ in USD"),
    ("mbg_nbd", "weeks (rate α per week)", "α per week, γ in USD"),
])
def test_the_time_unit_names_the_familys_own_time_scales(spec, cdnow, fit_factory, family,
                                                          fact, title):
    # α (and β for Pareto/NBD) are in the fit's time unit; BG/NBD's a and b have no unit.
    from bayesclv.report import build

    chosen = replace(spec, family=family)
    fit = fit_factory(chosen, draws=4, summary=cdnow)
    facts = dict(build.report_facts(fit, cdnow, chosen, {}, build.report_time()))
    assert facts["time unit"] == fact
    parameters = value_section(fit, cdnow, chosen).tables[0]
    assert parameters.title == f"posterior parameters per segment (90% HDI; {title})"


def test_the_same_fit_and_seed_give_byte_identical_files(spec, cdnow, fit_factory, tmp_path,
                                                         monkeypatch):
    monkeypatch.setenv(REPRODUCIBLE_TIME, "1700000000")
    fit = fit_factory(spec, draws=40, summary=cdnow)
    digests = []
    for run in ("first", "second"):
        pack = build_report(fit, cdnow, thin=2, top=25, seed=3)
        written = write_report(pack, tmp_path / run, name="cdnow")
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in written})
    assert digests[0] == digests[1]
    assert dict(pack.facts)["generated"].startswith("2023-11-14 22:13 by bayesclv")


def test_a_fit_without_spend_model_is_valued_at_the_value_per_purchase(spec, cdnow,
                                                                       fit_factory):
    # spend = false and value.per_purchase: the pack states the value per purchase, and its
    # parameters are the frequency model's alone. The fit's own spec has no value per
    # purchase (as a saved fit reported under a spec that now gives one): every table must
    # take it from the spec passed.
    from bayesclv.clv import clv_draws, customer_equity

    unpriced = replace(spec, spend=False, actions=())
    priced = replace(unpriced, value=replace(spec.value, per_purchase=40.0))
    fit = fit_factory(unpriced, draws=20, summary=cdnow)
    pack = build_report(fit, cdnow, priced)
    assert [t.key for t in pack.tables] == VALUE_KEYS
    facts = dict(pack.facts)
    assert facts["model"] == "cdnow: pareto_nbd"
    assert facts["value per purchase"] == (
        "40 USD for every purchase of every customer, in every draw (value.per_purchase: there "
        "is no spend model, so expected spend is this and revenue is this × purchases)")
    parameters = pack.table("parameters")
    assert parameters.title == "posterior parameters per segment (90% HDI; α, β per week)"
    assert set(parameters.frame["model"]) == {"frequency"}
    assert list(parameters.frame["parameter"]) == ["r", "alpha", "s", "beta"]
    equity = pack.table("customer_equity")
    assert equity.title == ("customer equity per segment: USD, residual over 36 months, every "
                            "purchase 40 USD, margin 30%, discount 10%/year; 90% HDI")
    want = customer_equity(clv_draws(fit, cdnow, value=priced.value))
    assert equity.frame.loc[PORTFOLIO, "clv_mean"] == want.loc[PORTFOLIO, "clv_mean"]
    assert equity.frame.loc[PORTFOLIO, "clv_mean"] == pytest.approx(
        40.0 * 0.3 * equity.frame.loc[PORTFOLIO, "discounted_purchases_mean"], rel=1e-12)
