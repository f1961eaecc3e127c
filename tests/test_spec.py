"""Model specs: the shipped TOML files parse, and every bad field is named."""

from pathlib import Path

import pandas as pd
import pytest

from bayesclv.errors import SpecError
from bayesclv.spec import ModelSpec, ValueSpec, load_spec, require_purchase_value, resolve_source

MODELS = Path(__file__).resolve().parents[1] / "models"


def minimal(**sections):
    raw = {"model": {"name": "t"}, "data": {"source": "x.csv", "calibration_end": "1997-09-30"}}
    for key, value in sections.items():
        raw.setdefault(key, {}).update(value)
    return raw


@pytest.mark.parametrize("path", sorted(MODELS.glob("*.toml")), ids=lambda p: p.name)
def test_shipped_specs_parse_and_round_trip(path):
    spec = load_spec(path)
    assert spec.data.calibration_end == pd.Timestamp("1997-09-30")
    assert ModelSpec.from_dict(spec.to_dict(), path=spec.path) == spec


def test_defaults_and_types():
    spec = ModelSpec.from_dict(minimal())
    assert spec.family == "pareto_nbd"
    assert spec.sampler.chains == 4 and spec.sampler.method == "nuts"
    assert spec.value.hdi_prob == 0.9
    assert spec.data.time_unit == "weeks"


def test_relative_source_resolves_against_spec_file(tmp_path):
    spec = ModelSpec.from_dict(minimal(), path=tmp_path / "m.toml")
    assert resolve_source(spec) == tmp_path / "x.csv"
    bundled = ModelSpec.from_dict(minimal(data={"source": "bayesclv:cdnow_sample"}))
    assert resolve_source(bundled) == "bayesclv:cdnow_sample"


@pytest.mark.parametrize(
    ("sections", "fragment"),
    [
        ({"sampler": {"chians": 4}}, "sampler.chians'; did you mean 'sampler.chains'"),
        ({"sampler": {"chains": 0}}, "sampler.chains"),
        ({"sampler": {"chains": 2.5}}, "sampler.chains"),
        ({"sampler": {"backend": "nutpy"}}, "did you mean 'nutpie'"),
        ({"sampler": {"target_accept": 1.2}}, "sampler.target_accept"),
        ({"model": {"family": "bgnbd"}}, "did you mean 'bg_nbd'"),
        ({"data": {"calibration_end": "30/13/1997"}}, "data.calibration_end"),
        ({"data": {"holdout_end": "1997-01-01"}}, "data.holdout_end (1997-01-01) must be after"),
        ({"data": {"segmentation": "column"}}, "data.segment_column is required"),
        ({"data": {"time_unit": "fortnights"}}, "data.time_unit"),
        ({"value": {"margin": 30}}, "value.margin"),
        ({"value": {"margin": True}}, "field 'value.margin' must be a number"),
        ({"model": {"spend": "yes"}}, "field 'model.spend' must be a bool"),
        ({"value": {"annual_discount_rate": 10}}, "value.annual_discount_rate"),
        ({"priors": {"log_r": {"mu": 0.0, "sigma": -1.0}}}, "priors.log_r.sigma"),
        ({"priors": {"log_r": 3}}, "priors.log_r must be a table"),
        ({"valeu": {}}, "did you mean 'value'"),
        ({"spend_sampler": {"drawz": 3}}, "spend_sampler.drawz'; did you mean"),
        ({"spend_sampler": {"seed": 3}}, "unknown field 'spend_sampler.seed'"),
        ({"spend_sampler": {"draws": 0}}, "field 'spend_sampler.draws' must be"),
        ({"spend_sampler": {"target_accept": 1.5}}, "spend_sampler.target_accept"),
        ({"covariates": {}}, "[covariates] names no column"),
        ({"covariates": {"purchase": "channel"}}, "'covariates.purchase' must be a list"),
        ({"covariates": {"purchase": ["a", "a"]}}, "covariates.purchase names 'a' twice"),
        ({"covariates": {"purchase": ["a"], "coef_sigma": 0}}, "covariates.coef_sigma"),
        ({"covariates": {"purchase": ["a"], "categorical": ["b"]}},
         "covariates.categorical names 'b', which no process uses"),
        ({"covariates": {"purchse": ["a"]}}, "did you mean 'covariates.purchase'"),
        ({"covariates": {"spend": ["a"]}, "model": {"spend": False}},
         "covariates.spend names covariates of the spend model, but model.spend = false"),
    ],
)
def test_bad_fields_are_named(sections, fragment):
    with pytest.raises(SpecError, match=None) as caught:
        ModelSpec.from_dict(minimal(**sections))
    assert fragment in str(caught.value)


def test_missing_required_field_and_bad_file(tmp_path):
    with pytest.raises(SpecError, match="data.calibration_end' is required"):
        ModelSpec.from_dict({"model": {"name": "t"}, "data": {"source": "x.csv"}})
    with pytest.raises(SpecError, match="does not exist"):
        load_spec(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[model\nname = 1")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(broken)


def test_with_sampler_validates():
    spec = ModelSpec.from_dict(minimal())
    assert spec.with_sampler(draws=50).sampler.draws == 50
    with pytest.raises(SpecError, match="sampler.draws"):
        spec.with_sampler(draws=-1)


def test_with_sampler_keeps_what_it_is_not_told_to_change():
    raw = minimal()
    raw["sampler"] = {"method": "map", "chains": 2, "tune": 200, "draws": 200, "seed": 5}
    spec = ModelSpec.from_dict(raw)
    unchanged = spec.with_sampler(method=None, draws=None, tune=None, chains=None)
    assert unchanged.sampler == spec.sampler
    changed = spec.with_sampler(draws=300, method=None)
    assert (changed.sampler.method, changed.sampler.draws, changed.sampler.tune,
            changed.sampler.chains) == ("map", 300, 200, 2)


def test_spend_sampler_overrides_only_what_it_names():
    raw = minimal()
    raw["sampler"] = {"chains": 2, "tune": 200, "draws": 300, "target_accept": 0.9, "seed": 5}
    raw["spend_sampler"] = {"draws": 900, "target_accept": 0.95}
    spec = ModelSpec.from_dict(raw)
    spend = spec.spend_sampler_spec
    assert (spend.chains, spend.tune, spend.draws, spend.target_accept, spend.seed) == (
        2, 200, 900, 0.95, 5)
    assert spec.sampler.draws == 300
    assert ModelSpec.from_dict(spec.to_dict()) == spec
    # a setting given explicitly (e.g. on the command line) applies to every part
    quick = spec.with_sampler(draws=50)
    assert (quick.sampler.draws, quick.spend_sampler_spec.draws) == (50, 50)
    assert quick.spend_sampler_spec.target_accept == 0.95
    assert ModelSpec.from_dict(minimal()).spend_sampler_spec == ModelSpec.from_dict(
        minimal()).sampler


@pytest.mark.parametrize(
    ("sections", "fragment"),
    [
        ({"priors": {"log_r": {"mu": float("nan"), "sigma": 1.0}}}, "priors.log_r.mu"),
        ({"priors": {"tau_sigma": float("inf")}}, "priors.tau_sigma"),
        ({"value": {"horizon_months": float("inf")}}, "value.horizon_months"),
        ({"value": {"horizon_months": 1e7}}, "value.horizon_months"),
        ({"model": {"name": "../../x"}}, "model.name"),
        ({"model": {"name": ""}}, "model.name"),
        ({"data": {"calibration_end": "today"}}, "data.calibration_end"),
        ({"data": {"calibration_end": "03/04/2020"}}, "data.calibration_end"),
        ({"data": {"calibration_end": 20201231}}, "data.calibration_end"),
        ({"data": {"calibration_end": "9999-12-31"}}, "between 1677 and 2262"),
    ],
)
def test_values_that_would_fail_late_are_refused_early(sections, fragment):
    with pytest.raises(SpecError) as caught:
        ModelSpec.from_dict(minimal(**sections))
    assert fragment in str(caught.value)


def test_a_time_zone_in_a_date_is_refused():
    import datetime

    aware = datetime.datetime(1997, 9, 30, tzinfo=datetime.UTC)
    with pytest.raises(SpecError, match="time zone"):
        ModelSpec.from_dict(minimal(data={"calibration_end": aware}))


def test_specs_built_in_python_obey_the_toml_rules():
    from bayesclv.spec import DataSpec, NormalPrior, SamplerSpec, ValueSpec

    with pytest.raises(SpecError, match="value.margin"):
        ValueSpec(margin=5)
    with pytest.raises(SpecError, match="sampler.chains"):
        SamplerSpec(chains=0)
    with pytest.raises(SpecError, match="mu"):
        NormalPrior(mu=float("nan"), sigma=1.0)
    with pytest.raises(SpecError, match="data.holdout_end"):
        DataSpec(source="x.csv", calibration_end="1997-09-30", holdout_end="1997-01-01")
    data = DataSpec(source="x.csv", calibration_end="1997-09-30")
    assert data.calibration_end == pd.Timestamp("1997-09-30")
    with pytest.raises(SpecError, match="model.name"):
        ModelSpec(name="a/b", data=data)


def test_the_time_zone_of_the_log_is_a_named_iana_zone():
    from bayesclv.spec import DataSpec

    assert ModelSpec.from_dict(minimal()).data.timezone == "UTC"
    spec = ModelSpec.from_dict(minimal(data={"timezone": "America/New_York"}))
    assert spec.data.timezone == "America/New_York"
    assert ModelSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(SpecError) as caught:
        ModelSpec.from_dict(minimal(data={"timezone": "America/NewYork"}))
    assert str(caught.value) == ("field 'data.timezone' = 'America/NewYork' is not an IANA "
                                 "time-zone name; did you mean 'America/New_York'?")
    with pytest.raises(SpecError, match="field 'data.timezone' must be a str, got 5"):
        ModelSpec.from_dict(minimal(data={"timezone": 5}))
    with pytest.raises(SpecError, match="field 'data.timezone' = 'localtime' is not an IANA"):
        DataSpec(source="x.csv", calibration_end="1997-09-30", timezone="localtime")


def test_a_log_without_amounts_is_data_amount_false_with_spend_false():
    spec = ModelSpec.from_dict(minimal(model={"spend": False}, data={"amount": False}))
    assert spec.data.amount is None
    assert spec.to_dict()["data"]["amount"] is False
    assert ModelSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(SpecError) as caught:
        ModelSpec.from_dict(minimal(data={"amount": False}))
    assert str(caught.value) == (
        "model.spend = true (the default) fits the spend model to the amounts, but "
        "data.amount = false (the log has no amounts); set model.spend = false to fit "
        "purchases only")
    with pytest.raises(SpecError) as caught:
        ModelSpec.from_dict(minimal(model={"spend": False},
                                    data={"amount": False, "segmentation": "value_tier"}))
    assert str(caught.value).startswith(
        "data.segmentation = 'value_tier' makes tiers of the first purchase's amount, but "
        "data.amount = false")
    with pytest.raises(SpecError, match="field 'data.amount' must be a column name, or false "
                                        "for a log without amounts, got True"):
        ModelSpec.from_dict(minimal(data={"amount": True}))


def test_a_value_per_purchase_values_purchases_when_there_is_no_spend_model():
    spec = ModelSpec.from_dict(minimal(model={"spend": False}, data={"amount": False},
                                       value={"per_purchase": 25}))
    assert spec.value.per_purchase == 25.0
    assert spec.to_dict()["value"]["per_purchase"] == 25.0
    assert ModelSpec.from_dict(spec.to_dict()) == spec
    assert ModelSpec.from_dict(minimal()).value.per_purchase is None
    assert "per_purchase" not in ModelSpec.from_dict(minimal()).to_dict()["value"]
    require_purchase_value(spec.spend, spec.value)  # one value per purchase: fine
    require_purchase_value(True, ValueSpec())
    # neither: refused for money outputs, naming the field to set
    with pytest.raises(SpecError) as caught:
        require_purchase_value(False, ValueSpec())
    assert str(caught.value) == (
        "there is no spend model (model.spend = false), so a purchase has no value in money: "
        "set value.per_purchase in the spec's [value] (the revenue of one purchase, before "
        "the margin), or fit the spend model (model.spend = true) on a log with amounts")
    # both: the spec is refused when read, not one of them silently ignored
    both = ("value.per_purchase = 25.0 values every purchase alike, but model.spend = true "
            "values them with the spend model; set model.spend = false to use "
            "value.per_purchase, or leave value.per_purchase out")
    with pytest.raises(SpecError) as caught:
        ModelSpec.from_dict(minimal(value={"per_purchase": 25.0}))
    assert str(caught.value) == both
    with pytest.raises(SpecError) as caught:
        require_purchase_value(True, ValueSpec(per_purchase=25.0))
    assert str(caught.value) == both


@pytest.mark.parametrize("bad", [0, -3.0, float("nan"), float("inf"), True, "25"])
def test_a_value_per_purchase_is_a_positive_finite_number(bad):
    with pytest.raises(SpecError) as caught:
        ValueSpec(per_purchase=bad, currency="USD")
    assert str(caught.value) == ("value.per_purchase is the revenue of one purchase, a finite "
                                 f"number > 0 (USD), got {bad!r}")
    with pytest.raises(SpecError, match="field 'value.per_purchase' must be a number, got "
                                        "'25'"):
        ModelSpec.from_dict(minimal(model={"spend": False}, value={"per_purchase": "25"}))


def test_covariates_parse_and_round_trip():
    spec = ModelSpec.from_dict(minimal(covariates={
        "purchase": ["channel", "age"], "dropout": ["channel"], "spend": ["region"],
        "categorical": ["region"], "source": "customers.csv", "coef_sigma": 1.0}))
    covariates = spec.covariates
    assert covariates.columns == ("channel", "age", "region")
    assert covariates.source == "customers.csv" and covariates.coef_sigma == 1.0
    assert ModelSpec.from_dict(spec.to_dict()) == spec
