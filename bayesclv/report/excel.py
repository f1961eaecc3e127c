"""A report pack as one Excel workbook: an ``about`` sheet, then one sheet per table.

Each table sheet starts with the table's title and note, then the header (frozen) and the
rows. Numbers stay numbers (full precision) with a display format: thousands separators for
money, three decimals for small values, percentages for probabilities. A table longer than
a sheet continues on sheets ``key_2``, ``key_3``…, so nothing is cut.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from bayesclv.report.pack import ReportPack, ReportTable
from bayesclv.report.safe_text import is_formula_like

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet as Worksheet

__all__ = ["write_excel"]

HEADER_ROW = 4
"""Row of the column names (1-based): title, note and a blank row come first."""
SHEET_ROWS = 1_048_576
"""Excel's row limit per sheet."""


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
    book = Workbook(write_only=True)  # streams rows: memory stays flat for long tables
    _about(book.create_sheet("about"), pack)
    per_sheet = SHEET_ROWS - HEADER_ROW
    for table in pack.tables:
        flat = table.flat()
        starts = range(0, max(len(flat), 1), per_sheet)
        for part, start in enumerate(starts, start=1):
            name = table.key if part == 1 else f"{table.key}_{part}"
            title = table.title if len(starts) == 1 else (
                f"{table.title} (part {part} of {len(starts)})")
            _table_sheet(book.create_sheet(name), table, flat.iloc[start:start + per_sheet],
                         title)
    book.save(path)
    return path


def _styled(sheet: Worksheet, value: object, font: Font | None = None,
            number_format: str | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text is text: "=HYPERLINK(…)" must not become a formula
    if font is not None:
        cell.font = font
    if number_format is not None:
        cell.number_format = number_format
    return cell


def _about(sheet: Worksheet, pack: ReportPack) -> None:
    bold, red = Font(bold=True), Font(bold=True, color="C00000")
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 110
    sheet.append([_styled(sheet, pack.title, Font(bold=True, size=14))])
    sheet.append([])
    for warning in pack.warnings:
        sheet.append([_styled(sheet, "WARNING", red), _styled(sheet, warning, red)])
    if pack.warnings:
        sheet.append([])
    for label, value in pack.facts:
        sheet.append([_styled(sheet, label, bold), _text_safe(sheet, value)])
    sheet.append([])
    sheet.append([_styled(sheet, "sheets", bold)])
    for table in pack.tables:
        sheet.append([table.key, table.title])


def _table_sheet(sheet: Worksheet, table: ReportTable, rows: pd.DataFrame, title: str) -> None:
    formats = [_number_format(rows[c], c in table.percent) for c in rows.columns]
    for j, column in enumerate(rows.columns, start=1):
        sheet.column_dimensions[get_column_letter(j)].width = min(max(len(str(column)), 10) + 2,
                                                                  40)
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    sheet.append([_styled(sheet, title, Font(bold=True, size=12))])
    sheet.append([table.note])
    sheet.append([])
    bold = Font(bold=True)
    sheet.append([_styled(sheet, str(c), bold) for c in rows.columns])
    for values in rows.itertuples(index=False, name=None):
        sheet.append([
            _styled(sheet, _cell_value(v), number_format=f) if f else _text_safe(sheet, v)
            for v, f in zip(values, formats, strict=True)
        ])


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


def _text_safe(sheet: Worksheet, value: object) -> object:
    """A cell value; formula-like text becomes a string cell (bayesclv.report.safe_text)."""
    value = _cell_value(value)
    if isinstance(value, str) and is_formula_like(value):
        return _styled(sheet, value)
    return value


def _cell_value(value: object) -> object:
    """A value openpyxl can store: NaN and NA become empty cells, NumPy scalars Python ones."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value
