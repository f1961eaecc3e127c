"""Instants in a log (zone-aware timestamps, strings with a UTC offset) fall on their day in
one reference zone — UTC unless the user names another — identically in every engine."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from bayesclv.data import cohort_segments, summarise
from bayesclv.errors import DataError

NEW_YORK = "America/New_York"
# (customer, New York wall time, amount). a's first purchase, 23:30 on 1 January in New
# York, is 04:30 on 2 January in UTC; c's only purchase, 23:30 on 31 January, is 1 February
# in UTC: after the calibration end, so c is in the summary in New York days only.
PURCHASES = [
    ("a", "2020-01-01 23:30", 10.0),
    ("a", "2020-01-05 10:00", 20.0),
    ("a", "2020-01-10 10:00", 30.0),
    ("b", "2020-01-03 20:00", 5.0),
    ("b", "2020-01-03 23:59", 7.0),
    ("c", "2020-01-31 23:30", 4.0),
    ("a", "2020-02-10 12:00", 8.0),
]


def days(*dates: str) -> pd.DatetimeIndex:
    return pd.to_datetime(list(dates)).as_unit("ns")


WINDOW = dict(calibration_end="2020-01-31", holdout_end="2020-02-10", time_unit="days")
# the summaries by hand: x, t_x, T in days; first amount; holdout occasions; first day
EXPECTED = {
    "UTC": pd.DataFrame(
        {"x": [2, 0], "t_x": [8.0, 0.0], "T": [29.0, 27.0], "first_amount": [10.0, 12.0],
         "x_holdout": [1, 0], "first_purchase": days("2020-01-02", "2020-01-04")},
        index=pd.Index(["a", "b"], dtype="str", name="customer_id"),
    ),
    NEW_YORK: pd.DataFrame(
        {"x": [2, 0, 0], "t_x": [9.0, 0.0, 0.0], "T": [30.0, 28.0, 0.0],
         "first_amount": [10.0, 12.0, 4.0], "x_holdout": [1, 0, 0],
         "first_purchase": days("2020-01-01", "2020-01-03", "2020-01-31")},
        index=pd.Index(["a", "b", "c"], dtype="str", name="customer_id"),
    ),
}
EXCLUDED_IN_UTC = {
    "transactions_after_end": 0,
    "customers_first_purchase_after_calibration": 1,
    "transactions_of_those_customers": 1,
}


def aware_log() -> pd.DataFrame:
    """The purchases with zone-aware New York timestamps (microseconds, as Spark reads)."""
    customers, times, amounts = zip(*PURCHASES, strict=True)
    stamps = pd.to_datetime(list(times)).as_unit("us").tz_localize(NEW_YORK)
    return pd.DataFrame({"customer_id": customers, "date": stamps, "amount": amounts})


def offset_text(stamps: pd.Series) -> list[str]:
    """The same instants as ISO strings in mixed offsets: New York's, UTC's (Z), Tokyo's."""
    forms = [
        lambda t: t.strftime("%Y-%m-%dT%H:%M:%S%z")[:-2] + ":" + t.strftime("%z")[-2:],
        lambda t: t.tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%SZ"),
        lambda t: t.tz_convert("Asia/Tokyo").strftime("%Y-%m-%dT%H:%M%z"),
    ]
    return [forms[i % 3](t) for i, t in enumerate(stamps)]


def text_log() -> pd.DataFrame:
    log = aware_log()
    return log.assign(date=offset_text(log["date"]))


def write_sources(folder) -> dict[str, object]:
    """The same log as a Parquet file (timestamp[us, tz=America/New_York]) and a CSV."""
    parquet = folder / "aware.parquet"
    aware_log().to_parquet(parquet)
    csv = folder / "offsets.csv"
    text_log().to_csv(csv, index=False)
    return {"parquet": parquet, "csv": csv}


def assert_expected(summary, zone):
    expected = EXPECTED[zone]
    pd.testing.assert_frame_equal(summary.frame[expected.columns], expected, check_exact=True)
    if zone == "UTC":
        assert summary.exclusions == EXCLUDED_IN_UTC


def test_the_sources_hold_the_same_instants():
    assert text_log()["date"].tolist()[:3] == [
        "2020-01-01T23:30:00-05:00", "2020-01-05 15:00:00Z", "2020-01-11T00:00+0900"]
    parsed = pd.to_datetime(text_log()["date"], format="ISO8601", utc=True)
    assert parsed.tolist() == aware_log()["date"].dt.tz_convert("UTC").tolist()


@pytest.mark.parametrize("zone", ["UTC", NEW_YORK])
@pytest.mark.parametrize(
    ("engine", "source"),
    [("pandas", "frame"), ("pandas", "parquet"), ("pandas", "csv"), ("pandas", "text frame"),
     ("duckdb", "parquet"), ("duckdb", "csv"), ("duckdb", "relation")],
)
def test_every_engine_and_source_puts_an_instant_on_its_day_in_the_zone(
    tmp_path, engine, source, zone
):
    sources = write_sources(tmp_path)
    sources["frame"] = aware_log()
    sources["text frame"] = text_log()
    sources["relation"] = duckdb.connect().from_df(aware_log())
    kwargs = {} if zone == "UTC" else {"timezone": zone}  # UTC is the default
    assert_expected(summarise(sources[source], engine=engine, **WINDOW, **kwargs), zone)


def test_the_connection_time_zone_never_decides_a_day(tmp_path):
    # DuckDB's TimeZone setting defaults to the machine's zone; conversions name theirs
    sources = write_sources(tmp_path)
    kiritimati = duckdb.connect()  # UTC+14: most days differ from UTC's and New York's
    kiritimati.execute("SET TimeZone = 'Pacific/Kiritimati'")
    relations = [kiritimati.from_df(aware_log()), kiritimati.read_parquet(str(sources["parquet"])),
                 kiritimati.read_csv(str(sources["csv"]), all_varchar=True)]
    for relation in relations:
        assert_expected(summarise(relation, **WINDOW), "UTC")
        assert_expected(summarise(relation, timezone=NEW_YORK, **WINDOW), NEW_YORK)


def test_naive_timestamps_and_strings_without_offset_are_days_as_written():
    naive = aware_log().assign(date=lambda f: f["date"].dt.tz_localize(None))
    as_text = naive.assign(date=naive["date"].dt.strftime("%Y-%m-%d %H:%M"))
    for log in (naive, as_text):
        for zone in ("UTC", NEW_YORK, "Asia/Tokyo"):
            by_pandas = summarise(log, timezone=zone, **WINDOW)
            by_duckdb = summarise(duckdb.connect().from_df(log), timezone=zone, **WINDOW)
            assert_expected(by_pandas, NEW_YORK)
            pd.testing.assert_frame_equal(by_duckdb.frame, by_pandas.frame)


def test_offset_forms_and_a_text_column_mixing_them_with_bare_dates():
    # Z, ±hh, ±hh:mm, ±hhmm, a space before the offset, fractions of a second; days in UTC
    dates = ["2020-01-01T23:30:00-05", "2020-01-02 01:00 +09:00", "2020-01-03T12:00:00.25Z",
             "2020-01-04", "2020-01-04T22:00-0230", "2020-01-05 10:00"]
    log = pd.DataFrame({"customer_id": "a", "date": dates, "amount": 1.0})
    days = ["2020-01-02", "2020-01-01", "2020-01-03", "2020-01-04", "2020-01-05", "2020-01-05"]
    for source, engine in ((log, "pandas"), (duckdb.connect().from_df(log), "duckdb")):
        summary = summarise(source, calibration_end="2020-01-05", time_unit="days",
                            engine=engine)
        row = summary.frame.loc["a"]
        distinct = sorted(set(days))
        assert (row["x"], row["t_x"]) == (len(distinct) - 1, 4.0)
        assert row["first_purchase"] == pd.Timestamp(distinct[0])


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
@pytest.mark.parametrize(
    "text",
    ["2020-01-01T23:30:00 America/New_York", "2020-01-01T23:30:00 UTC", "2020-01-01Z",
     "2020-01-01-05:00", "2020-01-01T23:30:00+25:00", "2020-01-01T23:30:00+05:61",
     "2020-01-01T23:30:00-05:00:00", "2020-01-01T24:00:00", "2020-01-01T23-05:00"],
)
def test_text_that_is_not_a_date_time_and_offset_is_a_bad_date_in_every_engine(
    tmp_path, engine, text
):
    log = pd.DataFrame({"customer_id": ["a", "b"], "date": ["2020-01-01", text],
                        "amount": [1.0, 2.0]})
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    with pytest.raises(DataError) as info:
        summarise(path, calibration_end="2020-01-01", engine=engine)
    assert str(info.value) == (
        f"column 'date', row 2 (customer 'b'): value {text!r} cannot be parsed as a date "
        "(expected ISO 8601, e.g. 1997-01-31)"
    )


@pytest.mark.parametrize(
    ("zone", "expected"),
    [("America/NewYork", "timezone='America/NewYork' is not an IANA time-zone name; did you "
                         "mean 'America/New_York'?"),
     ("utc", "timezone='utc' is not an IANA time-zone name; did you mean 'UTC'?"),
     ("Mars/Olympus", "timezone='Mars/Olympus' is not an IANA time-zone name such as 'UTC' "
                      "or 'America/New_York'"),
     ("localtime", "timezone='localtime' is not an IANA time-zone name"),
     (None, "timezone=None is not an IANA time-zone name")],
)
def test_an_unknown_zone_is_named_before_any_data_is_read(zone, expected):
    with pytest.raises(DataError) as info:
        summarise("no/such/file.csv", calibration_end="2020-01-31", timezone=zone)
    assert str(info.value).startswith(expected)
    with pytest.raises(DataError) as info:
        cohort_segments(aware_log(), timezone=zone)
    assert str(info.value).startswith(expected)


def test_an_instant_out_of_range_is_shown_in_the_zone_alike_in_pandas_and_duckdb(tmp_path):
    log = aware_log()
    log.loc[3, "date"] = pd.Timestamp("2300-06-01 12:00", tz=NEW_YORK)
    path = tmp_path / "late.parquet"
    log.to_parquet(path)
    messages = set()
    for source, engine in ((path, "pandas"), (path, "duckdb"), (log, "pandas")):
        with pytest.raises(DataError) as info:
            summarise(source, engine=engine, **WINDOW)
        messages.add(str(info.value))
    assert messages == {
        "column 'date', row 4 (customer 'b'): value 2300-06-01 16:00:00 is outside the "
        "supported dates 1677-09-22 … 2262-04-11 (a placeholder such as 9999-12-31? remove "
        "the row or give the real date)"
    }


def test_cohorts_use_the_days_of_the_zone():
    # c's purchase is in January in New York and in February in UTC
    log = aware_log()
    in_utc = cohort_segments(log, freq="M")
    in_new_york = cohort_segments(log, freq="M", timezone=NEW_YORK)
    assert (in_utc["c"], in_new_york["c"]) == ("2020-02", "2020-01")
    assert in_utc.drop("c").tolist() == in_new_york.drop("c").tolist() == ["2020-01"] * 2
    np.testing.assert_array_equal(in_new_york.index, ["a", "b", "c"])
