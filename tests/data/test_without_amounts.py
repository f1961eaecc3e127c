"""Logs without amounts (visits, orders without values): purchases counted, spend unknown."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from bayesclv.data import ColumnMap, cohort_segments, summarise, value_tier_segments
from bayesclv.datasets import load_cdnow
from bayesclv.errors import DataError

from .conftest import CAL_END, HOLDOUT_END

NO_AMOUNT = ColumnMap(amount=None)
FREQUENCY = ["segment", "x", "t_x", "T", "first_purchase", "x_holdout"]
# a's visits on 1, 3 (twice) and 10 January, then 20 January in the holdout; b's on 5 January
VISITS = pd.DataFrame({
    "customer_id": ["a", "a", "a", "b", "a", "a"],
    "date": ["2020-01-01", "2020-01-03", "2020-01-03", "2020-01-05", "2020-01-10", "2020-01-20"],
})
WINDOW = dict(calibration_end="2020-01-15", holdout_end="2020-01-31",
              observation_end="2020-01-31", time_unit="days")


def visits_sources(folder) -> dict[str, object]:
    csv, parquet = folder / "visits.csv", folder / "visits.parquet"
    VISITS.to_csv(csv, index=False)
    VISITS.to_parquet(parquet)
    return {"pandas": [VISITS, csv, parquet], "duckdb": [csv, parquet,
                                                        duckdb.connect().from_df(VISITS)]}


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_a_log_without_amounts_gives_purchases_and_unknown_spend(tmp_path, engine):
    for source in visits_sources(tmp_path)[engine]:
        summary = summarise(source, columns=NO_AMOUNT, engine=engine, **WINDOW)
        frame = summary.frame
        assert frame[["x", "t_x", "T", "x_holdout"]].to_dict("index") == {
            "a": {"x": 2, "t_x": 9.0, "T": 14.0, "x_holdout": 1},
            "b": {"x": 0, "t_x": 0.0, "T": 10.0, "x_holdout": 0},
        }
        assert frame["n_spend"].tolist() == [0, 0] and frame["n_spend"].dtype == np.int64
        for column in ("mean_spend", "first_amount", "spend_holdout"):
            assert frame[column].isna().all() and frame[column].dtype == np.float64
        assert summary.exclusions["transactions_after_end"] == 0


def test_every_engine_counts_the_same_purchases_as_with_amounts(tmp_path):
    log = load_cdnow("sample")
    path = tmp_path / "visits.parquet"
    log.drop(columns=["amount"]).to_parquet(path)
    kwargs = dict(calibration_end=CAL_END, holdout_end=HOLDOUT_END)
    with_amounts = summarise(log, **kwargs).frame
    by_pandas = summarise(log.drop(columns=["amount"]), columns=NO_AMOUNT, **kwargs)
    by_duckdb = summarise(path, columns=NO_AMOUNT, **kwargs)
    pd.testing.assert_frame_equal(by_pandas.frame, by_duckdb.frame, check_exact=True)
    pd.testing.assert_frame_equal(by_pandas.frame[FREQUENCY], with_amounts[FREQUENCY])
    assert int(by_pandas.frame["x"].sum()) == 2457 and by_pandas.n_customers == 2357


def test_an_amount_column_is_not_read_when_the_map_has_none():
    # a log whose amounts are bad (negative, text) is fine when amounts are not used
    log = VISITS.assign(amount=["-1", "abc", "1", "1", "2", "x"])
    with pytest.raises(DataError, match=r"row 2 \(customer .a.\): value .abc. is not a number"):
        summarise(log, **WINDOW)
    frame = summarise(log, columns=NO_AMOUNT, **WINDOW).frame
    assert frame["x"].tolist() == [2, 0]


def test_describe_says_spend_is_unknown():
    table = summarise(VISITS, columns=NO_AMOUNT, **WINDOW).describe()
    assert table.loc["all", "repeat_buyers"] == 1 and table.loc["all", "mean_x"] == 1.0
    assert np.isnan(table.loc["all", "mean_spend"]) and np.isnan(table.loc["all", "total_spend"])


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_a_missing_amount_column_says_how_to_summarise_without_it(tmp_path, engine):
    path = tmp_path / "visits.csv"
    VISITS.to_csv(path, index=False)
    with pytest.raises(DataError) as info:
        summarise(path, engine=engine, **WINDOW)
    assert str(info.value) == (
        f"column 'amount' (the amount column) not found in {path}. Available columns: "
        "'customer_id', 'date'. Pass the right names with ColumnMap(...), or "
        "ColumnMap(amount=None) if the log has no amounts."
    )


def test_cohorts_need_no_amounts_and_value_tiers_say_they_do():
    cohorts = cohort_segments(VISITS, columns=NO_AMOUNT, freq="M")
    assert cohorts.to_dict() == {"a": "2020-01", "b": "2020-01"}
    with pytest.raises(DataError, match=r"value tiers are tiers of amounts, and the log has "
                                        r"none \(columns.amount is None\)"):
        value_tier_segments(VISITS, columns=NO_AMOUNT)
