"""The command line: the batch steps on a spec, the demo, and errors as one clear line."""

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from bayesclv.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def matching_fit(draws: int):
    """A hand-built fit of models/cdnow.toml, fingerprinted with that spec's summaries."""
    from dataclasses import replace

    from hand_fits import make_fit

    from bayesclv.models import fingerprint
    from bayesclv.pipeline import summarise_spec
    from bayesclv.spec import load_spec

    spec = load_spec(ROOT / "models" / "cdnow.toml")
    return replace(make_fit(spec, draws=draws), fingerprint=fingerprint(summarise_spec(spec)))


@pytest.fixture(autouse=True)
def at_project_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_summarise_writes_one_row_per_customer(tmp_path):
    out = tmp_path / "summary.csv"
    result = runner.invoke(app, ["summarise", "models/cdnow.toml", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2,357" in result.output and "nothing excluded" in result.output
    frame = pd.read_csv(out)
    assert len(frame) == 2357 and int(frame["x"].sum()) == 2457


def test_fit_map_prints_parameters_with_intervals():
    result = runner.invoke(app, ["fit", "models/cdnow.toml", "--method", "map"])
    assert result.exit_code == 0, result.output
    assert "HDI 90%" in result.output
    for name in ("alpha", "beta", "gamma"):
        assert name in result.output


def test_demo_without_fit_writes_segment_tables(tmp_path):
    result = runner.invoke(app, ["demo", "--no-fit", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name, customers in (("cdnow_sample_segments", 2357), ("cdnow_segments", 23570)):
        segments = pd.read_csv(tmp_path / f"{name}_segments.csv")
        assert len(segments) == 10  # 3 monthly cohorts × 3 first-basket tiers + the total
        assert int(segments.set_index("segment").loc["total", "customers"]) == customers


def test_bad_spec_is_one_clear_line(tmp_path):
    spec = tmp_path / "bad.toml"
    spec.write_text(
        '[model]\nname = "x"\n[data]\nsource = "bayesclv:cdnow_sample"\n'
        'calibration_end = 1997-09-30\n[sampler]\nchians = 2\n'
    )
    result = runner.invoke(app, ["fit", str(spec)])
    assert result.exit_code == 2
    assert "sampler.chians" in result.output and "sampler.chains" in result.output
    assert "Traceback" not in result.output


def test_decide_on_a_saved_fit_writes_the_campaign_plan(tmp_path):


    fit_path = tmp_path / "fit.nc"
    matching_fit(draws=40).save(fit_path)
    result = runner.invoke(app, ["decide", "models/cdnow.toml", "--fit", str(fit_path),
                                 "--budget", "500", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "90% HDI" in result.output and "p_roi_negative" in result.output
    allocation = pd.read_csv(tmp_path / "cdnow_allocation.csv")
    assert len(allocation) == 2357
    spent = allocation["cost"].sum()
    assert 0 < spent <= 500
    curve = pd.read_csv(tmp_path / "cdnow_budget_curve.csv")
    assert curve["value_mean"].is_monotonic_increasing
    assert (tmp_path / "cdnow_budget_curve.png").stat().st_size > 10_000


def test_decide_with_a_bad_budget_is_one_clear_line(tmp_path):


    fit_path = tmp_path / "fit.nc"
    matching_fit(draws=10).save(fit_path)
    result = runner.invoke(app, ["decide", "models/cdnow.toml", "--fit", str(fit_path),
                                 "--budget", "-5", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "budget.amount" in result.output and "Traceback" not in result.output


def test_report_writes_the_finance_pack_in_the_chosen_formats(tmp_path):
    from openpyxl import load_workbook


    fit_path = tmp_path / "fit.nc"
    matching_fit(draws=20).save(fit_path)
    result = runner.invoke(app, ["report", "models/cdnow.toml", "--fit", str(fit_path),
                                 "--format", "xlsx", "--format", "html", "--thin", "2",
                                 "--out", str(tmp_path / "pack")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "pack").iterdir()) == ["cdnow.html",
                                                                     "cdnow.xlsx"]
    sheets = load_workbook(tmp_path / "pack" / "cdnow.xlsx", read_only=True).sheetnames
    assert sheets[:3] == ["about", "parameters", "customer_equity"] and "campaign" in sheets
    assert "customer equity per segment: USD" in result.output
    again = ["report", "models/cdnow.toml", "--fit", str(fit_path), "--format", "html",
             "--out", str(tmp_path / "pack")]
    refused = runner.invoke(app, again)
    assert refused.exit_code == 2 and "cdnow.html exists" in refused.output
    assert "pass --force" in refused.output and "fitting" not in refused.output
    assert runner.invoke(app, [*again, "--force"]).exit_code == 0
    assert not [p for p in (tmp_path / "pack").iterdir() if p.name.startswith(".")]


def test_report_with_an_unknown_format_stops_before_fitting(tmp_path):
    result = runner.invoke(app, ["report", "models/cdnow.toml", "--format", "pdf",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "'pdf' is not one of csv, xlsx, html" in result.output
    assert "fitting" not in result.output and not list(tmp_path.iterdir())


SHORT_BG_NBD = (
    '[model]\nname = "short"\nfamily = "bg_nbd"\nspend = false\n'
    '[data]\nsource = "bayesclv:cdnow_sample"\ncalibration_end = 1997-09-30\n'
    '[sampler]\nchains = 2\ntune = 30\ndraws = 30\nseed = 1\n'
)


def test_an_unconverged_fit_exits_with_its_own_status(tmp_path):
    spec = tmp_path / "short.toml"
    spec.write_text(SHORT_BG_NBD)
    result = runner.invoke(app, ["fit", str(spec)])
    assert result.exit_code == 3, result.output
    assert "NOT converged" in result.output and "exit status 3" in result.output
    allowed = runner.invoke(app, ["fit", str(spec), "--allow-unconverged"])
    assert allowed.exit_code == 0, allowed.output
    assert "NOT converged" in allowed.output


def test_check_compares_the_spec_with_the_named_family_only(tmp_path):
    spec = tmp_path / "short.toml"
    spec.write_text(SHORT_BG_NBD)
    result = runner.invoke(app, ["check", str(spec), "--compare", "mbg_nbd",
                                 "--allow-unconverged"])
    assert result.exit_code == 0, result.output
    assert "customers by repeat purchases (central 90% interval)" in result.output
    assert "fitting mbg_nbd for the comparison" in result.output
    assert "fitting pareto_nbd" not in result.output
    table = result.output[result.output.index("PSIS-LOO comparison"):]
    assert "bg_nbd" in table and "mbg_nbd" in table and "pareto_nbd" not in table


@pytest.mark.parametrize(("asked", "message"), [
    ("bg_nbdd", "--compare 'bg_nbdd' is not a model family; did you mean 'bg_nbd'?"),
    ("weibull", "(families: pareto_nbd, bg_nbd, mbg_nbd; or 'all' for every other family)"),
    ("bg_nbd", "--compare bg_nbd: that is the spec's own family (model.family)"),
])
def test_check_refuses_a_family_it_cannot_compare_before_fitting(tmp_path, asked, message):
    spec = tmp_path / "short.toml"
    spec.write_text(SHORT_BG_NBD)
    result = runner.invoke(app, ["check", str(spec), "--compare", "mbg_nbd",
                                 "--compare", asked])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert "fitting" not in result.output and "Traceback" not in result.output


def test_compare_all_is_every_other_family_once_in_the_order_given():
    from bayesclv.cli import _families_to_compare

    assert _families_to_compare("pareto_nbd", ["mbg_nbd", "all", "bg_nbd"]) == ["mbg_nbd",
                                                                               "bg_nbd"]
    assert _families_to_compare("bg_nbd", ["all"]) == ["pareto_nbd", "mbg_nbd"]
    assert _families_to_compare("bg_nbd", []) == []


def test_summarise_refuses_an_existing_file_or_a_wrong_suffix(tmp_path):
    existing = tmp_path / "s.csv"
    existing.write_text("keep me")
    result = runner.invoke(app, ["summarise", "models/cdnow.toml", "--out", str(existing)])
    assert result.exit_code == 2 and "s.csv exists" in result.output
    assert existing.read_text() == "keep me"
    wrong = runner.invoke(app, ["summarise", "models/cdnow.toml",
                                "--out", str(tmp_path / "s.xlsx")])
    assert wrong.exit_code == 2 and ".csv or a .parquet" in wrong.output


def test_a_saved_fit_is_refused_for_another_spec_or_other_data(tmp_path):
    fit_path = tmp_path / "fit.nc"
    matching_fit(draws=10).save(fit_path)
    spec = (ROOT / "models" / "cdnow.toml").read_text()
    other_family = tmp_path / "bg.toml"
    other_family.write_text(spec.replace('family = "pareto_nbd"', 'family = "bg_nbd"'))
    result = runner.invoke(app, ["decide", str(other_family), "--fit", str(fit_path),
                                 "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "other values of model.family" in result.output
    other_end = tmp_path / "end.toml"
    other_end.write_text(spec.replace("calibration_end = 1997-09-30",
                                      "calibration_end = 1997-12-31"))
    result = runner.invoke(app, ["decide", str(other_end), "--fit", str(fit_path),
                                 "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "data.calibration_end" in result.output


def experiment_files(tmp_path, family="pareto_nbd"):
    """A simulated experiment's log and assignment, and a spec naming its tested action."""
    from bayesclv.simulate import HierarchicalTruth, simulate_experiment

    truth = HierarchicalTruth.from_frame("pareto_nbd", pd.DataFrame(
        {"r": [0.55], "alpha": [10.6], "s": [0.61], "beta": [11.7], "p": [6.25], "q": [3.74],
         "gamma": [15.4]}, index=["all"]))
    world = simulate_experiment(truth, 400, dropout_factor=0.6, seed=5)
    world.transactions.to_csv(tmp_path / "log.csv", index=False)
    world.assignment.to_csv(tmp_path / "assignment.csv", index=False)
    spec = tmp_path / "experiment.toml"
    spec.write_text(f"""
[model]
name = "experiment"
family = "{family}"
spend = false
[data]
source = "log.csv"
calibration_end = "{world.end.date()}"
[sampler]
chains = 1
tune = 60
draws = 60
seed = 1
[[actions]]
name = "loyalty_offer"
cost = 2.0
effects = {{ dropout_rate = [-0.5, 0.1] }}
""")
    return spec, tmp_path / "log.csv", tmp_path / "assignment.csv"


def test_learn_writes_effects_ready_for_a_spec(tmp_path):
    spec, log, assignment = experiment_files(tmp_path)
    out = tmp_path / "effects.csv"
    result = runner.invoke(app, ["learn", str(spec), "--action", "loyalty_offer", "--log",
                                 str(log), "--assignment", str(assignment), "--out", str(out),
                                 "--allow-unconverged"])
    assert result.exit_code == 0, result.output
    assert "learned effects" in result.output and "(the spec's last day" in result.output
    effects = pd.read_csv(out).set_index("process")
    assert list(effects.columns) == ["mean", "low", "high"]
    assert set(effects.index) == {"purchase_rate", "dropout_rate"}
    assert ((effects["low"] < effects["mean"]) & (effects["mean"] < effects["high"])).all()
    again = runner.invoke(app, ["learn", str(spec), "--action", "loyalty_offer", "--log",
                                str(log), "--assignment", str(assignment), "--out", str(out)])
    assert again.exit_code == 2 and "exists; not replacing it" in again.output


@pytest.mark.parametrize(("change", "message"), [
    ({"action": "loyalty_ofer"}, "--action 'loyalty_ofer' is not an action of the spec; did "
                                 "you mean 'loyalty_offer'?"),
    ({"family": "bg_nbd"}, "needs family = 'pareto_nbd'"),
    ({"assignment": "missing.csv"}, "no such file"),
])
def test_learn_errors_are_one_clear_line(tmp_path, change, message):
    spec, log, assignment = experiment_files(tmp_path, family=change.get("family",
                                                                         "pareto_nbd"))
    assignment = tmp_path / change.get("assignment", assignment.name)
    result = runner.invoke(app, ["learn", str(spec), "--action",
                                 change.get("action", "loyalty_offer"), "--log", str(log),
                                 "--assignment", str(assignment)])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


VISITS_SPEC = """[model]
name = "visits"
spend = false
[data]
source = "visits.csv"
amount = false
calibration_end = 1997-09-30
holdout_end = 1998-06-30
[sampler]
method = "map"
[budget]
amount = 500.0
[[actions]]
name = "bigger_baskets"
cost = 0.5
[actions.eligibility]
p_alive = [0.3, 1.0]
[actions.effects]
spend = [0.05, 0.15]
"""


def test_a_log_without_amounts_is_valued_at_the_specs_value_per_purchase(tmp_path):
    from bayesclv.datasets import load_cdnow
    from bayesclv.models import Fit

    load_cdnow("sample").drop(columns=["amount"]).to_csv(tmp_path / "visits.csv", index=False)
    spec = tmp_path / "visits.toml"
    spec.write_text(VISITS_SPEC)
    summary = tmp_path / "summary.csv"
    result = runner.invoke(app, ["summarise", str(spec), "--out", str(summary)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(summary)
    assert len(frame) == 2357 and int(frame["x"].sum()) == 2457
    assert frame["mean_spend"].isna().all() and (frame["n_spend"] == 0).all()
    fit_path = tmp_path / "fit.nc"
    result = runner.invoke(app, ["fit", str(spec), "--out", str(fit_path)])
    assert result.exit_code == 0, result.output
    assert "fitting pareto_nbd (map" in result.output and "gamma" not in result.output
    assert "γ" not in result.output
    assert Fit.load(fit_path).spend is None
    # money without a value per purchase: refused before any fitting, naming the field
    for command in ("report", "decide"):
        result = runner.invoke(app, [command, str(spec), "--out", str(tmp_path / "none")])
        assert result.exit_code == 2 and "fitting" not in result.output, result.output
        assert " ".join(result.output.split()) == (
            "error: there is no spend model (model.spend = false), so a purchase has no value "
            "in money: set value.per_purchase in the spec's [value] (the revenue of one "
            "purchase, before the margin), or fit the spend model (model.spend = true) on a "
            "log with amounts")
    assert not (tmp_path / "none").exists()
    # with one, the finance pack and the decisions are in money at 25 USD a purchase
    spec.write_text(VISITS_SPEC.replace(
        "[budget]", '[value]\nper_purchase = 25.0\nmargin = 0.3\ncurrency = "USD"\n[budget]'))
    pack = tmp_path / "pack"
    result = runner.invoke(app, ["report", str(spec), "--fit", str(fit_path), "--format", "csv",
                                 "--format", "html", "--out", str(pack)])
    assert result.exit_code == 0, result.output
    equity = pd.read_csv(pack / "visits_customer_equity.csv").set_index("segment")
    portfolio = equity.loc["portfolio"]
    assert portfolio["clv_mean"] == pytest.approx(0.3 * 25.0
                                                  * portfolio["discounted_purchases_mean"],
                                                  rel=1e-12)
    customers = pd.read_csv(pack / "visits_customer_clv.csv")
    assert len(customers) == 2357 and (customers["expected_spend_mean"] == 25.0).all()
    parameters = pd.read_csv(pack / "visits_parameters.csv")
    assert list(parameters["parameter"]) == ["r", "alpha", "s", "beta"]
    periods = pd.read_csv(pack / "visits_value_by_period.csv")
    first = periods[(periods["segment"] == "portfolio") & (periods["period"] == 1)]
    first = first.set_index("variable")["mean"]
    assert first["revenue"] == pytest.approx(25.0 * first["expected_purchases"], rel=1e-12)
    page = (pack / "visits.html").read_text(encoding="utf-8")
    assert "value per purchase" in page and "25 USD for every purchase of every customer" in page
    decisions = pd.read_csv(pack / "visits_decisions_by_segment.csv")
    assert set(decisions["action"]) == {"bigger_baskets"}
    result = runner.invoke(app, ["decide", str(spec), "--fit", str(fit_path),
                                 "--out", str(tmp_path / "decide")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "decide" / "visits_allocation.csv").exists()
    # spend = true (the default) on a log without amounts is refused before any work
    spec.write_text(VISITS_SPEC.replace("spend = false\n", ""))
    result = runner.invoke(app, ["fit", str(spec)])
    assert result.exit_code == 2 and "fitting" not in result.output
    assert ("model.spend = true (the default) fits the spend model to the amounts, but "
            "data.amount = false") in " ".join(result.output.split())
