"""A report pack as one self-contained HTML page: no external files, styles or scripts.

Warnings first, then the facts, a table of contents, each table (its first ``max_rows`` rows,
with the full count stated) and each figure embedded as a PNG. Numbers are shown with
thousands separators, small values with three decimals, probabilities as percentages.
"""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

import numpy as np
import pandas as pd

from bayesclv.report.pack import ReportFigure, ReportPack, ReportTable

__all__ = ["format_number", "write_html"]

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px;
       color: #222; line-height: 1.4; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2.2rem; }
.warning { background: #fde8e8; border-left: 6px solid #c00000; padding: .6rem 1rem;
           font-weight: bold; color: #8b0000; margin: .5rem 0; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #ddd; }
table.data td { text-align: right; font-variant-numeric: tabular-nums; }
table.data th { background: #f3f3f3; position: sticky; top: 0; }
table.facts th { text-align: left; vertical-align: top; white-space: nowrap; }
.note, .rows { color: #555; font-size: .85rem; }
.scroll { overflow-x: auto; }
img { max-width: 100%; }
"""


def format_number(value: object, percent: bool = False) -> str:
    """How a cell reads: 1,234.57 for large values, 0.123 for small ones, 12.3 % for shares.

    Missing values show as an en dash.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        number = float(value)
        if math.isnan(number):
            return "–"
        if percent:
            return f"{number:.1%}"
        if isinstance(value, int) or (number.is_integer() and abs(number) >= 1000):
            return f"{number:,.0f}"
        return f"{number:,.2f}" if abs(number) >= 100 else f"{number:.3f}"
    return str(value)


def write_html(pack: ReportPack, path: str | Path, *, max_rows: int = 50,
               csv_prefix: str = "") -> Path:
    """Write ``pack`` as one HTML file.

    Parameters
    ----------
    pack
        The report.
    path
        The file to write (overwritten).
    max_rows
        Rows shown per table; longer tables say how many rows they have and where the full
        table is (the CSV file and the Excel sheet of the same name).
    csv_prefix
        Prefix of the CSV files' names (``write_report`` uses ``"{name}_"``), so the page
        names the files as they are written.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(pack.title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(pack.title)}</h1>",
        *(f'<div class="warning">WARNING: {html.escape(w)}</div>' for w in pack.warnings),
        '<table class="facts">',
        *(f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
          for label, value in pack.facts),
        "</table>", "<h2>Contents</h2><ul>",
        *(f'<li><a href="#table-{t.key}">{html.escape(t.title)}</a></li>' for t in pack.tables),
        *(f'<li><a href="#figure-{f.key}">{html.escape(f.title)}</a></li>' for f in pack.figures),
        "</ul>",
        *(_table(t, max_rows, csv_prefix) for t in pack.tables),
        *(_figure(f) for f in pack.figures),
        "</body></html>",
    ]
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _table(table: ReportTable, max_rows: int, csv_prefix: str) -> str:
    flat = table.flat()
    shown = flat.head(max_rows)
    header = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    percent = [c in table.percent for c in shown.columns]
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(format_number(v, p))}</td>"
                         for v, p in zip(row, percent, strict=True)) + "</tr>"
        for row in shown.itertuples(index=False, name=None)
    )
    rows = (f"{len(flat):,} row{'' if len(flat) == 1 else 's'}" if len(flat) <= max_rows else
            f"first {max_rows:,} of {len(flat):,} rows; the full table is "
            f"{csv_prefix}{table.key}.csv and the Excel sheet {table.key}")
    note = f'<p class="note">{html.escape(table.note)}</p>' if table.note else ""
    return (f'<h2 id="table-{table.key}">{html.escape(table.title)}</h2>{note}'
            f'<div class="scroll"><table class="data"><thead><tr>{header}</tr></thead>'
            f'<tbody>{body}</tbody></table></div><p class="rows">{rows}</p>')


def _figure(figure: ReportFigure) -> str:
    data = base64.b64encode(figure.png()).decode("ascii")
    note = f'<p class="note">{html.escape(figure.note)}</p>' if figure.note else ""
    return (f'<h2 id="figure-{figure.key}">{html.escape(figure.title)}</h2>'
            f'<figure><img alt="{html.escape(figure.title)}" '
            f'src="data:image/png;base64,{data}"></figure>{note}')
