"""The Spark engine: the same summaries, exclusions and errors as the pandas and DuckDB engines."""

from __future__ import annotations

import sys
from decimal import Decimal

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

import bayesclv.data.spark_engine as spark_engine
from bayesclv.data import ColumnMap, summarise
from bayesclv.data.sources import identify
from bayesclv.data.validate import make_window
from bayesclv.datasets import cdnow_path, load_cdnow
from bayesclv.errors import DataError

from . import test_timezones as tz
from . import test_without_amounts as noamount
from .conftest import (
    CAL_END,
    HOLDOUT_END,
    assert_matches_published_39wk,
    master_csv_with_a_negative_amount,
    with_cohort,
)
from .test_properties import CAL_OFFSET, OBS_OFFSET, START, ZONES, zoned_logs
from .test_validate import GOOD, typed_frame, with_row, write_log

# PySpark warns that its pandas conversions do not fully support pandas 3. The engine does
# not use them (results come back with DataFrame.toArrow); these tests do, to make Spark
# DataFrames from pandas ones the way users will, and compare the results with the other
# engines, so the warning adds nothing here.
pytestmark = pytest.mark.filterwarnings(
    "ignore:PySpark does not yet fully support pandas:FutureWarning"
)

# columns whose values are counts, days or derived from them: these must agree exactly;
# the spend columns are sums whose last bit depends on the order of addition
EXACT = ["segment", "x", "t_x", "T", "n_spend", "first_purchase"]
EXACT_HOLDOUT = [*EXACT, "x_holdout"]


@pytest.fixture(scope="module")
def spark():
    session = (
        SparkSession.builder.master("local[2]")
        .appName("bayesclv-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        # Spark turns naive pandas datetimes into instants in the session time zone; in UTC
        # (the engine's default zone) they keep their days on any machine
        .config("spark.sql.session.timeZone", "UTC")
        # Python workers (none in the engine; createDataFrame from rows needs them) must be
        # this interpreter, not whichever python3 is first on PATH
        .config("spark.pyspark.python", sys.executable)
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def assert_same_summary(ours, theirs, exact=EXACT):
    pd.testing.assert_frame_equal(ours.frame[exact], theirs.frame[exact], check_exact=True)
    # sums of the same amounts in a different order may differ in the last bit
    pd.testing.assert_frame_equal(ours.frame, theirs.frame, rtol=1e-12)
    assert ours.exclusions == theirs.exclusions


def test_engines_identical_on_master_with_holdout_and_segment(spark, master_log, tmp_path):
    log = with_cohort(master_log)
    path = tmp_path / "master.parquet"
    log.to_parquet(path)
    columns = ColumnMap(segment="cohort")
    kwargs = dict(calibration_end=CAL_END, holdout_end=HOLDOUT_END, columns=columns)
    by_spark = summarise(spark.createDataFrame(log), **kwargs)
    by_duckdb = summarise(path, engine="duckdb", **kwargs)
    by_pandas = summarise(log, engine="pandas", **kwargs)
    assert_same_summary(by_spark, by_pandas, EXACT_HOLDOUT)
    assert_same_summary(by_spark, by_duckdb, EXACT_HOLDOUT)
    assert by_spark.segments == ("1997-01", "1997-02", "1997-03")
    assert by_spark.holdout_length == 39.0
    expected = {
        "x": "int64", "t_x": "float64", "T": "float64", "n_spend": "int64",
        "mean_spend": "float64", "first_amount": "float64", "first_purchase": "datetime64[ns]",
        "x_holdout": "int64", "spend_holdout": "float64",
    }
    assert {c: str(by_spark.frame[c].dtype) for c in expected} == expected
    assert str(by_spark.frame.index.dtype) == str(by_pandas.frame.index.dtype)


def test_sample_reproduces_published_39wk_summary():
    # the bundled gzipped CSV, read by the module's active session
    summary = summarise(cdnow_path("sample"), calibration_end=CAL_END, engine="spark")
    assert_matches_published_39wk(summary)


@pytest.fixture(scope="module")
def master_parquet(tmp_path_factory):
    """CDNOW master as Parquet with microsecond timestamps (Spark reads no nanoseconds)."""
    path = tmp_path_factory.mktemp("spark") / "master.parquet"
    load_cdnow("master").to_parquet(path, coerce_timestamps="us", allow_truncated_timestamps=True)
    return path


def test_parquet_path_matches_duckdb(spark, master_parquet):
    kwargs = dict(calibration_end=CAL_END, holdout_end=HOLDOUT_END)
    by_spark = summarise(master_parquet, engine="spark", **kwargs)
    by_duckdb = summarise(master_parquet, engine="duckdb", **kwargs)
    assert_same_summary(by_spark, by_duckdb, EXACT_HOLDOUT)
    assert by_spark.n_customers == 23570


def test_parquet_with_nanosecond_timestamps_says_how_to_write_it(spark, tmp_path):
    path = tmp_path / "log.parquet"
    load_cdnow("sample").to_parquet(path)  # pandas writes nanoseconds by default
    with pytest.raises(DataError, match="nanosecond timestamps.*coerce_timestamps='us'"):
        summarise(path, calibration_end=CAL_END, engine="spark")


@pytest.fixture
def session_zone(spark, request):
    """The Spark session in another time zone for one test."""
    before = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", request.param)
    yield request.param
    spark.conf.set("spark.sql.session.timeZone", before)


@pytest.mark.parametrize(
    ("session_zone", "zone"), [("America/Los_Angeles", "UTC"), ("Asia/Tokyo", tz.NEW_YORK)],
    indirect=["session_zone"],
)
def test_instants_fall_on_their_days_in_the_zone_whatever_the_session_zone(
    spark, session_zone, tmp_path, zone
):
    # zone-aware Parquet, mixed offsets in a CSV, zone-aware pandas made a Spark DataFrame:
    # the days of the pandas and DuckDB engines, never those of the session's zone
    sources = tz.write_sources(tmp_path)
    kwargs = {**tz.WINDOW, **({} if zone == "UTC" else {"timezone": zone})}
    by_pandas = summarise(tz.aware_log(), **kwargs)
    tz.assert_expected(by_pandas, zone)
    for source in (sources["parquet"], sources["csv"]):
        assert_same_summary(summarise(source, engine="spark", **kwargs), by_pandas)
    for frame in (tz.aware_log(), tz.text_log()):
        assert_same_summary(summarise(spark.createDataFrame(frame), **kwargs), by_pandas)


@pytest.mark.parametrize("session_zone", ["Asia/Tokyo"], indirect=True)
def test_naive_pandas_datetimes_keep_their_days_as_timestamp_ntz(spark, session_zone):
    # createDataFrame makes naive datetimes instants in the session zone (Tokyo midnights
    # are the previous day in UTC), unless Spark is told to make them TIMESTAMP_NTZ
    log = load_cdnow("sample")
    by_pandas = summarise(log, calibration_end=CAL_END, engine="pandas")
    instants = spark.createDataFrame(log)
    assert_same_summary(summarise(instants, calibration_end=CAL_END, timezone=session_zone),
                        by_pandas)
    shifted = summarise(instants, calibration_end=CAL_END).frame["first_purchase"]
    assert (shifted == by_pandas.frame["first_purchase"] - pd.Timedelta(days=1)).all()
    spark.conf.set("spark.sql.timestampType", "TIMESTAMP_NTZ")
    try:
        naive = spark.createDataFrame(log)
    finally:
        spark.conf.unset("spark.sql.timestampType")
    assert str(naive.schema["date"].dataType) == "TimestampNTZType()"
    assert_same_summary(summarise(naive, calibration_end=CAL_END), by_pandas)


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(zoned=zoned_logs(), zone=st.sampled_from(ZONES))
def test_random_instants_fall_on_the_days_pandas_gives(spark, zoned, zone):
    # zone-aware datetimes in one zone, or text in mixed offsets (see test_properties)
    log, _ = zoned
    kwargs = dict(calibration_end=START + pd.Timedelta(days=CAL_OFFSET),
                  observation_end=START + pd.Timedelta(days=OBS_OFFSET), timezone=zone)
    assert_same_summary(summarise(spark.createDataFrame(log), **kwargs),
                        summarise(log, engine="pandas", **kwargs))


def test_an_instant_out_of_range_is_shown_in_the_zone_alike_in_every_engine(spark, tmp_path):
    log = tz.aware_log()
    log.loc[3, "date"] = pd.Timestamp("2300-06-01 12:00", tz=tz.NEW_YORK)
    path = tmp_path / "late.parquet"
    log.to_parquet(path)
    expected = duckdb_error(path, **tz.WINDOW)
    assert expected.startswith("column 'date', row 4 (customer 'b'): value 2300-06-01 16:00:00 "
                               "is outside the supported dates")
    assert spark_error(path, **tz.WINDOW) == expected
    assert spark_error(spark.createDataFrame(log), **tz.WINDOW) == expected


@pytest.mark.parametrize("date_type", ["date", "timestamp_ntz", "string"])
def test_date_column_types(spark, date_type):
    log = load_cdnow("sample")
    frame = spark.createDataFrame(log)
    if date_type == "string":
        frame = frame.withColumn("date", F.date_format("date", "yyyy-MM-dd HH:mm:ss"))
    else:
        frame = frame.withColumn("date", F.col("date").cast(date_type))
    by_spark = summarise(frame, calibration_end=CAL_END)
    assert_same_summary(by_spark, summarise(log, calibration_end=CAL_END, engine="pandas"))


def test_late_customers_and_late_transactions_are_counted(spark):
    log = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b", "c"],
            "date": ["2020-01-01", "2020-01-20", "2020-03-01", "2020-01-20", "2020-03-01",
                     "2020-03-02"],
            "amount": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    kwargs = dict(calibration_end="2020-01-10", holdout_end="2020-02-01")
    by_spark = summarise(spark.createDataFrame(log), **kwargs)
    by_duckdb = summarise(duckdb.connect().from_df(log), **kwargs)
    assert_same_summary(by_spark, summarise(log, **kwargs), EXACT_HOLDOUT)
    assert_same_summary(by_spark, by_duckdb, EXACT_HOLDOUT)
    assert by_spark.exclusions == {
        "transactions_after_end": 3,
        "customers_first_purchase_after_calibration": 2,
        "transactions_of_those_customers": 1,
    }


def test_text_values_parse_alike_in_every_engine(spark, tmp_path):
    dates = ["1997-01-05", " 1997-1-6 ", "1997-01-07 10:00", "1997-01-08T23:30:00-08:00",
             "1997-01-09T23:30:00Z", "1997-01-10 10:00:00.123456789"]
    amounts = ["1", " 2.5 ", "1e1", "+3", ".5", "0", "-0", "4."]
    rows = [(f"{i % 3:04d}", day, amount)
            for i, (day, amount) in enumerate(zip(dates * 2, amounts * 2, strict=False))]
    path = write_log(tmp_path, rows)
    kwargs = dict(calibration_end="1997-01-10")
    by_duckdb = summarise(path, engine="duckdb", **kwargs)
    assert_same_summary(summarise(path, engine="spark", **kwargs), by_duckdb)
    assert_same_summary(summarise(path, engine="pandas", **kwargs), by_duckdb)


def engine_error(engine, source, **kwargs):
    kwargs.setdefault("calibration_end", "1997-02-15")
    with pytest.raises(DataError) as info:
        summarise(source, engine=engine, **kwargs)
    return str(info.value)


def duckdb_error(source, **kwargs):
    return engine_error("duckdb", source, **kwargs)


def spark_error(source, **kwargs):
    return engine_error("spark", source, **kwargs)


SEGMENT_HEADER = ("customer_id", "date", "amount", "channel")
# (rows, header, summarise arguments): each log is bad in one way, as in test_validate.py
BAD_CSV_LOGS = {
    "impossible date": (with_row(2, ("0003", "1997-13-01", "1.00")), None, {}),
    "not a date": (with_row(2, ("0003", "yesterday", "1.00")), None, {}),
    "year only": (with_row(2, ("0003", "1997", "1.00")), None, {}),
    "year and month": (with_row(2, ("0003", "1997-01", "1.00")), None, {}),
    "compact date": (with_row(2, ("0003", "19970105", "1.00")), None, {}),
    "slashed date": (with_row(2, ("0003", "1997/01/05", "1.00")), None, {}),
    "underscored amount": (with_row(2, ("0003", "1997-01-05", "1_000")), None, {}),
    "hexadecimal amount": (with_row(2, ("0003", "1997-01-05", "0x10")), None, {}),
    "missing date": (with_row(2, ("0003", None, "1.00")), None, {}),
    "blank date": (with_row(2, ("0003", "  ", "1.00")), None, {}),
    "missing customer": (with_row(2, (None, "1997-01-05", "1.00")), None, {}),
    "not a number": (with_row(2, ("0003", "1997-01-05", "abc")), None, {}),
    "decimal comma": (with_row(2, ("0003", "1997-01-05", "12,50")), None, {}),
    "java double suffix": (with_row(2, ("0003", "1997-01-05", "1d")), None, {}),
    "nan text": (with_row(2, ("0003", "1997-01-05", "nan")), None, {}),
    "negative": (with_row(2, ("0003", "1997-01-05", "-4.00")), None, {}),
    "missing amount": (with_row(2, ("0003", "1997-01-05", None)), None, {}),
    "infinite": (with_row(2, ("0003", "1997-01-05", "inf")), None, {}),
    "two rows affected": (
        [*with_row(1, ("0009", "1997-01-05", "-1")), ("0009", "1997-01-06", "-2")], None, {}
    ),
    "first fault kind wins": (
        [("0001", "1997-01-01", "-1"), *GOOD[1:], (None, "1997-01-02", "1")], None, {}
    ),
    "after observation_end": (
        with_row(3, ("0005", "1997-04-02", "1.00")), None, {"observation_end": "1997-03-31"}
    ),
    "calibration before the data": (GOOD, None, {"calibration_end": "1996-12-31"}),
    "calibration after the data": (GOOD, None, {"calibration_end": "1997-03-02"}),
    "holdout after the data": (
        GOOD, None, {"calibration_end": "1997-02-01", "holdout_end": "1997-04-01"}
    ),
    "holdout after observation_end": (
        GOOD, None, {"calibration_end": "1997-02-01", "holdout_end": "1997-05-01",
                     "observation_end": "1997-04-30"},
    ),
    "empty log": ([], None, {}),
    "segment not fixed": (
        [(*r, "web" if i != 1 else "store") for i, r in enumerate(GOOD)], SEGMENT_HEADER,
        {"columns": ColumnMap(segment="channel")},
    ),
    "missing segment": (
        [(*r, None if i == 2 else "web") for i, r in enumerate(GOOD)], SEGMENT_HEADER,
        {"columns": ColumnMap(segment="channel")},
    ),
    "misspelt column": (GOOD, None, {"columns": ColumnMap(amount="amout")}),
    "zone name after the time": (
        with_row(2, ("0003", "1997-01-05T10:00:00 America/New_York", "1.00")), None, {}
    ),
    "offset after a bare date": (with_row(2, ("0003", "1997-01-05-05:00", "1.00")), None, {}),
    "offset of 25 hours": (with_row(2, ("0003", "1997-01-05T10:00+25:00", "1.00")), None, {}),
    "hour 24": (with_row(2, ("0003", "1997-01-05T24:00:00", "1.00")), None, {}),
}


@pytest.mark.parametrize("case", list(BAD_CSV_LOGS))
def test_bad_csv_log_gives_the_same_error_in_every_engine(spark, tmp_path, case):
    rows, header, kwargs = BAD_CSV_LOGS[case]
    path = write_log(tmp_path, rows, **({"header": header} if header else {}))
    expected = duckdb_error(path, **kwargs)
    assert spark_error(path, **kwargs) == expected
    assert engine_error("pandas", path, **kwargs) == expected
    # the same log as a Spark DataFrame and as a DuckDB relation, every column text
    frame = spark.read.csv(str(path), header=True)
    relation = duckdb.connect().read_csv(str(path), all_varchar=True)
    assert spark_error(frame, **kwargs) == duckdb_error(relation, **kwargs)


# as test_validate.test_typed_parquet_and_frame_sources
TYPED_CHANGES = {
    "NaN amount": dict(amount=[1.0, np.nan, 3.0]),
    "-inf amount": dict(amount=[1.0, -np.inf, 3.0]),
    "negative amount": dict(amount=[1.0, 2.0, -3.0]),
    "negative decimal amount": dict(amount=[Decimal("1.00"), Decimal("-2.50"), Decimal("3.00")]),
    "missing date": dict(date=pd.to_datetime(["1997-01-01", None, "1997-01-05"])),
    "integer date": dict(date=[19970101, 19970201, 19970105]),
    "boolean amount": dict(amount=[True, False, True]),
    "missing customer": dict(customer_id=["1", None, "2"]),
}


@pytest.mark.parametrize("case", list(TYPED_CHANGES))
def test_typed_sources_give_the_duckdb_error(spark, tmp_path, case):
    frame = typed_frame().assign(**TYPED_CHANGES[case])
    path = tmp_path / "log.parquet"
    frame.to_parquet(path, coerce_timestamps="us")
    kwargs = dict(calibration_end="1997-01-31")
    assert spark_error(path, **kwargs) == duckdb_error(path, **kwargs)
    relation = duckdb.connect().from_df(frame)
    assert spark_error(spark.createDataFrame(frame), **kwargs) == duckdb_error(relation, **kwargs)


def test_row_number_counts_across_partitions_in_file_order(spark, tmp_path):
    path, customer = master_csv_with_a_negative_amount(tmp_path)
    expected = f"column 'amount', row 60001 (customer '{customer}'): value '-3.0' is negative"
    before = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(256 * 1024))  # ~8 partitions
    try:
        frame = spark.read.csv(str(path), header=True)
        assert frame.rdd.getNumPartitions() > 2
        assert spark_error(frame, calibration_end=CAL_END).startswith(expected)
        assert spark_error(path, calibration_end=CAL_END).startswith(expected)
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", before)
    # a DataFrame made from pandas keeps the frame's row order across its partitions
    typed = load_cdnow("master")
    typed.loc[60000, "amount"] = -3.0
    frame = spark.createDataFrame(typed)
    assert frame.rdd.getNumPartitions() == 2
    assert spark_error(frame, calibration_end=CAL_END).startswith(
        f"column 'amount', row 60001 (customer '{customer}'): value -3.0 is negative"
    )


def test_malformed_csv_is_a_data_error(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("customer_id,date,amount\n1,1997-01-01,1\n2,1997-01-02,3,4\n")
    message = spark_error(path, calibration_end="1997-01-01")
    assert message.startswith(f"cannot read {path}: ")
    assert "Malformed" in message and "\n" not in message


def test_auto_uses_spark_for_a_spark_dataframe(spark, monkeypatch):
    calls = []
    real = spark_engine.summarise_spark

    def spy(*args, **kwargs):
        calls.append(args[0].kind)
        return real(*args, **kwargs)

    monkeypatch.setattr(spark_engine, "summarise_spark", spy)
    frame = spark.createDataFrame(load_cdnow("sample"))
    assert summarise(frame, calibration_end=CAL_END).n_customers == 2357
    assert calls == ["spark"]


@pytest.mark.parametrize(
    ("engine", "expected"),
    [
        ("duckdb", "engine='duckdb' reads files and DuckDB relations; for a Spark DataFrame "
                   "use engine='spark'"),
        ("pandas", "engine='pandas' would collect the whole Spark DataFrame"),
    ],
)
def test_other_engines_refuse_a_spark_dataframe(spark, engine, expected):
    frame = spark.createDataFrame(load_cdnow("sample"))
    with pytest.raises(DataError, match=expected):
        summarise(frame, calibration_end=CAL_END, engine=engine)


def test_spark_refuses_pandas_and_duckdb_sources():
    log = load_cdnow("sample")
    with pytest.raises(DataError, match="engine='spark' reads Spark DataFrames and CSV/Parquet"):
        summarise(log, calibration_end=CAL_END, engine="spark")
    with pytest.raises(DataError, match="for a DuckDB relation use engine='duckdb'"):
        summarise(duckdb.connect().from_df(log), calibration_end=CAL_END, engine="spark")


def test_engine_uses_the_active_session(spark):
    assert spark_engine.spark_session() is spark


def test_without_pyspark_engine_spark_says_what_to_install(monkeypatch):
    # as if PySpark were not installed: importing it, or the engine, fails
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.delitem(sys.modules, "bayesclv.data.spark_engine")
    with pytest.raises(DataError, match=r"pip install 'bayesclv\[spark\]'"):
        summarise(cdnow_path("sample"), calibration_end=CAL_END, engine="spark")
    assert summarise(cdnow_path("sample"), calibration_end=CAL_END).n_customers == 2357


def test_raw_table_dtypes_are_those_assemble_reads(spark):
    log = load_cdnow("sample").assign(channel="web")
    window = make_window(CAL_END, HOLDOUT_END, None, "weeks")
    raw, _ = spark_engine.summarise_spark(
        identify(spark.createDataFrame(log)), ColumnMap(segment="channel"), window
    )
    expected = {
        "customer_id": "str", "first_day": "int64", "last_day": "int64", "n_occ": "int64",
        "n_positive": "int64", "positive_sum": "float64", "first_amount": "float64",
        "x_holdout": "int64", "spend_holdout": "float64", "segment": "str",
    }
    assert {c: str(raw[c].dtype) for c in raw.columns} == expected


def test_without_an_active_session_the_builder_is_used(spark, monkeypatch):
    # getOrCreate returns the running session here; a fresh process would start local[*]
    monkeypatch.setattr(SparkSession, "getActiveSession", classmethod(lambda cls: None))
    assert spark_engine.spark_session() is spark


def test_a_placeholder_date_is_refused_alike_in_every_engine(spark):
    log = pd.DataFrame({"customer_id": ["a", "a", "b"],
                        "date": ["2020-01-01", "9999-12-31", "2020-01-02"],
                        "amount": ["1.0", "2.0", "3.0"]})
    messages = set()
    for source in (spark.createDataFrame(log), log, duckdb.connect().from_df(log)):
        with pytest.raises(DataError) as info:
            summarise(source, calibration_end="2020-01-10")
        messages.add(str(info.value))
    assert len(messages) == 1
    assert "row 2 (customer 'a'): value '9999-12-31' is outside the supported dates" in (
        messages.pop())


def test_a_log_without_amounts_gives_the_summary_of_every_engine(spark, tmp_path):
    kwargs = dict(columns=ColumnMap(amount=None), **noamount.WINDOW)
    by_pandas = summarise(noamount.VISITS, **kwargs)
    sources = noamount.visits_sources(tmp_path)["duckdb"][:2]
    for source in (*sources, spark.createDataFrame(noamount.VISITS)):
        assert_same_summary(summarise(source, engine="spark", **kwargs), by_pandas)
    assert by_pandas.frame["x"].tolist() == [2, 0]
    window = make_window(CAL_END, HOLDOUT_END, None, "weeks")
    raw, _ = spark_engine.summarise_spark(identify(spark.createDataFrame(load_cdnow("sample"))),
                                          ColumnMap(amount=None), window)
    assert list(raw.columns) == ["customer_id", "first_day", "last_day", "n_occ", "x_holdout"]
    path = sources[0]
    assert spark_error(path, **noamount.WINDOW) == duckdb_error(path, **noamount.WINDOW)
    assert "or ColumnMap(amount=None) if the log has no amounts" in spark_error(
        path, **noamount.WINDOW)
