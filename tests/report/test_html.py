"""The HTML page is self-contained, warns first, escapes text and states truncation."""

import base64
import re

import numpy as np
import pytest
from hand_packs import small_pack

from bayesclv.report import format_number, write_html


@pytest.mark.parametrize(
    "value, percent, text",
    [(1234.5, False, "1,234.50"), (0.12345, False, "0.123"), (-0.5, False, "-0.500"),
     (12, False, "12"), (12000, False, "12,000"), (np.int64(2357), False, "2,357"),
     (float("nan"), False, "–"), (None, False, "–"), (0.1234, True, "12.3%"),
     (np.True_, False, "True"), ("web", False, "web"), (5000.0, False, "5,000")],
)
def test_numbers_read_like_a_finance_table(value, percent, text):
    assert format_number(value, percent) == text


def test_page_warns_first_escapes_and_embeds_the_figure(pack, tmp_path):
    page = write_html(pack, tmp_path / "r.html").read_text()
    assert page.index("WARNING: the fit did NOT converge") < page.index('id="table-values"')
    assert "<title>test &lt;pack&gt;</title>" in page and "<pack>" not in page
    assert "<td>1,234.57</td>" in page and "<td>50.0%</td>" in page and "<td>–</td>" in page
    png = re.search(r'src="data:image/png;base64,([^"]+)"', page).group(1)
    assert base64.b64decode(png)[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r'(src|href)="(?!data:|#)', page)  # nothing outside the file


def test_long_tables_say_how_much_is_shown(tmp_path):
    page = write_html(small_pack(n_rows=7), tmp_path / "r.html", max_rows=3).read_text()
    values = page[page.index('id="table-values"'):page.index('id="table-totals"')]
    assert values.count("<tr>") == 4  # header + 3 rows
    assert "first 3 of 7 rows; the full table is values.csv and the Excel sheet values" in values
    assert ">1 row<" in page  # the one-row table, in the singular
