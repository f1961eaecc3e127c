"""Property tests on random small logs: invariants of the summary and engine agreement."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bayesclv.data import summarise

START = pd.Timestamp("2021-01-01")
CAL_OFFSET = 40
HOLD_OFFSET = 70
OBS_OFFSET = 80


@st.composite
def logs(draw):
    n = draw(st.integers(min_value=1, max_value=40))
    customers = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=n, max_size=n))
    offsets = draw(st.lists(st.integers(0, OBS_OFFSET), min_size=n, max_size=n))
    amounts = draw(
        st.lists(
            st.one_of(st.just(0.0), st.floats(0.01, 500.0).map(lambda v: round(v, 2))),
            min_size=n, max_size=n,
        )
    )
    log = pd.DataFrame(
        {
            "customer_id": customers,
            "date": START + pd.to_timedelta(offsets, unit="D"),
            "amount": amounts,
        }
    )
    # guarantee a purchase inside calibration so the window is valid
    anchor = pd.DataFrame({"customer_id": ["a"], "date": [START], "amount": [1.0]})
    return pd.concat([anchor, log], ignore_index=True)


def summarise_both(log, holdout):
    kwargs = dict(
        calibration_end=START + pd.Timedelta(days=CAL_OFFSET),
        holdout_end=START + pd.Timedelta(days=HOLD_OFFSET) if holdout else None,
        observation_end=START + pd.Timedelta(days=OBS_OFFSET),
    )
    by_pandas = summarise(log, engine="pandas", **kwargs)
    by_duckdb = summarise(duckdb.connect().from_df(log), engine="duckdb", **kwargs)
    return by_pandas, by_duckdb


SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(log=logs(), holdout=st.booleans())
def test_invariants_and_engine_agreement(log, holdout):
    by_pandas, by_duckdb = summarise_both(log, holdout)
    pd.testing.assert_frame_equal(by_pandas.frame, by_duckdb.frame, rtol=1e-8)
    assert by_pandas.exclusions == by_duckdb.exclusions
    frame = by_pandas.frame

    assert (frame["t_x"] >= 0).all() and (frame["t_x"] <= frame["T"]).all()
    assert (frame.loc[frame["x"] == 0, "t_x"] == 0).all()
    assert (frame["n_spend"] <= frame["x"]).all()

    cal = START + pd.Timedelta(days=CAL_OFFSET)
    last = START + pd.Timedelta(days=HOLD_OFFSET if holdout else CAL_OFFSET)
    in_cal = log[log["date"] <= cal]
    days = in_cal.groupby("customer_id")["date"].nunique()
    np.testing.assert_array_equal(frame["x"].to_numpy(), (days - 1).loc[frame.index].to_numpy())

    window = log[(log["date"] <= last) & log["customer_id"].isin(frame.index)]
    spent = (
        frame["first_amount"].sum()
        + (frame["n_spend"] * frame["mean_spend"].fillna(0.0)).sum()
        + (frame["spend_holdout"].sum() if holdout else 0.0)
    )
    assert spent == pytest.approx(window["amount"].sum(), abs=1e-6)

    excluded = by_pandas.exclusions
    assert excluded["transactions_after_end"] == int((log["date"] > last).sum())
    assert len(window) + excluded["transactions_after_end"] + excluded[
        "transactions_of_those_customers"
    ] == len(log)
    late = log.groupby("customer_id")["date"].min() > cal
    assert excluded["customers_first_purchase_after_calibration"] == int(late.sum())


@SETTINGS
@given(log=logs())
def test_compress_round_trip(log):
    summary, _ = summarise_both(log, holdout=False)
    compressed = summary.compress()
    assert compressed.n_customers == summary.n_customers
    expanded = compressed.rows.iloc[compressed.customer_row][["segment", "x", "t_x", "T"]]
    np.testing.assert_array_equal(expanded["segment"].to_numpy(), summary.segment_codes)
    for column in ("x", "t_x", "T"):
        np.testing.assert_array_equal(expanded[column].to_numpy(), summary.frame[column].to_numpy())
