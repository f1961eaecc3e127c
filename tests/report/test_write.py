"""One pack, three formats: the files are named predictably and hold the same numbers."""

import hashlib
import time
from datetime import datetime

import pandas as pd
import pytest
from hand_packs import small_pack

from bayesclv.errors import DataError, SpecError
from bayesclv.report import write_report
from bayesclv.report.pack import REPRODUCIBLE_TIME, report_time


def test_csv_keeps_full_precision_and_names_files_by_key(pack, tmp_path):
    paths = write_report(pack, tmp_path, name="shop", formats=("csv",))
    assert sorted(p.name for p in paths) == ["shop_curve.png", "shop_totals.csv",
                                             "shop_values.csv"]
    back = pd.read_csv(tmp_path / "shop_values.csv", dtype={"customer": str})
    want = pack.table("values").flat()
    pd.testing.assert_series_equal(back["value"], want["value"], check_exact=True)
    assert back["customer"].tolist() == want["customer"].tolist()


def test_all_formats_by_default_and_the_page_names_the_files_written(tmp_path):
    names = {p.name for p in write_report(small_pack(n_rows=60), tmp_path / "new", name="shop")}
    assert {"shop.xlsx", "shop.html", "shop_values.csv"} <= names
    page = (tmp_path / "new" / "shop.html").read_text()
    assert "the full table is shop_values.csv and the Excel sheet values" in page


def test_an_unknown_format_is_named(pack, tmp_path):
    with pytest.raises(SpecError, match="'pdf' is not one of csv, xlsx, html"):
        write_report(pack, tmp_path, formats=("html", "pdf"))
    assert not list(tmp_path.iterdir())


def test_reports_are_byte_identical_with_a_fixed_time_stamp(tmp_path, monkeypatch):
    monkeypatch.setenv(REPRODUCIBLE_TIME, "1700000000")
    digests = []
    for run in ("a", "b"):
        folder = tmp_path / run
        folder.mkdir()
        written = write_report(small_pack(), folder, name="pack")
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in written})
        time.sleep(1.1)   # a clock that leaked in would show a new second
    assert digests[0] == digests[1] and any(name.endswith(".xlsx") for name in digests[0])
    assert report_time() == datetime(2023, 11, 14, 22, 13, 20)


def test_a_bad_time_stamp_is_named(monkeypatch):
    monkeypatch.setenv(REPRODUCIBLE_TIME, "yesterday")
    with pytest.raises(DataError, match="SOURCE_DATE_EPOCH='yesterday' must be whole seconds"):
        report_time()
