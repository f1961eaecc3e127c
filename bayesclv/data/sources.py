"""Recognise what was passed as a transaction log and open it for an engine."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bayesclv.data.columns import ColumnMap
from bayesclv.errors import DataError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame

SourceKind = Literal["frame", "csv", "parquet", "relation", "spark"]
CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")

# a lazily evaluated alias, so that PySpark is needed only to pass a Spark DataFrame
type Source = str | Path | pd.DataFrame | duckdb.DuckDBPyRelation | SparkDataFrame


@dataclass(frozen=True)
class Log:
    """A transaction log of known kind, not yet read.

    Attributes
    ----------
    kind : {"frame", "csv", "parquet", "relation", "spark"}
        What the source is (``"frame"`` is a pandas DataFrame, ``"spark"`` a Spark one).
    obj : object
        The DataFrame, the ``Path``, the DuckDB relation or the Spark DataFrame.
    """

    kind: SourceKind
    obj: object

    @property
    def description(self) -> str:
        """How to name the log in error messages."""
        if self.kind in ("csv", "parquet"):
            return f"{self.obj}"
        return "the transaction log"


def identify(source: object) -> Log:
    """Classify ``source``; ``DataError`` for missing files and unsupported types."""
    if isinstance(source, pd.DataFrame):
        return Log("frame", source)
    if isinstance(source, duckdb.DuckDBPyRelation):
        return Log("relation", source)
    if is_spark_frame(source):
        return Log("spark", source)
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.exists():
            raise DataError(f"transaction log file {str(path)!r} does not exist")
        name = path.name.lower()
        if name.endswith(CSV_SUFFIXES):
            return Log("csv", path)
        if name.endswith(PARQUET_SUFFIXES):
            return Log("parquet", path)
        raise DataError(
            f"cannot tell the format of {str(path)!r} from its name; use a file ending in "
            f"{', '.join(CSV_SUFFIXES + PARQUET_SUFFIXES)}, or pass a DataFrame or DuckDB relation"
        )
    raise DataError(
        "source must be a CSV or Parquet path, a pandas DataFrame, a DuckDB relation or a "
        f"Spark DataFrame, got {type(source).__name__}"
    )


def is_spark_frame(source: object) -> bool:
    """Whether ``source`` is a Spark DataFrame (classic or Connect), without importing PySpark."""
    return any(
        cls.__name__ == "DataFrame" and cls.__module__.startswith("pyspark.sql.")
        for cls in type(source).__mro__
    )


def read_pandas(log: Log, columns: ColumnMap, extra: Sequence[str] = ()) -> pd.DataFrame:
    """Read ``log`` into pandas for the pandas engine.

    Parameters
    ----------
    log : Log
        The source.
    columns : ColumnMap
        The columns to read; they are checked before anything is read (with advice in the
        words of where their names were set), and Parquet files are read for these
        columns only.
    extra : sequence of str
        More columns to read from a Parquet file (covariates); the caller checks them.

    Notes
    -----
    CSV columns are read as text, so ids keep their zero padding and every value is checked
    by the same rules as in the DuckDB engine; only an empty field counts as missing.
    """
    if log.kind == "frame":
        columns.check(log.obj.columns, log.description)
        return log.obj
    try:
        if log.kind == "relation":
            columns.check(log.obj.columns, log.description)
            return log.obj.df()
        if log.kind == "parquet":
            names = pq.read_schema(log.obj).names
            columns.check(names, log.description)
            wanted = list(dict.fromkeys([*columns.required().values(),
                                         *(e for e in extra if e in names)]))
            table = pq.read_table(log.obj, columns=wanted)
            return table.to_pandas(date_as_object=False)
        frame = pd.read_csv(log.obj, dtype=str, keep_default_na=False, na_values=[""])
    except (OSError, EOFError, zlib.error, ValueError, pa.ArrowException, duckdb.Error) as exc:
        # EOFError and zlib.error: a truncated or corrupt .csv.gz
        if isinstance(exc, DataError):
            raise
        raise DataError(f"cannot read {log.description}: {exc}") from exc
    columns.check(frame.columns, log.description)
    return frame
