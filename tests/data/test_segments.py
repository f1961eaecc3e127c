"""Segment helpers: acquisition cohorts and value tiers."""

from __future__ import annotations

import pandas as pd
import pytest

from bayesclv.data import BehaviouralSegmentWarning, cohort_segments, value_tier_segments
from bayesclv.errors import DataError

from .conftest import CAL_END


def test_cdnow_cohorts_by_quarter_and_month(master_log):
    quarters = cohort_segments(master_log)
    assert quarters.index.name == "customer_id"
    assert quarters.value_counts().to_dict() == {"1997Q1": 23570}  # CDNOW is the Q1 1997 cohort
    months = cohort_segments(master_log, freq="M")
    assert list(months.cat.categories) == ["1997-01", "1997-02", "1997-03"]
    first = master_log.groupby("customer_id")["date"].min()
    assert int((months == "1997-01").sum()) == int((first.dt.month == 1).sum()) == 7846


def test_value_tiers_by_first_occasion_amount():
    log = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "c", "d", "e", "f"],
            "date": ["2020-01-01", "2020-01-01", "2020-01-02", "2020-01-03", "2020-02-01",
                     "2020-01-04", "2020-01-05", "2020-01-06"],
            "amount": [5.0, 5.0, 20.0, 1.0, 100.0, 30.0, 2.0, 40.0],
        }
    )
    tiers = value_tier_segments(log)
    # first occasions: a 10 (two purchases that day), b 20, c 1, d 30, e 2, f 40
    assert tiers.to_dict() == {
        "a": "mid", "b": "mid", "c": "low", "d": "high", "e": "low", "f": "high"
    }
    assert list(tiers.cat.categories) == ["low", "mid", "high"]


def test_value_tiers_by_calibration_spend_warn(master_log):
    with pytest.warns(BehaviouralSegmentWarning, match="select on the outcome"):
        tiers = value_tier_segments(master_log, basis="calibration", calibration_end=CAL_END)
    counts = tiers.value_counts()
    assert counts.sum() == 23570
    # thirds of 23,570 customers, up to ties at the cut points
    assert all(abs(c - 23570 / 3) < 30 for c in counts)


def test_value_tier_arguments():
    log = pd.DataFrame({"customer_id": ["a"], "date": ["2020-01-01"], "amount": [1.0]})
    with pytest.raises(DataError, match="needs calibration_end"):
        value_tier_segments(log, basis="calibration")
    with pytest.raises(DataError, match="must have 3 entries"):
        value_tier_segments(log, labels=("low", "high"))
    with pytest.raises(DataError, match="increasing and inside"):
        value_tier_segments(log, quantiles=(0.7, 0.3))
    with pytest.raises(DataError, match="basis='recency'"):
        value_tier_segments(log, basis="recency")


def test_helpers_validate_the_log():
    log = pd.DataFrame({"customer_id": ["a"], "date": ["2020-02-30"], "amount": [1.0]})
    with pytest.raises(DataError, match="column 'date', row 1 \\(customer 'a'\\)"):
        cohort_segments(log)
    with pytest.raises(DataError, match="DataFrame"):
        cohort_segments("log.csv")
