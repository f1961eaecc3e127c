"""Formula injection: ids and labels that look like formulas stay text in CSV and Excel."""

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from bayesclv.report import write_report
from bayesclv.report.pack import ReportPack, ReportTable
from bayesclv.report.safe_text import TRIGGERS, escape, unescape

HOSTILE = ['=HYPERLINK("http://x","click")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd",
           "'=already", "plain", "0042"]


def hostile_pack() -> ReportPack:
    frame = pd.DataFrame({"segment": HOSTILE, "clv": np.arange(len(HOSTILE), dtype=float)},
                         index=pd.Index(HOSTILE, name="customer"))
    return ReportPack(title="t", facts=(("currency", "=EVIL()"),),
                      tables=(ReportTable("customers", "per customer", frame),),
                      figures=(), warnings=())


def test_csv_cells_that_look_like_formulas_get_an_apostrophe_and_read_back(tmp_path):
    write_report(hostile_pack(), tmp_path, name="x", formats=("csv",))
    back = pd.read_csv(tmp_path / "x_customers.csv", dtype=str, keep_default_na=False)
    for column in ("customer", "segment"):
        cells = back[column].tolist()
        assert all(not c.startswith(TRIGGERS) for c in cells)
        assert [unescape(c) for c in cells] == HOSTILE


def test_excel_stores_them_as_text_cells_unchanged(tmp_path):
    write_report(hostile_pack(), tmp_path, name="x", formats=("xlsx",))
    sheet = load_workbook(tmp_path / "x.xlsx")["customers"]
    rows = list(sheet.iter_rows(min_row=5, values_only=False))
    # A carriage return is stored as OOXML's escape _x000D_, which Excel reads back as "\r"
    # (openpyxl leaves the escape as it is).
    assert [row[0].value.replace("_x000D_", "\r") for row in rows] == HOSTILE
    assert all(row[0].data_type == "s" and row[1].data_type == "s" for row in rows)
    about = load_workbook(tmp_path / "x.xlsx")["about"]
    assert all(cell.data_type != "f" for row in about.iter_rows() for cell in row)


@given(st.text(max_size=12))
def test_escape_round_trips_any_text(text):
    assert unescape(escape(text)) == text
    assert not str(escape(text)).startswith(TRIGGERS)
