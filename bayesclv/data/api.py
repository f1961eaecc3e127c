"""``summarise``: transaction log in, ``CustomerSummary`` out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import pandas as pd

from bayesclv.data.assemble import SegmentsArg, assemble
from bayesclv.data.columns import ColumnMap
from bayesclv.data.duckdb_engine import summarise_duckdb
from bayesclv.data.pandas_engine import summarise_frame
from bayesclv.data.sources import Log, Source, identify, read_pandas
from bayesclv.data.summary import CustomerSummary
from bayesclv.data.validate import DEFAULT_TIMEZONE, ENGINES, Window, make_window
from bayesclv.errors import DataError

# (engine, kind of source) → why that engine does not read it and what to do instead
UNREADABLE = {
    ("pandas", "spark"): (
        "engine='pandas' would collect the whole Spark DataFrame to the driver; use "
        "engine='spark' (the default for a Spark DataFrame)"
    ),
    ("duckdb", "frame"): (
        "engine='duckdb' reads files and DuckDB relations; for a DataFrame use "
        "engine='pandas', or wrap it with duckdb.from_df(df)"
    ),
    ("duckdb", "spark"): (
        "engine='duckdb' reads files and DuckDB relations; for a Spark DataFrame use "
        "engine='spark' (the default for a Spark DataFrame)"
    ),
    ("spark", "frame"): (
        "engine='spark' reads Spark DataFrames and CSV/Parquet files; for a pandas DataFrame "
        "use engine='pandas', or make it a Spark DataFrame with spark.createDataFrame(df)"
    ),
    ("spark", "relation"): (
        "engine='spark' reads Spark DataFrames and CSV/Parquet files; for a DuckDB relation "
        "use engine='duckdb'"
    ),
}


def summarise(
    source: Source,
    *,
    calibration_end: object,
    holdout_end: object = None,
    columns: ColumnMap = ColumnMap(),  # noqa: B008 - frozen dataclass, safe as a default
    time_unit: Literal["weeks", "days"] = "weeks",
    timezone: str = DEFAULT_TIMEZONE,
    engine: Literal["auto", "pandas", "duckdb", "spark"] = "auto",
    observation_end: object = None,
    segments: SegmentsArg = None,
    segment_order: Sequence[str] | None = None,
    duckdb_config: Mapping[str, object] | None = None,
) -> CustomerSummary:
    """Summarise a transaction log per customer for BTYD models.

    All purchases of one customer on one day form one purchase occasion (amounts summed).
    For each customer whose first purchase is on or before ``calibration_end``:
    ``x`` = repeat occasions in calibration, ``t_x`` = time from the first to the last
    calibration occasion, ``T`` = time from the first occasion to ``calibration_end``,
    ``n_spend``/``mean_spend`` = count and mean amount of the repeat calibration occasions
    with a positive amount (zero-amount occasions count in ``x`` but not in spend),
    ``first_amount`` = the first occasion's amount; with a holdout, ``x_holdout`` and
    ``spend_holdout`` over (``calibration_end``, ``holdout_end``].

    Parameters
    ----------
    source : str, Path, pd.DataFrame, duckdb.DuckDBPyRelation or pyspark.sql.DataFrame
        The transaction log: a CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``, ``.pq``)
        file, a pandas DataFrame, a DuckDB relation or a Spark DataFrame. One row per
        purchase.
    calibration_end : date-like
        Last day of the calibration period, inclusive.
    holdout_end : date-like, optional
        Last day of the holdout period, inclusive; must be after ``calibration_end``.
    columns : ColumnMap
        Which columns hold customer, date, amount and (optionally) a segment label that is
        fixed per customer.
    time_unit : {"weeks", "days"}
        Unit of ``t_x``, ``T`` and ``holdout_length`` (a week is 7 days).
    timezone : str
        IANA time-zone name (default ``"UTC"``) in which instants fall on calendar days:
        zone-aware timestamps (pandas ``datetime64[.., tz]``, Parquet timestamps with a
        zone, DuckDB ``TIMESTAMPTZ``, Spark ``TimestampType``) and date strings with a UTC
        offset (``"2020-01-01T23:30:00-05:00"`` is 2 January in UTC, 1 January in
        ``"America/New_York"``). Naive timestamps, dates and strings without an offset are
        the day as written. The calendar dates of the window are days in this zone.
    engine : {"auto", "pandas", "duckdb", "spark"}
        ``"auto"`` uses pandas for a pandas DataFrame, Spark for a Spark DataFrame and
        DuckDB for files and relations. ``"spark"`` also reads CSV and Parquet files, with
        the active SparkSession or, if there is none, a new local one (``local[*]``); it
        needs the ``spark`` extra (``pip install 'bayesclv[spark]'``). All engines return
        identical summaries and raise the same errors.
    observation_end : date-like, optional
        Last day the extract should cover. A transaction after it is an error (a sign of a
        bad extract); without it the data are taken to end at their last transaction.
    segments : pd.Series or mapping, optional
        Customer id → segment label, e.g. from :func:`cohort_segments` or
        :func:`value_tier_segments`. Use either this or ``columns.segment``.
    segment_order : sequence of str, optional
        Order of the segments (their integer codes). Default: the categories of a
        Categorical ``segments``, else the sorted labels.
    duckdb_config : mapping, optional
        DuckDB settings for files, e.g. ``{"threads": 4, "memory_limit": "4GB"}``. The
        Spark engine runs with its session's settings.

    Returns
    -------
    CustomerSummary
        Sorted by customer id; ``exclusions`` counts transactions after the last day
        considered, customers whose first purchase is after ``calibration_end`` and their
        transactions.

    Raises
    ------
    DataError
        For bad arguments or bad data, naming the column, row, customer and value.
    """
    window = make_window(calibration_end, holdout_end, observation_end, time_unit, timezone)
    if engine not in ENGINES:
        raise DataError(f"engine={engine!r} is not supported; use one of {ENGINES}")
    log = identify(source)
    if engine == "auto":
        engine = {"frame": "pandas", "spark": "spark"}.get(log.kind, "duckdb")
    if (engine, log.kind) in UNREADABLE:
        raise DataError(UNREADABLE[engine, log.kind])
    if engine == "pandas":
        frame = read_pandas(log, columns)
        raw, exclusions = summarise_frame(frame, columns, window)
    elif engine == "duckdb":
        raw, exclusions = summarise_duckdb(log, columns, window, duckdb_config)
    else:
        raw, exclusions = _summarise_spark(log, columns, window)
    return assemble(raw, window, exclusions, segments=segments, segment_order=segment_order)


def _summarise_spark(
    log: Log, columns: ColumnMap, window: Window
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The Spark engine, imported only now so that PySpark stays an optional dependency."""
    try:
        from bayesclv.data.spark_engine import summarise_spark
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] not in ("pyspark", "py4j"):
            raise
        raise DataError(
            "engine='spark' needs PySpark, which is not installed; install the spark extra: "
            "pip install 'bayesclv[spark]'"
        ) from exc
    return summarise_spark(log, columns, window)
