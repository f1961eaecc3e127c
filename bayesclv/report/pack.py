"""What a report pack holds: titled tables and figures, the facts behind them, and warnings.

A pack is data, independent of its format: :func:`bayesclv.report.write_report` renders the
same pack as CSV files, one Excel workbook and one self-contained HTML page, so the numbers
in all three are the same numbers.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from matplotlib.figure import Figure

from bayesclv.errors import DataError

__all__ = ["REPRODUCIBLE_TIME", "ReportFigure", "ReportPack", "ReportTable", "report_time"]

REPRODUCIBLE_TIME = "SOURCE_DATE_EPOCH"
"""Environment variable that fixes the time a pack is stamped with (seconds since
1970-01-01 UTC, the reproducible-builds convention): reports of the same fit and seed are
then byte-identical."""


def report_time() -> datetime:
    """The time a pack is stamped with: ``SOURCE_DATE_EPOCH`` when set, else now (local).

    Raises
    ------
    DataError
        When ``SOURCE_DATE_EPOCH`` is set but is not a whole number of seconds.
    """
    fixed = os.environ.get(REPRODUCIBLE_TIME)
    if fixed is None:
        return datetime.now().replace(microsecond=0)
    try:
        return datetime.fromtimestamp(int(fixed), UTC).replace(tzinfo=None)
    except (ValueError, OverflowError, OSError) as error:
        raise DataError(f"{REPRODUCIBLE_TIME}={fixed!r} must be whole seconds since "
                        "1970-01-01 UTC") from error

KEY = re.compile(r"[a-z][a-z0-9_]{0,27}")
"""A key names a file, an Excel sheet (at most 31 characters, room left for a part number)
and an HTML anchor."""


def _check_key(key: str, what: str) -> None:
    if not isinstance(key, str) or not KEY.fullmatch(key):
        raise DataError(
            f"{what} key {key!r} must be 1–28 characters of lower-case letters, digits and "
            "underscores, starting with a letter (it names a file and an Excel sheet)"
        )


@dataclass(frozen=True)
class ReportTable:
    """One table of a report.

    Attributes
    ----------
    key
        Short name: the CSV file's stem, the Excel sheet and the HTML anchor.
    title
        What the table shows, with its units and interval level.
    frame
        The numbers. A named index is written as leading columns; an unnamed default
        ``RangeIndex`` is dropped.
    note
        Definitions a reader needs (how a column is computed, what is excluded).
    percent
        Columns holding probabilities or shares, shown as percentages in Excel and HTML
        (the CSV keeps the fractions).
    """

    key: str
    title: str
    frame: pd.DataFrame
    note: str = ""
    percent: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_key(self.key, "table")
        unknown = [c for c in self.percent if c not in self.frame.columns]
        if unknown:
            raise DataError(f"table {self.key!r}: percent columns {unknown} are not in it")

    def flat(self) -> pd.DataFrame:
        """The frame with its (named) index as leading columns."""
        index = self.frame.index
        if list(index.names) == [None] and isinstance(index, pd.RangeIndex):
            return self.frame.reset_index(drop=True)
        return self.frame.reset_index()


@dataclass(frozen=True)
class ReportFigure:
    """One figure of a report.

    Attributes
    ----------
    key
        Short name: the PNG file's stem and the HTML anchor.
    title
        What the figure shows.
    figure
        The Matplotlib figure.
    note
        How to read it.
    """

    key: str
    title: str
    figure: Figure
    note: str = ""

    def __post_init__(self) -> None:
        _check_key(self.key, "figure")

    def png(self, dpi: int = 120) -> bytes:
        """The figure as PNG bytes."""
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
        return buffer.getvalue()


@dataclass(frozen=True)
class ReportPack:
    """A report: title, facts, warnings, tables and figures, in reading order.

    Attributes
    ----------
    title
        The report's heading.
    facts
        (label, value) lines saying what the numbers are: model, data window, settings,
        convergence, HDI level, currency.
    tables, figures
        In reading order; keys unique among the tables and among the figures.
    warnings
        Problems a reader must see before any number (an unconverged fit, a MAP point
        estimate without intervals); shown first in every format.
    generated
        When the pack was built (:func:`report_time`); the workbook's creation date. None
        stamps the workbook with :func:`report_time` when it is written.
    """

    title: str
    facts: tuple[tuple[str, str], ...]
    tables: tuple[ReportTable, ...]
    figures: tuple[ReportFigure, ...] = ()
    warnings: tuple[str, ...] = ()
    generated: datetime | None = None

    def __post_init__(self) -> None:
        for kind, items in (("table", self.tables), ("figure", self.figures)):
            keys = [item.key for item in items]
            repeated = sorted({k for k in keys if keys.count(k) > 1})
            if repeated:
                raise DataError(f"{kind} keys must be unique in a report; repeated: {repeated}")

    def table(self, key: str) -> ReportTable:
        """The table named ``key`` (its numbers are ``.frame``)."""
        for table in self.tables:
            if table.key == key:
                return table
        raise KeyError(f"no table {key!r} in the report; it has {[t.key for t in self.tables]}")
