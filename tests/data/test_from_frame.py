"""CustomerSummary.from_frame: validating an already summarised table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayesclv.data import CustomerSummary
from bayesclv.errors import DataError


def table(**change):
    base = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "x": [2, 0, 1], "t_x": [30.0, 0.0, 5.0],
         "T": [38.0, 20.0, 10.0], "zbar": [20.0, 0.0, 0.0]}
    )
    return base.assign(**change)


def test_defaults_from_zbar():
    summary = CustomerSummary.from_frame(table())
    frame = summary.frame
    assert summary.segments == ("all",)
    assert frame["n_spend"].tolist() == [2, 0, 0]  # zbar 0 means no repeat spend
    assert frame.loc["a", "mean_spend"] == 20.0
    assert frame[["mean_spend"]].loc[["b", "c"]].isna().all().all()
    assert frame["first_amount"].isna().all()
    assert frame["first_purchase"].isna().all()


def test_first_purchase_rebuilt_from_calibration_end():
    summary = CustomerSummary.from_frame(table(), calibration_end="1997-09-30")
    assert summary.frame.loc["a", "first_purchase"] == pd.Timestamp("1997-01-07")  # 266 days
    assert summary.calibration_end == pd.Timestamp("1997-09-30")


def test_segment_column_and_order():
    summary = CustomerSummary.from_frame(
        table(region=["n", "s", "n"]), segment="region", segment_order=["s", "n"]
    )
    assert summary.segments == ("s", "n")
    np.testing.assert_array_equal(summary.segment_codes, [1, 0, 1])


def test_customer_in_index():
    summary = CustomerSummary.from_frame(table().set_index("customer_id"))
    assert list(summary.frame.index) == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (dict(x=[2, -1, 1]), "column 'x', row 2 (customer 'b'): value -1 must be a non-negative"),
        (dict(x=[2, 0, 1.5]), "column 'x', row 3 (customer 'c'): value 1.5 must be a non-negative"),
        (dict(t_x=[40.0, 0.0, 5.0]),
         "column 't_x', row 1 (customer 'a'): value 40.0 exceeds T = 38"),
        (dict(t_x=[30.0, 1.0, 5.0]),
         "column 't_x', row 2 (customer 'b'): value 1.0 must be 0 when x is 0"),
        (dict(T=[38.0, -1.0, 10.0]), "column 'T', row 2 (customer 'b'): value -1.0 must be >= 0"),
        (dict(T=[38.0, None, 10.0]), "column 'T', row 2 (customer 'b'): value is missing"),
        (dict(t_x=["30", "x", "5"]), "column 't_x', row 2 (customer 'b'): value 'x' is not a"),
        (dict(zbar=[-2.0, 0.0, 0.0]), "column 'zbar', row 1 (customer 'a'): value -2.0 must be"),
        (dict(customer_id=["a", "a", "c"]), "column 'customer_id', row 2 (customer 'a')"),
        (dict(n_spend=[3, 0, 0]), "column 'n_spend', row 1 (customer 'a'): value 3 must be"),
    ],
)
def test_invalid_values_name_row_customer_column_value(change, expected):
    with pytest.raises(DataError) as info:
        CustomerSummary.from_frame(table(**change))
    assert str(info.value).startswith(expected)


def test_missing_column_suggests_the_closest():
    with pytest.raises(DataError, match="column 'T' .*did you mean 't'"):
        CustomerSummary.from_frame(table().rename(columns={"T": "t"}))


def test_empty_table():
    with pytest.raises(DataError, match="has no rows"):
        CustomerSummary.from_frame(table().iloc[:0])


def test_unknown_time_unit():
    with pytest.raises(DataError, match="time_unit='fortnights'"):
        CustomerSummary.from_frame(table(), time_unit="fortnights")
