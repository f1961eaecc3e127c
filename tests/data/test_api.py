"""summarise() on the bundled CDNOW logs: published summary, engine agreement, windows."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from bayesclv.data import ColumnMap, cohort_segments, summarise
from bayesclv.datasets import cdnow_path, load_cdnow
from bayesclv.errors import DataError

from .conftest import CAL_END, HOLDOUT_END, assert_matches_published_39wk, with_cohort

PUBLISHED = "bayesclv/datasets/cdnow_sample_summary_39wk.csv"


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_sample_reproduces_published_39wk_summary(engine):
    summary = summarise(cdnow_path("sample"), calibration_end=CAL_END, engine=engine)
    assert_matches_published_39wk(summary)


def test_engines_identical_on_master_with_holdout_and_segment(master_log, tmp_path):
    log = with_cohort(master_log)
    path = tmp_path / "master.parquet"
    log.to_parquet(path)
    columns = ColumnMap(segment="cohort")
    kwargs = dict(calibration_end=CAL_END, holdout_end=HOLDOUT_END, columns=columns)
    by_duckdb = summarise(path, engine="duckdb", **kwargs)
    by_pandas = summarise(log, engine="pandas", **kwargs)
    # sums of the same amounts in a different order may differ in the last bit
    pd.testing.assert_frame_equal(by_duckdb.frame, by_pandas.frame, rtol=1e-12)
    assert by_duckdb.exclusions == by_pandas.exclusions
    assert by_duckdb.segments == ("1997-01", "1997-02", "1997-03")
    assert by_duckdb.holdout_length == by_pandas.holdout_length == 39.0


def test_engines_identical_on_master_csv_without_holdout():
    path = cdnow_path("master")
    by_duckdb = summarise(path, calibration_end=CAL_END, engine="duckdb")
    by_pandas = summarise(path, calibration_end=CAL_END, engine="pandas")
    pd.testing.assert_frame_equal(by_duckdb.frame, by_pandas.frame, rtol=1e-12)
    assert by_duckdb.exclusions == by_pandas.exclusions


def test_master_counts(master_summary):
    frame = master_summary.frame
    assert master_summary.n_customers == 23570
    assert int(frame["x"].sum()) == 24337
    assert int((frame["x"] > 0).sum()) == 9451
    # one repeat occasion in calibration has a zero amount: in x, not in n_spend
    assert int((frame["x"] - frame["n_spend"]).sum()) == 1
    assert int(frame["x_holdout"].sum()) == 19684
    assert master_summary.exclusions == {
        "transactions_after_end": 0,
        "customers_first_purchase_after_calibration": 0,
        "transactions_of_those_customers": 0,
    }


def test_master_amounts_conserved(master_summary, master_log):
    frame = master_summary.frame
    total = (
        frame["first_amount"].sum()
        + (frame["n_spend"] * frame["mean_spend"].fillna(0.0)).sum()
        + frame["spend_holdout"].sum()
    )
    assert total == pytest.approx(master_log["amount"].sum(), abs=1e-6)
    assert total == pytest.approx(2500315.63, abs=0.01)


def test_master_dtypes_and_index(master_summary):
    frame = master_summary.frame
    assert frame.index.name == "customer_id"
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert frame.index[0] == "00001"
    assert isinstance(frame["segment"].dtype, pd.CategoricalDtype)
    expected = {
        "x": "int64", "t_x": "float64", "T": "float64", "n_spend": "int64",
        "mean_spend": "float64", "first_amount": "float64", "first_purchase": "datetime64[ns]",
        "x_holdout": "int64", "spend_holdout": "float64",
    }
    assert {c: str(frame[c].dtype) for c in expected} == expected
    assert master_summary.segments == ("all",)


def test_customer_00003_by_hand(master_summary):
    # 00003 bought on 1997-01-02, 1997-03-30 and twice on 1997-04-02 (one occasion)
    row = master_summary.frame.loc["00003"]
    assert row["x"] == 2
    assert row["t_x"] == pytest.approx(90 / 7)
    assert row["T"] == pytest.approx(271 / 7)
    assert row["first_amount"] == pytest.approx(20.76)
    assert row["x_holdout"] == 3


def test_days_unit_is_seven_times_weeks():
    weeks = summarise(cdnow_path("sample"), calibration_end=CAL_END)
    days = summarise(cdnow_path("sample"), calibration_end=CAL_END, time_unit="days")
    np.testing.assert_allclose(days.frame["T"], 7 * weeks.frame["T"])
    np.testing.assert_allclose(days.frame["t_x"], 7 * weeks.frame["t_x"])
    assert days.frame["T"].max() == 272.0
    assert (days.frame["T"] % 1 == 0).all()


def test_calibration_end_is_inclusive():
    log = pd.DataFrame(
        {"customer_id": ["a", "a", "a"], "date": ["2020-01-01", "2020-01-08", "2020-01-15"],
         "amount": [1.0, 2.0, 4.0]}
    )
    summary = summarise(log, calibration_end="2020-01-08", holdout_end="2020-01-15")
    row = summary.frame.loc["a"]
    assert (row["x"], row["t_x"], row["T"], row["x_holdout"]) == (1, 1.0, 1.0, 1)
    assert row["spend_holdout"] == 4.0


def test_late_customers_and_late_transactions_are_counted():
    log = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b", "c"],
            "date": ["2020-01-01", "2020-01-20", "2020-03-01", "2020-01-20", "2020-03-01",
                     "2020-03-02"],
            "amount": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    summary = summarise(log, calibration_end="2020-01-10", holdout_end="2020-02-01")
    assert list(summary.frame.index) == ["a"]
    assert summary.exclusions == {
        "transactions_after_end": 3,  # a, b and c after 2020-02-01
        "customers_first_purchase_after_calibration": 2,  # b and c
        "transactions_of_those_customers": 1,  # b on 2020-01-20
    }
    assert "customers_first_purchase_after_calibration: 2" in repr(summary)


def test_same_day_purchases_are_one_occasion_with_summed_amount():
    log = pd.DataFrame(
        {"customer_id": ["a"] * 4,
         "date": ["2020-01-01", "2020-01-01 10:00", "2020-01-05", "2020-01-05"],
         "amount": [1.0, 2.0, 0.0, 5.0]}
    )
    row = summarise(log, calibration_end="2020-01-31", observation_end="2020-01-31").frame.loc["a"]
    assert (row["x"], row["n_spend"], row["first_amount"], row["mean_spend"]) == (1, 1, 3.0, 5.0)


def test_zero_amount_occasion_counts_in_x_not_in_spend():
    log = pd.DataFrame(
        {"customer_id": ["a", "a", "a"], "date": ["2020-01-01", "2020-01-02", "2020-01-03"],
         "amount": [10.0, 0.0, 4.0]}
    )
    row = summarise(log, calibration_end="2020-01-31", observation_end="2020-01-31").frame.loc["a"]
    assert (row["x"], row["n_spend"], row["mean_spend"]) == (2, 1, 4.0)


def test_duckdb_relation_source(master_log):
    con = duckdb.connect()
    relation = con.from_df(load_cdnow("sample"))
    via_relation = summarise(relation, calibration_end=CAL_END)
    via_file = summarise(cdnow_path("sample"), calibration_end=CAL_END)
    pd.testing.assert_frame_equal(via_relation.frame, via_file.frame, rtol=1e-12)


def test_segments_series_and_explicit_order():
    log = load_cdnow("sample")
    cohorts = cohort_segments(log, freq="M")
    summary = summarise(
        cdnow_path("sample"), calibration_end=CAL_END, segments=cohorts,
        segment_order=["1997-03", "1997-02", "1997-01"],
    )
    assert summary.segments == ("1997-03", "1997-02", "1997-01")
    counts = summary.frame["segment"].value_counts()
    assert counts.sum() == 2357
    assert counts.to_dict() == cohorts.value_counts().to_dict()


def test_segments_given_twice_is_an_error(master_log):
    log = master_log.assign(seg="a")
    with pytest.raises(DataError, match="given twice"):
        summarise(log, calibration_end=CAL_END, columns=ColumnMap(segment="seg"),
                  segments=pd.Series({"00001": "a"}))


def test_segments_missing_a_customer_is_an_error():
    log = load_cdnow("sample")
    partial = cohort_segments(log).iloc[1:]
    with pytest.raises(DataError, match="no label for customer '0001'"):
        summarise(log, calibration_end=CAL_END, segments=partial)


def test_duckdb_config_is_applied():
    summary = summarise(
        cdnow_path("sample"), calibration_end=CAL_END,
        duckdb_config={"threads": 1, "memory_limit": "256MB"},
    )
    assert summary.n_customers == 2357
