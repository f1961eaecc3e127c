"""Finance report packs: the numbers of a fit and a campaign plan as CSV, Excel and HTML.

:func:`build_report` computes every table once (customer equity, value per period,
per-customer CLV, churn, holdout check, action rankings, value of information, campaign plan
and budget curve), each titled with its currency and HDI level, and collects the facts a
reader needs and the warnings they must see first (an unconverged or MAP fit).
:func:`write_report` renders that one pack in any of three formats, so the numbers agree
across them. Details: ``docs/report.md``.

>>> pack = build_report(fit, summary)  # doctest: +SKIP
>>> write_report(pack, "out", name="cdnow")  # doctest: +SKIP
"""

from bayesclv.report.build import (
    Section,
    build_report,
    decision_section,
    pack_sections,
    value_section,
)
from bayesclv.report.excel import write_excel
from bayesclv.report.html import format_number, write_html
from bayesclv.report.pack import ReportFigure, ReportPack, ReportTable
from bayesclv.report.write import FORMATS, check_formats, write_csv, write_report

__all__ = [
    "FORMATS",
    "ReportFigure",
    "ReportPack",
    "ReportTable",
    "Section",
    "build_report",
    "check_formats",
    "decision_section",
    "format_number",
    "pack_sections",
    "value_section",
    "write_csv",
    "write_excel",
    "write_html",
    "write_report",
]
