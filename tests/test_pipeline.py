"""From a spec to its summary: derived segments read a log file by the engines' rules."""

import gzip
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayesclv.data import summarise
from bayesclv.datasets import load_cdnow
from bayesclv.errors import DataError
from bayesclv.pipeline import summarise_spec
from bayesclv.spec import ModelSpec, load_spec

SPEC = Path(__file__).resolve().parents[1] / "models" / "cdnow_sample_segments.toml"


def with_source(path):
    spec = load_spec(SPEC)
    return replace(spec, data=replace(spec.data, source=str(path)))


def test_a_log_file_gives_the_segments_of_the_same_log_in_memory(tmp_path):
    # zero-padded ids ("0001") stay text when the log is read for derived segments, so the
    # file and the bundled frame give the same segments, customer by customer
    path = tmp_path / "log.csv"
    load_cdnow("sample").to_csv(path, index=False)
    from_file = summarise_spec(with_source(path)).frame
    bundled = summarise_spec(load_spec(SPEC)).frame
    pd.testing.assert_series_equal(from_file["segment"], bundled["segment"])
    assert from_file.index[0] == "0001"


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
def test_a_truncated_gzip_log_is_named_not_a_raw_traceback(tmp_path, engine):
    raw = gzip.compress(load_cdnow("sample").to_csv(index=False).encode())
    path = tmp_path / "log.csv.gz"
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match="cannot read .*log.csv.gz"):
        summarise(path, calibration_end="1997-09-30", engine=engine)
    with pytest.raises(DataError, match="cannot read .*log.csv.gz"):
        summarise_spec(with_source(path))  # derived segments read the whole log first


def test_the_spec_s_time_zone_decides_the_days_and_the_cohorts(tmp_path):
    # a's first purchase, 23:30 on 31 January in New York, is in February in UTC
    log = pd.DataFrame({
        "customer_id": ["a", "a", "b", "b"],
        "date": ["2020-01-31T23:30:00-05:00", "2020-02-10T10:00:00-05:00",
                 "2020-01-15T10:00:00-05:00", "2020-02-20T10:00:00-05:00"],
        "amount": [1.0, 2.0, 3.0, 4.0],
    })
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    spec = with_source(path)
    spec = replace(spec, data=replace(spec.data, segmentation="cohort", cohort_freq="M",
                                      calibration_end=pd.Timestamp("2020-02-20"),
                                      holdout_end=None, time_unit="days"))
    in_utc = summarise_spec(spec).frame
    in_new_york = summarise_spec(
        replace(spec, data=replace(spec.data, timezone="America/New_York"))).frame
    assert (in_utc.loc["a", "t_x"], in_new_york.loc["a", "t_x"]) == (9.0, 10.0)
    assert in_utc["segment"].tolist() == ["2020-02", "2020-01"]
    assert in_new_york["segment"].tolist() == ["2020-01", "2020-01"]


@pytest.mark.parametrize("segmentation", ["none", "cohort"])
def test_a_missing_column_names_the_spec_field_to_change(tmp_path, segmentation):
    # through DuckDB (a file), pandas (the bundled frame) and the derived-segment reader
    path = tmp_path / "log.csv"
    load_cdnow("sample").to_csv(path, index=False)
    for source, where in ((str(path), str(path)), ("bayesclv:cdnow_sample",
                                                   "the transaction log")):
        spec = with_source(source)
        spec = replace(spec, data=replace(spec.data, amount="amout", segmentation=segmentation))
        with pytest.raises(DataError) as info:
            summarise_spec(spec)
        assert str(info.value) == (
            f"column 'amout' (data.amount) not found in {where}; did you mean 'amount'? "
            "Available columns: 'customer_id', 'date', 'n_items', 'amount'. Set data.amount "
            "in the spec to the log's column, or data.amount = false if the log has no "
            "amounts.")
    spec = replace(spec, data=replace(spec.data, amount="amount", date="day"))
    with pytest.raises(DataError, match=r"column 'day' \(data.date\) not found .* Set "
                                        r"data.date in the spec to the log's column\.$"):
        summarise_spec(spec)


def test_a_spec_without_amounts_summarises_purchases_by_cohort(tmp_path):
    path = tmp_path / "visits.csv"
    load_cdnow("sample").drop(columns=["amount"]).to_csv(path, index=False)
    spec = with_source(path)
    spec = replace(spec, spend=False, data=replace(spec.data, amount=None,
                                                   segmentation="cohort"))
    summary = summarise_spec(spec)
    bundled = summarise_spec(load_spec(SPEC)).frame
    assert summary.segments == ("1997-01", "1997-02", "1997-03")  # the spec's cohort_freq "M"
    pd.testing.assert_frame_equal(summary.frame[["x", "t_x", "T", "x_holdout"]],
                                  bundled[["x", "t_x", "T", "x_holdout"]])
    assert (summary.frame["n_spend"] == 0).all() and summary.frame["mean_spend"].isna().all()


def covariate_spec(path, **covariates):
    raw = {"model": {"name": "covariates", "spend": True},
           "data": {"source": str(path), "calibration_end": "1997-09-30"},
           "covariates": covariates}
    return ModelSpec.from_dict(raw, path=path.parent / "spec.toml")


def test_covariates_come_from_the_log_or_from_a_customer_table(tmp_path):
    log = load_cdnow("sample")
    ids = log["customer_id"].astype(str)
    log["channel"] = np.where(ids.str[-1].isin(list("01234")), "web", "shop")
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    from_log = summarise_spec(covariate_spec(path, purchase=["channel"])).frame["channel"]
    assert from_log.to_dict() == dict(zip(ids, log["channel"], strict=True))

    customers = pd.DataFrame({"customer_id": ids.unique()})
    customers["age"] = 20 + customers.index % 50
    customers.to_csv(tmp_path / "customers.csv", index=False)
    summary = summarise_spec(covariate_spec(path, dropout=["age"], source="customers.csv"))
    assert summary.covariates == ("age",)
    assert summary.frame["age"].dtype == np.float64  # CSV text that reads as numbers
    assert summary.frame["age"].to_dict() == dict(zip(customers["customer_id"],
                                                      customers["age"].astype(float),
                                                      strict=True))


def test_a_missing_customer_table_or_a_varying_covariate_is_named(tmp_path):
    log = load_cdnow("sample")
    log["channel"] = np.where(np.arange(len(log)) % 2 == 0, "web", "shop")
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    with pytest.raises(DataError, match="covariates.source .*nowhere.csv does not exist"):
        summarise_spec(covariate_spec(path, purchase=["channel"], source="nowhere.csv"))
    with pytest.raises(DataError, match="covariate 'channel' varies within customer '0001'"):
        summarise_spec(covariate_spec(path, purchase=["channel"]))
