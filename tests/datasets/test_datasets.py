"""The bundled CDNOW files load with the documented shapes and types."""

from __future__ import annotations

import pandas as pd
import pytest

from bayesclv.datasets import cdnow_path, load_cdnow, load_cdnow_summary_39wk
from bayesclv.errors import DataError


@pytest.mark.parametrize(("which", "rows", "customers"), [("master", 69659, 23570),
                                                          ("sample", 6919, 2357)])
def test_load_cdnow(which, rows, customers):
    log = load_cdnow(which)
    assert len(log) == rows
    assert log["customer_id"].nunique() == customers
    assert list(log.columns) == ["customer_id", "date", "n_items", "amount"]
    assert pd.api.types.is_string_dtype(log["customer_id"])
    assert str(log["date"].dtype) == "datetime64[ns]"
    assert log["date"].min() == pd.Timestamp("1997-01-01")
    assert log["date"].max() == pd.Timestamp("1998-06-30")


def test_master_has_80_zero_amounts_and_padded_ids():
    log = load_cdnow("master")
    assert int((log["amount"] == 0).sum()) == 80
    assert log["customer_id"].iloc[0] == "00001"


def test_cdnow_path_is_inside_the_package():
    path = cdnow_path("sample")
    assert path.exists() and path.parent.name == "datasets"
    with pytest.raises(DataError, match="which='full'"):
        cdnow_path("full")


def test_published_summary():
    summary = load_cdnow_summary_39wk()
    frame = summary.frame
    assert summary.n_customers == 2357
    assert summary.time_unit == "weeks"
    assert frame.index[0] == "0001"
    assert frame.loc["0001", ["x", "t_x", "T"]].tolist() == [2, 30.43, 38.86]
    assert frame.loc["0001", "mean_spend"] == 22.35
    assert int(frame["x"].sum()) == 2457
    assert int((frame["x"] > 0).sum()) == 946
    assert frame["first_purchase"].min() == pd.Timestamp("1997-01-01")
    ids = set(load_cdnow("sample")["customer_id"])
    assert set(frame.index) == ids
