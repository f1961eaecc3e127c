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


# zones with offsets of whole, half and quarter hours, with and without daylight saving time,
# from UTC-10 to UTC+14
ZONES = ("UTC", "America/New_York", "Pacific/Honolulu", "America/St_Johns", "Asia/Kolkata",
         "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Kiritimati")


def offset_text(stamp: pd.Timestamp, minutes: int, form: int) -> str:
    """``stamp`` (UTC) as ISO text in the offset ``minutes``, written in one of four forms."""
    wall = (stamp + pd.Timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S")
    if minutes == 0 and form == 0:
        return wall + "Z"
    sign, hours, mins = "-" if minutes < 0 else "+", abs(minutes) // 60, abs(minutes) % 60
    suffix = [f"{sign}{hours:02d}:{mins:02d}", f"{sign}{hours:02d}{mins:02d}",
              f" {sign}{hours:02d}:{mins:02d}", f"{sign}{hours:02d}:{mins:02d}"][form]
    if mins == 0 and form == 3:
        suffix = f"{sign}{hours:02d}"
    return wall + suffix


@st.composite
def zoned_logs(draw):
    """A log of instants: zone-aware datetimes in one zone, or text in mixed offsets."""
    n = draw(st.integers(min_value=1, max_value=30))
    customers = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=n, max_size=n))
    # one day short of the observation end at each side, so no zone moves a purchase out
    days = draw(st.lists(st.integers(1, OBS_OFFSET - 1), min_size=n, max_size=n))
    minutes = draw(st.lists(st.integers(0, 24 * 60 - 1), min_size=n, max_size=n))
    instants = (START + pd.to_timedelta(days, unit="D") + pd.to_timedelta(minutes, unit="min"))
    # an anchor at noon UTC on the first day, on or before the calibration end in any zone
    instants = pd.DatetimeIndex([START + pd.Timedelta(hours=36), *instants]).tz_localize("UTC")
    customers = ["a", *customers]
    if draw(st.booleans()):
        dates = pd.Series(instants.tz_convert(draw(st.sampled_from(ZONES))))
    else:
        offsets = draw(st.lists(st.integers(-12 * 4, 14 * 4).map(lambda q: 15 * q),
                                min_size=n + 1, max_size=n + 1))
        forms = draw(st.lists(st.integers(0, 3), min_size=n + 1, max_size=n + 1))
        dates = pd.Series([offset_text(t.tz_localize(None), m, f)
                           for t, m, f in zip(instants, offsets, forms, strict=True)])
    log = pd.DataFrame({"customer_id": customers, "date": dates, "amount": 1.0})
    return log, instants


@SETTINGS
@given(zoned=zoned_logs(), zone=st.sampled_from(ZONES), holdout=st.booleans())
def test_instants_fall_on_their_day_in_the_zone_alike_in_pandas_and_duckdb(zoned, zone, holdout):
    log, instants = zoned
    kwargs = dict(
        calibration_end=START + pd.Timedelta(days=CAL_OFFSET),
        holdout_end=START + pd.Timedelta(days=HOLD_OFFSET) if holdout else None,
        observation_end=START + pd.Timedelta(days=OBS_OFFSET),
        timezone=zone,
        time_unit="days",
    )
    by_pandas = summarise(log, engine="pandas", **kwargs)
    by_duckdb = summarise(duckdb.connect().from_df(log), engine="duckdb", **kwargs)
    pd.testing.assert_frame_equal(by_pandas.frame, by_duckdb.frame, check_exact=True)
    assert by_pandas.exclusions == by_duckdb.exclusions

    # by hand: each purchase's day in the zone, from the instants the log was written from
    day = pd.Series(instants.tz_convert(zone).tz_localize(None).normalize(), index=log.index)
    first = day.groupby(log["customer_id"]).min()
    kept = first[first <= kwargs["calibration_end"]].index
    in_cal = day[(day <= kwargs["calibration_end"]) & log["customer_id"].isin(kept)]
    per_customer = in_cal.groupby(log["customer_id"])
    frame = by_pandas.frame
    np.testing.assert_array_equal(frame.index, kept)
    np.testing.assert_array_equal(frame["x"], (per_customer.nunique() - 1).loc[kept])
    np.testing.assert_array_equal(frame["t_x"], (per_customer.max() - first).loc[kept].dt.days)
    np.testing.assert_array_equal(frame["first_purchase"], first.loc[kept])


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
