"""Write a report pack in the formats finance asks for: CSV files, Excel, HTML."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bayesclv.errors import SpecError
from bayesclv.report.excel import write_excel
from bayesclv.report.html import write_html
from bayesclv.report.pack import ReportPack
from bayesclv.report.safe_text import safe_frame

__all__ = ["FORMATS", "check_formats", "write_csv", "write_report"]

FORMATS = ("csv", "xlsx", "html")


def check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """``formats`` as a tuple, or a SpecError naming the first unknown one."""
    for name in formats:
        if name not in FORMATS:
            raise SpecError(f"report format {name!r} is not one of {', '.join(FORMATS)}")
    return tuple(formats)


def write_csv(pack: ReportPack, folder: str | Path, *, prefix: str = "") -> list[Path]:
    """Each table as ``{prefix}{key}.csv`` and each figure as ``{prefix}{key}.png``.

    The CSV files keep full precision and fractions (no display formatting); a table's
    named index comes first as columns. Text that a spreadsheet would run as a formula gets
    a leading apostrophe (:mod:`bayesclv.report.safe_text`).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for table in pack.tables:
        path = folder / f"{prefix}{table.key}.csv"
        # RFC 4180 line ends, so a text cell holding a carriage return is quoted too
        safe_frame(table.flat()).to_csv(path, index=False, lineterminator="\r\n")
        paths.append(path)
    for figure in pack.figures:
        path = folder / f"{prefix}{figure.key}.png"
        path.write_bytes(figure.png())
        paths.append(path)
    return paths


def write_report(
    pack: ReportPack,
    folder: str | Path,
    *,
    name: str = "report",
    formats: Sequence[str] = FORMATS,
    max_html_rows: int = 50,
) -> list[Path]:
    """Write ``pack`` into ``folder`` in each of ``formats``.

    Parameters
    ----------
    pack
        The report.
    folder
        Output folder (created if missing).
    name
        Stem of the workbook and the page (``{name}.xlsx``, ``{name}.html``) and prefix of
        the CSV and PNG files (``{name}_{key}.csv``).
    formats
        Any of ``"csv"``, ``"xlsx"``, ``"html"``.
    max_html_rows
        Rows per table on the HTML page (the CSV and Excel files hold every row).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    SpecError
        If a format is not one of ``FORMATS``.
    """
    check_formats(formats)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    if "csv" in formats:
        paths += write_csv(pack, folder, prefix=f"{name}_")
    if "xlsx" in formats:
        paths.append(write_excel(pack, folder / f"{name}.xlsx"))
    if "html" in formats:
        paths.append(write_html(pack, folder / f"{name}.html", max_rows=max_html_rows,
                               csv_prefix=f"{name}_"))
    return paths
