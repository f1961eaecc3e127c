"""Report packs check their keys and columns, and flatten a named index into columns."""

import pandas as pd
import pytest
from hand_packs import small_pack

from bayesclv.errors import DataError
from bayesclv.report import ReportPack, ReportTable


@pytest.mark.parametrize("key", ["Customer Equity", "1st", "", "a" * 29, "clv-table"])
def test_a_bad_key_is_named(key):
    with pytest.raises(DataError, match="table key") as caught:
        ReportTable(key, "t", pd.DataFrame({"a": [1]}))
    assert repr(key) in str(caught.value)


def test_a_percent_column_must_exist():
    with pytest.raises(DataError, match=r"'totals'.*\['share'\]"):
        ReportTable("totals", "t", pd.DataFrame({"a": [1]}), percent=("share",))


def test_repeated_table_keys_are_refused():
    table = ReportTable("totals", "t", pd.DataFrame({"a": [1]}))
    with pytest.raises(DataError, match=r"repeated: \['totals'\]"):
        ReportPack("p", (), (table, table))


def test_flat_keeps_a_named_index_and_drops_a_default_one(pack):
    values = pack.table("values").flat()
    assert list(values.columns[:2]) == ["customer", "n"]
    assert values["customer"].tolist() == ["0000", "0001", "0002", "0003", "0004"]
    assert list(pack.table("totals").flat().columns) == ["total"]


def test_an_unknown_table_lists_the_known_ones():
    with pytest.raises(KeyError, match=r"'nope'.*\['values', 'totals'\]"):
        small_pack().table("nope")
