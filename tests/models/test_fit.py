"""Fitting: published values, seeds, save/load, and loud convergence warnings."""

import warnings
from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

from bayesclv.datasets import load_cdnow_summary_39wk
from bayesclv.errors import ConvergenceWarning, DataError
from bayesclv.models import Fit, fit

# Fader, Hardie & Lee (2005) and Fader & Hardie's notes: CDNOW sample, 39 weeks, MLE;
# MBG/NBD: BTYDplus's MLE of the same data (tests/maths/test_mbgnbd.py reproduces it).
PUBLISHED = {
    "bg_nbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "mbg_nbd": {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614},
    "pareto_nbd": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
    "spend": {"p": 6.25, "q": 3.74, "gamma": 15.44},
}
# Measured on 4 × 1000 draws: BG/NBD a has mean 0.84, median 0.81, sd 0.21 (MLE 0.793);
# Pareto/NBD beta has mean 15.9, median 12.6, sd 12.5 (MLE 11.67).
SKEWED = {"bg_nbd": ("a", "b"), "pareto_nbd": ("s", "beta")}


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_summary_39wk()


def posterior_means(result: Fit) -> dict[str, float]:
    means = result.parameters().mean(("chain", "draw"))
    out = {name: float(means[name].item()) for name in means.data_vars}
    if result.spend is not None:
        spend = result.spend_parameters().mean(("chain", "draw"))
        out.update({name: float(spend[name].item()) for name in spend.data_vars})
    return out


@pytest.mark.parametrize("family", ["bg_nbd", "mbg_nbd", "pareto_nbd"])
def test_map_reproduces_published_mle(cdnow, spec_factory, family):
    result = fit(cdnow, spec_factory(family, method="map"), progress=False)
    mode = posterior_means(result)
    for name, value in PUBLISHED[family].items():
        # Weak priors on the log scale shift the mode a little from the MLE.
        assert mode[name] == pytest.approx(value, rel=0.05), name
    for name, value in PUBLISHED["spend"].items():
        assert mode[name] == pytest.approx(value, rel=0.10), name


@pytest.fixture(scope="module")
def short_nuts(cdnow, spec_factory):
    spec = replace(spec_factory("bg_nbd", tune=200, draws=200), spend_sampler={"draws": 300})
    return spec, fit(cdnow, spec, progress=False)


def test_nuts_fit_has_labelled_posterior(short_nuts):
    spec, result = short_nuts
    params = result.parameters()
    assert dict(params.sizes) == {"chain": 2, "draw": 200, "segment": 1}
    # [spend_sampler] draws = 300: the spend model's own draws
    assert dict(result.spend_parameters().sizes) == {"chain": 2, "draw": 300, "segment": 1}
    assert list(params["segment"].values) == ["all"]
    assert set(result.frequency.children) >= {"posterior", "sample_stats", "constant_data"}
    assert int(result.frequency["constant_data"]["count"].sum()) == 2357
    table = result.summary()
    assert {"hdi_90%_low", "hdi_90%_high", "r_hat", "ess_bulk"} <= set(table.columns)
    row = table.set_index("parameter").loc["r"]
    assert row["hdi_90%_low"] < PUBLISHED["bg_nbd"]["r"] < row["hdi_90%_high"]


def test_same_seed_same_draws(cdnow, short_nuts):
    spec, first = short_nuts
    second = fit(cdnow, spec, progress=False)
    xr.testing.assert_equal(first.parameters(), second.parameters())


def test_save_load_round_trip(short_nuts, tmp_path):
    _, result = short_nuts
    path = result.save(tmp_path / "fit.nc")
    loaded = Fit.load(path)
    xr.testing.assert_equal(loaded.parameters(), result.parameters())
    xr.testing.assert_equal(loaded.spend_parameters(), result.spend_parameters())
    assert loaded.spec == result.spec.__class__.from_dict(result.spec.to_dict())
    assert loaded.fingerprint == result.fingerprint
    assert loaded.segments == result.segments
    np.testing.assert_array_equal(
        loaded.frequency["constant_data"]["T"].values, result.frequency["constant_data"]["T"].values
    )


def test_save_refuses_to_replace_unless_told(short_nuts, tmp_path):
    from bayesclv.errors import OutputError

    _, result = short_nuts
    path = result.save(tmp_path / "fit.nc")
    before = path.read_bytes()
    with pytest.raises(OutputError, match="fit.nc exists"):
        result.save(path)
    assert path.read_bytes() == before
    result.save(path, overwrite=True)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries


def test_an_edited_fit_file_is_refused(short_nuts, tmp_path):
    _, result = short_nuts
    path = result.save(tmp_path / "fit.nc")
    tree = xr.open_datatree(path).load()
    tree["frequency/posterior/r"] = tree["frequency/posterior/r"] * 1.0001
    edited = tmp_path / "edited.nc"
    tree.to_netcdf(edited)
    with pytest.raises(DataError, match="edited.nc is corrupted"):
        Fit.load(edited)


@pytest.mark.parametrize("content", [b"", b"garbage" * 100])
def test_unreadable_fit_files_are_named(tmp_path, content):
    path = tmp_path / "bad.nc"
    path.write_bytes(content)
    with pytest.raises(DataError, match="bad.nc cannot be read"):
        Fit.load(path)
    with pytest.raises(DataError, match="does not exist"):
        Fit.load(tmp_path / "missing.nc")
    with pytest.raises(DataError, match="is a folder"):
        Fit.load(tmp_path)


def test_loading_a_foreign_netcdf_names_the_file(tmp_path):
    path = tmp_path / "other.nc"
    xr.DataTree(xr.Dataset({"v": ("i", [1.0, 2.0])})).to_netcdf(path)
    with pytest.raises(DataError, match="other.nc is not a bayesclv fit"):
        Fit.load(path)


def test_unconverged_fit_warns_loudly(cdnow, spec_factory):
    spec = spec_factory("bg_nbd", spend=False, tune=5, draws=20)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit(cdnow, spec, progress=False)
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert messages, "a 5-step warm-up must not pass convergence checks silently"
    assert "effective sample size" in messages[0]


@pytest.mark.slow
@pytest.mark.parametrize("family", ["bg_nbd", "pareto_nbd"])
def test_posterior_matches_published(cdnow, spec_factory, family):
    result = fit(cdnow, spec_factory(family, chains=4, tune=1000, draws=1000), progress=False)
    means = posterior_means(result)
    params = result.parameters()
    for name, value in PUBLISHED[family].items():
        draws = params[name].values
        if name in SKEWED[family]:
            # Right-skewed posteriors: the mean sits above the mode (the MLE) by a good part
            # of a standard deviation, so the published value must lie inside the central
            # 90 % interval, and for BG/NBD's a, b the median must be within 5 %.
            low, high = np.quantile(draws, [0.05, 0.95])
            assert low < value < high, name
            if family == "bg_nbd":
                assert np.median(draws) == pytest.approx(value, rel=0.05), name
        else:
            assert means[name] == pytest.approx(value, rel=0.05), name
    for name, value in PUBLISHED["spend"].items():
        assert means[name] == pytest.approx(value, rel=0.10), name
    for part, convergence in result.convergence().items():
        assert convergence.ok, (part, convergence.problems)


def test_summary_is_one_row_per_parameter_and_segment_in_the_fits_order(spec_factory):
    from hand_fits import make_fit

    result = make_fit(spec_factory("bg_nbd"), segments=("b", "a"), chains=3, draws=400)
    table = result.summary(hdi_prob=0.8)
    assert list(table.columns) == ["model", "parameter", "segment", "mean", "sd",
                                   "hdi_80%_low", "hdi_80%_high", "r_hat", "ess_bulk"]
    assert list(table["segment"]) == ["b", "a"] * 7
    assert list(table["model"]) == ["frequency"] * 8 + ["spend"] * 6
    row = table.set_index(["parameter", "segment"]).loc[("alpha", "a")]
    draws = result.parameters()["alpha"].sel(segment="a").values
    assert row["mean"] == pytest.approx(draws.mean(), rel=1e-12)
    assert row["sd"] == pytest.approx(draws.std(), rel=1e-12)  # the population sd (ddof 0)
    inside = (draws >= row["hdi_80%_low"]) & (draws <= row["hdi_80%_high"])
    assert inside.mean() == pytest.approx(0.8, abs=0.01)
    assert row["r_hat"] == pytest.approx(1.0, abs=0.02) and row["ess_bulk"] > 600
    single = make_fit(spec_factory("bg_nbd"), chains=1, draws=1).summary()
    assert "r_hat" not in single.columns and (single["sd"] == 0).all()
    assert (single["hdi_90%_low"] == single["mean"]).all()
