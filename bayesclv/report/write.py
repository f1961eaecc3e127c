"""Write a report pack in the formats finance asks for: CSV files, Excel, HTML."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bayesclv.errors import SpecError
from bayesclv.outputs import atomic_write, check_free
from bayesclv.report.excel import write_excel
from bayesclv.report.html import write_html
from bayesclv.report.pack import ReportPack
from bayesclv.report.safe_text import safe_frame

__all__ = ["FORMATS", "check_formats", "report_paths", "write_csv", "write_report"]

FORMATS = ("csv", "xlsx", "html")


def check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """``formats`` as a tuple, or a SpecError naming the first unknown one."""
    for name in formats:
        if name not in FORMATS:
            raise SpecError(f"report format {name!r} is not one of {', '.join(FORMATS)}")
    return tuple(formats)


def write_csv(pack: ReportPack, folder: str | Path, *, prefix: str = "",
              overwrite: bool = False) -> list[Path]:
    """Each table as ``{prefix}{key}.csv`` and each figure as ``{prefix}{key}.png``.

    The CSV files keep full precision and fractions (no display formatting); a table's
    named index comes first as columns. Text that a spreadsheet would run as a formula gets
    a leading apostrophe (:mod:`bayesclv.report.safe_text`). Each file is written whole or
    not at all, and existing files are kept unless ``overwrite`` (:mod:`bayesclv.outputs`).
    """
    folder = Path(folder)
    tables = {folder / f"{prefix}{table.key}.csv": table for table in pack.tables}
    figures = {folder / f"{prefix}{figure.key}.png": figure for figure in pack.figures}
    check_free([*tables, *figures], overwrite=overwrite)
    for path, table in tables.items():
        frame = safe_frame(table.flat())
        # RFC 4180 line ends, so a text cell holding a carriage return is quoted too
        atomic_write(path, lambda tmp, f=frame: f.to_csv(tmp, index=False, lineterminator="\r\n"),
                     overwrite=overwrite)
    for path, figure in figures.items():
        atomic_write(path, lambda tmp, f=figure: tmp.write_bytes(f.png()), overwrite=overwrite)
    return [*tables, *figures]


def report_paths(pack: ReportPack, folder: str | Path, *, name: str = "report",
                 formats: Sequence[str] = FORMATS) -> list[Path]:
    """The files :func:`write_report` would write, in its order."""
    folder = Path(folder)
    paths = []
    if "csv" in formats:
        paths += [folder / f"{name}_{t.key}.csv" for t in pack.tables]
        paths += [folder / f"{name}_{f.key}.png" for f in pack.figures]
    if "xlsx" in formats:
        paths.append(folder / f"{name}.xlsx")
    if "html" in formats:
        paths.append(folder / f"{name}.html")
    return paths


def write_report(
    pack: ReportPack,
    folder: str | Path,
    *,
    name: str = "report",
    formats: Sequence[str] = FORMATS,
    max_html_rows: int = 50,
    overwrite: bool = False,
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
    overwrite
        Replace files of an earlier report of the same name; by default an existing file is
        an error, raised before anything is written.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    SpecError
        If a format is not one of ``FORMATS``.
    OutputError
        If a file exists (and not ``overwrite``) or cannot be written. Every file is
        written to a temporary name and renamed into place when complete.
    """
    check_formats(formats)
    folder = Path(folder)
    check_free(report_paths(pack, folder, name=name, formats=formats), overwrite=overwrite)
    paths = []
    if "csv" in formats:
        paths += write_csv(pack, folder, prefix=f"{name}_", overwrite=overwrite)
    if "xlsx" in formats:
        paths.append(atomic_write(folder / f"{name}.xlsx", lambda tmp: write_excel(pack, tmp),
                                  overwrite=overwrite))
    if "html" in formats:
        paths.append(atomic_write(
            folder / f"{name}.html",
            lambda tmp: write_html(pack, tmp, max_rows=max_html_rows, csv_prefix=f"{name}_"),
            overwrite=overwrite))
    return paths
