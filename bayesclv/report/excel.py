"""A report pack as one Excel workbook: an ``about`` sheet, then one sheet per table.

Each table sheet starts with the table's title and note, then the header (frozen) and the
rows. Numbers stay numbers (full precision) with a display format: thousands separators for
money, three decimals for small values, percentages for probabilities. Text is always
written as text, so an id such as ``=HYPERLINK(…)`` can never become a formula. A table
longer than a sheet continues on sheets ``key_2``, ``key_3``…, so nothing is cut.

Written with XlsxWriter in its constant-memory mode (rows stream to disk): CDNOW master's
pack (about 1.1 million cells) takes a few seconds, where openpyxl's write-only cells took 25.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from bayesclv.report.pack import ReportPack, ReportTable, report_time

__all__ = ["write_excel"]

HEADER_ROW = 4
"""Row of the column names (1-based): title, note and a blank row come first."""
SHEET_ROWS = 1_048_576
"""Excel's row limit per sheet."""
DATE_FORMAT = "yyyy-mm-dd"

Writer = Callable[[int, int, object], None]


def write_excel(pack: ReportPack, path: str | Path) -> Path:
    """Write ``pack`` as an ``.xlsx`` workbook.

    Parameters
    ----------
    pack
        The report.
    path
        The workbook to write (overwritten).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    book = xlsxwriter.Workbook(str(path), {
        "constant_memory": True,  # streams rows: memory stays flat for long tables
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
    })
    # the creation date is written into the file: one time stamp, fixed by SOURCE_DATE_EPOCH
    book.set_properties({"created": pack.generated or report_time()})
    styles = _Styles(book)
    try:
        _about(book.add_worksheet("about"), pack, styles)
        per_sheet = SHEET_ROWS - HEADER_ROW
        for table in pack.tables:
            flat = table.flat()
            starts = range(0, max(len(flat), 1), per_sheet)
            for part, start in enumerate(starts, start=1):
                name = table.key if part == 1 else f"{table.key}_{part}"
                title = table.title if len(starts) == 1 else (
                    f"{table.title} (part {part} of {len(starts)})")
                _table_sheet(book.add_worksheet(name), table,
                             flat.iloc[start:start + per_sheet], title, styles)
    finally:
        book.close()
    return path


class _Styles:
    """The workbook's cell formats, created once each."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self._book = book
        self._cache: dict[tuple[tuple[str, object], ...], Format] = {}

    def get(self, **properties: object) -> Format:
        key = tuple(sorted(properties.items()))
        if key not in self._cache:
            self._cache[key] = self._book.add_format(dict(properties))
        return self._cache[key]


def _about(sheet: Worksheet, pack: ReportPack, styles: _Styles) -> None:
    bold, red = styles.get(bold=True), styles.get(bold=True, font_color="#C00000")
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 110)
    write = _cell_writer(sheet, styles, None)
    sheet.write_string(0, 0, pack.title, styles.get(bold=True, font_size=14))
    row = 2
    for warning in pack.warnings:
        sheet.write_string(row, 0, "WARNING", red)
        sheet.write_string(row, 1, str(warning), red)
        row += 1
    if pack.warnings:
        row += 1
    for label, value in pack.facts:
        sheet.write_string(row, 0, str(label), bold)
        write(row, 1, value)
        row += 1
    sheet.write_string(row + 1, 0, "sheets", bold)
    for offset, table in enumerate(pack.tables, start=row + 2):
        sheet.write_string(offset, 0, table.key)
        sheet.write_string(offset, 1, table.title)


def _table_sheet(sheet: Worksheet, table: ReportTable, rows: pd.DataFrame, title: str,
                 styles: _Styles) -> None:
    for j, column in enumerate(rows.columns):
        sheet.set_column(j, j, min(max(len(str(column)), 10) + 2, 40))
    sheet.freeze_panes(HEADER_ROW, 0)
    sheet.write_string(0, 0, title, styles.get(bold=True, font_size=12))
    if table.note:
        sheet.write_string(1, 0, table.note)
    bold = styles.get(bold=True)
    for j, column in enumerate(rows.columns):
        sheet.write_string(HEADER_ROW - 1, j, str(column), bold)
    writers = [_cell_writer(sheet, styles, _number_format(rows[c], c in table.percent))
               for c in rows.columns]
    for i, values in enumerate(rows.itertuples(index=False, name=None), start=HEADER_ROW):
        for j, (write, value) in enumerate(zip(writers, values, strict=True)):
            write(i, j, value)


def _cell_writer(sheet: Worksheet, styles: _Styles, number_format: str | None) -> Writer:
    """A function writing one value of a column: numbers with the column's format, text as
    text, dates as dates, missing values as empty cells."""
    numbers = styles.get(num_format=number_format) if number_format else None
    dates = styles.get(num_format=DATE_FORMAT)

    def write(row: int, col: int, value: object) -> None:
        value = _cell_value(value)
        if value is None:
            return
        if isinstance(value, bool):
            sheet.write_boolean(row, col, value)
        elif isinstance(value, (int, float)):
            if math.isfinite(value):
                sheet.write_number(row, col, value, numbers)
            else:
                sheet.write_string(row, col, str(value))
        elif isinstance(value, dt.datetime):
            sheet.write_datetime(row, col, value, dates)
        else:
            sheet.write_string(row, col, str(value))

    return write


def _number_format(values: pd.Series, percent: bool) -> str | None:
    if percent:
        return "0.0%"
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return None
    if pd.api.types.is_integer_dtype(values):
        return "#,##0"
    finite = values.to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    return "#,##0.00" if finite.size and np.abs(finite).max() >= 100 else "0.000"


def _cell_value(value: object) -> object:
    """A value a cell can store: NaN and NA become empty cells, NumPy scalars Python ones."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
        return None if isinstance(value, float) and math.isnan(value) else value
    return value
