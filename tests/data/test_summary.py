"""CustomerSummary and CompressedRows: compression, describe, subset, xarray, repr."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayesclv.data import ColumnMap, CompressedRows, summarise
from bayesclv.datasets import load_cdnow
from bayesclv.errors import DataError

from .conftest import CAL_END


@pytest.fixture(scope="module")
def by_cohort():
    log = load_cdnow("master")
    month = log.groupby("customer_id")["date"].transform("min").dt.strftime("%Y-%m")
    return summarise(log.assign(cohort=month), calibration_end=CAL_END,
                     columns=ColumnMap(segment="cohort"))


def test_compress_master_has_8685_distinct_histories(master_summary, master_log):
    compressed = master_summary.compress()
    assert isinstance(compressed, CompressedRows)
    assert len(compressed.rows) == 8685
    assert compressed.n_customers == 23570
    assert list(compressed.rows.columns) == ["segment", "x", "t_x", "T", "count"]
    assert compressed.rows["count"].dtype == np.int64
    # one-time buyers (one purchase day in calibration) share a row per first-purchase day
    calibration = master_log[master_log["date"] <= CAL_END]
    days = calibration.groupby("customer_id")["date"].agg(["nunique", "min"])
    one_timers_per_day = days.loc[days["nunique"] == 1, "min"].value_counts()
    assert compressed.rows["count"].max() == one_timers_per_day.max()
    single = compressed.rows[compressed.rows["x"] == 0]
    assert len(single) == len(one_timers_per_day)
    assert single["count"].sum() == one_timers_per_day.sum()


def test_compress_round_trip_with_segments(by_cohort):
    compressed = by_cohort.compress()
    assert compressed.segments == ("1997-01", "1997-02", "1997-03")
    expanded = compressed.rows.iloc[compressed.customer_row]
    np.testing.assert_array_equal(expanded["segment"].to_numpy(), by_cohort.segment_codes)
    for column in ("x", "t_x", "T"):
        np.testing.assert_array_equal(
            expanded[column].to_numpy(), by_cohort.frame[column].to_numpy()
        )
    # segments never share a row
    assert not compressed.rows.duplicated(["segment", "x", "t_x", "T"]).any()


def test_describe_per_segment_and_total(by_cohort):
    table = by_cohort.describe()
    assert list(table.index) == ["1997-01", "1997-02", "1997-03", "total"]
    assert table.loc["total", "customers"] == 23570
    assert table.loc["total", "repeat_buyers"] == 9451
    assert table.loc["total", "share_repeat"] == pytest.approx(9451 / 23570)
    assert table.loc["total", "mean_x"] == pytest.approx(24337 / 23570)
    assert table.loc["total", "total_spend"] == pytest.approx(1723354.50, abs=0.01)
    assert table["customers"].iloc[:3].sum() == 23570
    assert table.attrs["exclusions"]["transactions_after_end"] == 20573


def test_repr_shows_counts_and_exclusions(by_cohort):
    text = repr(by_cohort)
    assert "23570 customers, 3 segment(s)" in text
    assert "transactions_after_end: 20573" in text


def test_subset_by_segments_renumbers_codes(by_cohort):
    part = by_cohort.subset(["1997-03", "1997-01"])
    assert part.segments == ("1997-01", "1997-03")
    assert set(np.unique(part.segment_codes)) == {0, 1}
    n_feb = int((by_cohort.frame["segment"] == "1997-02").sum())
    assert part.n_customers == 23570 - n_feb
    assert part.exclusions["customers_removed_by_subset"] == n_feb


def test_subset_by_mask_keeps_segment_order(by_cohort):
    part = by_cohort.subset(by_cohort.frame["x"] > 0)
    assert part.n_customers == 9451
    assert part.segments == by_cohort.segments


@pytest.mark.parametrize(
    ("selector", "expected"),
    [("1997-13", "unknown segment\\(s\\) '1997-13'"), (np.zeros(3, dtype=bool), "mask has 3")],
)
def test_subset_errors(by_cohort, selector, expected):
    with pytest.raises(DataError, match=expected):
        by_cohort.subset(selector)


def test_subset_empty_is_an_error(master_summary):
    with pytest.raises(DataError, match="subset is empty"):
        master_summary.subset(master_summary.frame["x"] > 10_000)


def test_to_xarray(master_summary):
    data = master_summary.to_xarray()
    assert data.sizes == {"customer": 23570}
    assert data["segment"].dims == ("customer",)
    assert int(data["x"].sel(customer="00003")) == 2
    assert data.attrs["time_unit"] == "weeks"
    assert data.attrs["calibration_end"] == "1997-09-30"
    assert data.attrs["holdout_length"] == 39.0
    assert int(data["x_holdout"].sum()) == 19684


def test_summary_is_frozen(master_summary):
    with pytest.raises(AttributeError):
        master_summary.time_unit = "days"


def test_segment_codes_follow_categories():
    log = pd.DataFrame(
        {"customer_id": ["p", "q", "r"], "date": ["2020-01-01"] * 3, "amount": [1.0] * 3,
         "tier": ["b", "a", "b"]}
    )
    summary = summarise(log, calibration_end="2020-01-01",
                        columns=ColumnMap(segment="tier"))
    assert summary.segments == ("a", "b")
    np.testing.assert_array_equal(summary.segment_codes, [1, 0, 1])
