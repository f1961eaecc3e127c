"""The workbook holds every number at full precision, formatted, and splits long tables."""

import math

import openpyxl
import pandas as pd
import pytest
from hand_packs import small_pack

from bayesclv.report import excel, write_excel


def sheet_rows(path, name):
    sheet = openpyxl.load_workbook(path)[name]
    return sheet, [list(row) for row in sheet.iter_rows(values_only=True)]


def test_values_round_trip_exactly_with_formats(pack, tmp_path):
    path = write_excel(pack, tmp_path / "r.xlsx")
    sheet, rows = sheet_rows(path, "values")
    assert rows[0][0] == "values per customer (USD; 90% HDI)" and rows[1][0] == "a note"
    assert rows[3] == ["customer", "n", "value", "p_positive", "label", "flag"]
    expected = pack.table("values").flat()
    for got, (_, want) in zip(rows[4:], expected.iterrows(), strict=True):
        assert got[0] == want["customer"] and got[1] == want["n"] and got[5] == want["flag"]
        assert got[2] is None if math.isnan(want["value"]) else got[2] == want["value"]
        assert got[3] == want["p_positive"]
    assert sheet.freeze_panes == "A5"
    assert sheet["D5"].number_format == "0.0%"  # p_positive: a probability
    assert sheet["C5"].number_format == "#,##0.00"  # value: up to 1,234.57
    assert sheet["B5"].number_format == "#,##0"  # n: integers


def test_the_about_sheet_leads_with_the_warnings(pack, tmp_path):
    _, rows = sheet_rows(write_excel(pack, tmp_path / "r.xlsx"), "about")
    assert rows[0][0] == "test <pack>"
    assert rows[2][:2] == ["WARNING", "the fit did NOT converge"]
    assert ["currency", "USD"] in [r[:2] for r in rows]
    assert ["values", "values per customer (USD; 90% HDI)"] in [r[:2] for r in rows]


def test_a_table_longer_than_a_sheet_continues_on_numbered_sheets(monkeypatch, tmp_path):
    monkeypatch.setattr(excel, "SHEET_ROWS", 10)  # 6 data rows per sheet
    pack = small_pack(n_rows=15)
    path = write_excel(pack, tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["about", "values", "values_2", "values_3", "totals"]
    parts = [pd.read_excel(path, sheet_name=name, header=3, dtype={"customer": str})
             for name in ("values", "values_2", "values_3")]
    assert [len(p) for p in parts] == [6, 6, 3]
    joined = pd.concat(parts, ignore_index=True)
    assert joined["customer"].tolist() == pack.table("values").flat()["customer"].tolist()
    assert book["values_2"]["A1"].value.endswith("(part 2 of 3)")


@pytest.mark.parametrize("value, expected", [(float("nan"), None), (pd.NA, None),
                                             (pd.Timestamp("1997-09-30"), "datetime")])
def test_cell_values_a_workbook_can_store(value, expected):
    got = excel._cell_value(value)
    assert (type(got).__name__ == expected) if expected == "datetime" else got is expected
