"""One pack, three formats: the files are named predictably and hold the same numbers."""

import pandas as pd
import pytest
from hand_packs import small_pack

from bayesclv.errors import SpecError
from bayesclv.report import write_report


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
