"""The DuckDB engine: validate and aggregate a transaction log in SQL, without pandas.

The raw log is never loaded into Python: one query counts every kind of bad row and finds
the date range, a second aggregates purchase occasions per customer. Only when a check
fails does a third query fetch the first offending row (with its 1-based row number).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import duckdb
import pandas as pd

from bayesclv.data.assemble import raw_from_arrow
from bayesclv.data.columns import ColumnMap
from bayesclv.data.sources import Log
from bayesclv.data.validate import (
    DATE_TEXT,
    FIRST_DAY,
    LAST_DAY,
    NUMBER_TEXT,
    OFFSET_TEXT,
    ROW_FAULTS,
    RowFault,
    Window,
    check_coverage,
    empty_log_error,
    row_fault_error,
)
from bayesclv.errors import DataError

DATE_TYPES = ("DATE", "TIMESTAMP")
INSTANT_TYPE = "TIMESTAMP WITH TIME ZONE"
NUMERIC_TYPES = (
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
    "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL",
)


def quote(name: str) -> str:
    """A SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(day: pd.Timestamp) -> str:
    """A SQL date literal."""
    return f"DATE '{day.date().isoformat()}'"


def text_literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def local_time(instant: str, timezone: str) -> str:
    """SQL for the wall-clock TIMESTAMP that the TIMESTAMPTZ ``instant`` shows in ``timezone``.

    ``timezone(zone, timestamptz)`` (DuckDB's ICU extension, linked into its Python package)
    converts explicitly, so the connection's ``TimeZone`` setting, which defaults to the
    machine's zone, never decides a day.
    """
    return f"timezone({text_literal(timezone)}, {instant})"


def text_day(text: str, timezone: str) -> str:
    """SQL for the wall-clock TIMESTAMP of a date string (``DATE_TEXT``, else NULL).

    Without a UTC offset the time is as written; with one, the time less the offset is UTC,
    shown in ``timezone``. The offset is read here, not by DuckDB's TIMESTAMPTZ cast, so
    that every engine reads the same strings the same way.
    """
    shaped = f"(CASE WHEN regexp_matches({text}, '{DATE_TEXT}') THEN {text} END)"
    offset = f"regexp_extract({shaped}, '{OFFSET_TEXT}', ['whole', 'sign', 'hours', 'minutes'])"
    cut = f"rtrim(left({shaped}, length({shaped}) - length({offset}['whole'])))"
    wall = f"TRY_CAST(CASE WHEN {offset}['whole'] = '' THEN {shaped} ELSE {cut} END AS TIMESTAMP)"
    seconds = (
        f"(CASE {offset}['sign'] WHEN '-' THEN -1 ELSE 1 END) * "
        f"(coalesce(TRY_CAST(nullif({offset}['hours'], '') AS INTEGER), 0) * 3600 + "
        f"coalesce(TRY_CAST(nullif({offset}['minutes'], '') AS INTEGER), 0) * 60)"
    )
    utc = f"timezone('UTC', {wall} - to_seconds({seconds}))"
    return (
        f"(CASE WHEN {offset}['whole'] = '' THEN {wall} ELSE {local_time(utc, timezone)} END)"
    )


@dataclass(frozen=True)
class Runner:
    """Runs SQL in which ``src`` names the raw log, on a file or on a user's relation."""

    connection: duckdb.DuckDBPyConnection | None
    relation: duckdb.DuckDBPyRelation

    @classmethod
    def open(cls, log: Log, config: Mapping[str, object] | None) -> Runner:
        """A runner over ``log`` (a CSV/Parquet path or a DuckDB relation)."""
        if log.kind == "relation":
            return cls(None, log.obj)
        try:
            con = duckdb.connect(config=dict(config or {}))
            path = str(log.obj).replace("'", "''")
            if log.kind == "parquet":
                rel = con.sql(f"SELECT * FROM read_parquet('{path}')")
            else:
                rel = con.sql(f"SELECT * FROM read_csv('{path}', all_varchar = true)")
        except duckdb.Error as exc:
            raise DataError(f"cannot read {log.description}: {exc}") from exc
        return cls(con, rel)

    def query(self, sql: str, description: str) -> duckdb.DuckDBPyRelation:
        """Run ``sql`` (which reads ``src``)."""
        try:
            return self.relation.query("src", sql)
        except duckdb.Error as exc:
            raise DataError(f"cannot read {description}: {exc}") from exc

    def close(self) -> None:
        """Close the connection this runner opened (none for a user's relation)."""
        if self.connection is not None:
            self.connection.close()


def summarise_duckdb(
    log: Log,
    columns: ColumnMap,
    window: Window,
    config: Mapping[str, object] | None = None,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Aggregate a transaction log with DuckDB.

    Parameters
    ----------
    log : Log
        A CSV or Parquet path, or a DuckDB relation.
    columns : ColumnMap
        Column names.
    window : Window
        Dates and time unit.
    config : mapping, optional
        DuckDB settings for the connection opened on a file (e.g. ``{"threads": 4,
        "memory_limit": "2GB"}``); a relation runs on its own connection's settings.

    Returns
    -------
    raw : pd.DataFrame
        Per-customer aggregates in the layout ``assemble`` expects.
    exclusions : dict
        Reason → count.
    """
    runner = Runner.open(log, config)
    try:
        return _summarise(runner, log, columns, window)
    finally:
        runner.close()


def _summarise(
    runner: Runner, log: Log, columns: ColumnMap, window: Window
) -> tuple[pd.DataFrame, dict[str, int]]:
    rel = runner.relation
    columns.check(rel.columns, log.description)
    types = {name: str(kind).upper() for name, kind in zip(rel.columns, rel.types, strict=True)}
    typed = _typed_sql(columns, types, window)
    what = log.description

    checks = runner.query(_checks_sql(typed, window), what).fetchall()[0]
    names = ["n_rows", "first_day", "last_day", *(f.key for f in ROW_FAULTS), "after_end"]
    counts = dict(zip(names, checks, strict=True))
    if counts["n_rows"] == 0:
        raise empty_log_error()
    for fault in ROW_FAULTS:
        if counts[fault.key]:
            raise _first_fault(runner, typed, fault, columns, window, int(counts[fault.key]), what)
    check_coverage(window, pd.Timestamp(counts["first_day"]), pd.Timestamp(counts["last_day"]))

    table = runner.query(_summary_sql(typed, columns, window), what).to_arrow_table()
    return raw_from_arrow(table, columns, window, int(counts["after_end"]))


@dataclass(frozen=True)
class Typed:
    """SQL expressions over ``src`` for the typed columns and their faults."""

    select: str
    faults: dict[str, str]


def _typed_sql(columns: ColumnMap, types: dict[str, str], window: Window) -> Typed:
    """The ``typed`` CTE (c, d[, a][, s], raw columns) and one SQL condition per row fault."""
    cust, date = quote(columns.customer), quote(columns.date)
    date_type = types[columns.date]
    shown_date = date  # the date as error messages show it
    if date_type == INSTANT_TYPE:
        # an instant: the time it shows in the reference zone, as pandas and Spark take it
        shown_date = local_time(date, window.timezone)
        day = f"CAST({shown_date} AS DATE)"
        date_missing = f"{date} IS NULL"
    elif date_type.startswith(DATE_TYPES):
        day = f"CAST({date} AS DATE)"
        date_missing = f"{date} IS NULL"
    elif date_type == "VARCHAR":
        day = f"CAST({text_day(f'trim({date})', window.timezone)} AS DATE)"
        date_missing = f"({date} IS NULL OR trim({date}) = '')"
    else:
        raise DataError(
            f"column {columns.date!r} has type {date_type}; expected dates or ISO 8601 date strings"
        )
    parts = [
        f"CAST({cust} AS VARCHAR) AS c",
        f"{day} AS d",
        f"{date_missing} AS date_missing",
        f"{cust} AS raw_customer",
        f"{shown_date} AS raw_date",
    ]
    faults = {
        "missing_customer": "(c IS NULL OR c = '')",
        "missing_date": "date_missing",
        "bad_date": "(NOT date_missing AND d IS NULL)",
        "date_out_of_range": f"(d < DATE '{FIRST_DAY}' OR d > DATE '{LAST_DAY}')",
        "missing_amount": "false",
        "bad_amount": "false",
        "infinite_amount": "false",
        "negative_amount": "false",
        "missing_segment": "false",
        "after_observation": "false",
    }
    if columns.amount is not None:
        parts += _amount_sql(columns.amount, types[columns.amount], faults)
    if window.observation_end is not None:
        faults["after_observation"] = f"(d > {literal(window.observation_end)})"
    if columns.segment is not None:
        seg = quote(columns.segment)
        parts += [f"CAST({seg} AS VARCHAR) AS s", f"{seg} AS raw_segment"]
        faults["missing_segment"] = "(s IS NULL OR s = '')"
    return Typed(select=", ".join(parts), faults=faults)


def _amount_sql(column: str, kind: str, faults: dict[str, str]) -> list[str]:
    """SQL for the amount ``a``, its flag and raw value; sets the amount faults' conditions."""
    amount = quote(column)
    if kind.startswith(NUMERIC_TYPES):
        value = f"CAST({amount} AS DOUBLE)"
        amount_missing = f"({amount} IS NULL OR isnan({value}))"
        amount_bad = "false"
    elif kind == "VARCHAR":
        text = f"trim({amount})"
        shaped = f"CASE WHEN regexp_matches({text}, '{NUMBER_TEXT}') THEN {text} END"
        value = f"TRY_CAST({shaped} AS DOUBLE)"
        amount_missing = f"({amount} IS NULL OR trim({amount}) = '')"
        amount_bad = "(a IS NULL OR isnan(a))"
    else:
        raise DataError(f"column {column!r} has type {kind}; expected numbers")
    faults.update({
        "missing_amount": "amount_missing",
        "bad_amount": f"(NOT amount_missing AND {amount_bad})",
        "infinite_amount": "(NOT amount_missing AND isinf(a))",
        "negative_amount": "(NOT amount_missing AND a < 0)",
    })
    return [f"{value} AS a", f"{amount_missing} AS amount_missing", f"{amount} AS raw_amount"]


def _checks_sql(typed: Typed, window: Window) -> str:
    counts = ", ".join(f"count_if({typed.faults[f.key]}) AS {f.key}" for f in ROW_FAULTS)
    return (
        f"WITH typed AS (SELECT {typed.select} FROM src) "
        f"SELECT count(*) AS n_rows, min(d), max(d), {counts}, "
        f"count_if(d > {literal(window.last_end)}) AS after_end FROM typed"
    )


def _first_fault(
    runner: Runner,
    typed: Typed,
    fault: RowFault,
    columns: ColumnMap,
    window: Window,
    n_rows: int,
    what: str,
) -> DataError:
    """Fetch the first row with ``fault`` and word its error like the pandas engine."""
    condition = typed.faults[fault.key]
    raw_value = {"customer": "raw_customer", "date": "raw_date", "amount": "raw_amount",
                 "segment": "raw_segment"}[fault.role]
    if fault.key == "after_observation":
        raw_value = "d"
    sql = (
        f"WITH typed AS (SELECT row_number() OVER () AS rn, {typed.select} FROM src) "
        f"SELECT rn, CASE WHEN {typed.faults['missing_customer']} THEN NULL ELSE c END, "
        f"{raw_value} FROM typed WHERE {condition} ORDER BY rn LIMIT 1"
    )
    row, customer, value = runner.query(sql, what).fetchall()[0]
    return row_fault_error(
        fault, getattr(columns, fault.role), int(row), customer, value, n_rows,
        window.observation_end,
    )


def _summary_sql(typed: Typed, columns: ColumnMap, window: Window) -> str:
    """Occasions per (customer, day), then one aggregation per customer, sorted by customer."""
    cal = literal(window.calibration_end)
    last = literal(window.last_end)
    epoch = "DATE '1970-01-01'"
    segment = columns.segment is not None
    # the segment joins the occasion key: a customer whose label changes within a day gets
    # two occasion rows, and the min/max per customer below flags the conflict either way
    seg_key = ", s" if segment else ""
    seg_cust = ", min(s) AS seg_min, max(s) AS seg_max" if segment else ""
    amounts = columns.amount is not None
    occ_amount = "sum(a) AS a, " if amounts else ""
    spend = (
        f"count(*) FILTER (WHERE d <= {cal} AND a > 0) AS n_positive, "
        f"coalesce(sum(a) FILTER (WHERE d <= {cal} AND a > 0), 0.0) AS positive_sum, "
        "arg_min(a, d) AS first_amount, "
    ) if amounts else ""
    holdout = ""
    if window.holdout_end is not None:
        in_holdout = f"d > {cal} AND d <= {last}"
        holdout = f", count(*) FILTER (WHERE {in_holdout}) AS x_holdout"
        if amounts:
            holdout += f", coalesce(sum(a) FILTER (WHERE {in_holdout}), 0.0) AS spend_holdout"
    return (
        f"WITH typed AS (SELECT {typed.select} FROM src), "
        f"occ AS (SELECT c, d{seg_key}, {occ_amount}count(*) AS n FROM typed "
        f"GROUP BY c, d{seg_key}) "
        "SELECT c AS customer_id, "
        f"min(d) - {epoch} AS first_day, "
        f"max(d) FILTER (WHERE d <= {cal}) - {epoch} AS last_day, "
        f"count(*) FILTER (WHERE d <= {cal}) AS n_occ, "
        f"{spend}"
        f"coalesce(sum(n) FILTER (WHERE d <= {last}), 0) AS n_rows_window"
        f"{holdout}{seg_cust} FROM occ GROUP BY c ORDER BY c"
    )
