"""Bad input raises DataError naming the column, row, customer and value — in both engines."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from bayesclv.data import ColumnMap, summarise
from bayesclv.errors import DataError

from .conftest import master_csv_with_a_negative_amount

ENGINES = ["pandas", "duckdb"]
GOOD = [
    ("0001", "1997-01-01", "10.00"),
    ("0001", "1997-02-01", "5.00"),
    ("0002", "1997-01-03", "7.50"),
    ("0002", "1997-03-01", "2.00"),
]


def write_log(tmp_path, rows, header=("customer_id", "date", "amount"), suffix="csv"):
    path = tmp_path / f"log.{suffix}"
    frame = pd.DataFrame(rows, columns=list(header), dtype=object)
    if suffix == "csv":
        frame.to_csv(path, index=False, na_rep="")
    else:
        frame.to_parquet(path)
    return path


def with_row(index, row):
    rows = list(GOOD)
    rows.insert(index, row)
    return rows


def run(path, engine, **kwargs):
    kwargs.setdefault("calibration_end", "1997-02-15")
    return summarise(path, engine=engine, **kwargs)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (("0003", "1997-13-01", "1.00"),
         "column 'date', row 3 (customer '0003'): value '1997-13-01' cannot be parsed as a date"),
        (("0003", "yesterday", "1.00"),
         "column 'date', row 3 (customer '0003'): value 'yesterday'"),
        (("0003", None, "1.00"), "column 'date', row 3 (customer '0003'): missing date"),
        ((None, "1997-01-05", "1.00"), "column 'customer_id', row 3: missing customer id"),
        (("0003", "1997-01-05", "abc"),
         "column 'amount', row 3 (customer '0003'): value 'abc' is not a number"),
        (("0003", "1997-01-05", "12,50"),
         "column 'amount', row 3 (customer '0003'): value '12,50'"),
        (("0003", "1997-01-05", "-4.00"),
         "column 'amount', row 3 (customer '0003'): value '-4.00' is negative"),
        (("0003", "1997-01-05", None), "column 'amount', row 3 (customer '0003'): missing amount"),
        (("0003", "1997-01-05", "inf"),
         "column 'amount', row 3 (customer '0003'): value 'inf' is not a finite number"),
        # placeholders outside pandas' nanosecond range: refused by name in every engine
        # (pandas used to wrap 9999-12-31 to 1816-03-29, DuckDB to drop it as late)
        (("0003", "9999-12-31", "1.00"),
         "column 'date', row 3 (customer '0003'): value '9999-12-31' is outside the supported "
         "dates 1677-09-22 … 2262-04-11"),
        (("0003", "0001-01-01", "1.00"),
         "column 'date', row 3 (customer '0003'): value '0001-01-01' is outside"),
        (("0003", "2300-06-01T12:00:00", "1.00"),
         "column 'date', row 3 (customer '0003'): value '2300-06-01T12:00:00' is outside"),
    ],
)
def test_bad_row_in_csv(tmp_path, engine, row, expected):
    path = write_log(tmp_path, with_row(2, row))
    with pytest.raises(DataError) as info:
        run(path, engine)
    assert str(info.value).startswith(expected)


@pytest.mark.parametrize("engine", ENGINES)
def test_count_of_affected_rows_is_reported(tmp_path, engine):
    rows = with_row(1, ("0009", "1997-01-05", "-1")) + [("0009", "1997-01-06", "-2")]
    path = write_log(tmp_path, rows)
    with pytest.raises(DataError, match=r"row 2 .*value '-1' is negative.*2 rows affected"):
        run(path, engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_first_fault_kind_wins_in_the_same_order(tmp_path, engine):
    # a negative amount on row 1 and a missing customer on row 4: ids are checked first
    rows = [("0001", "1997-01-01", "-1"), *GOOD[1:], (None, "1997-01-02", "1")]
    path = write_log(tmp_path, rows)
    with pytest.raises(DataError, match="column 'customer_id', row 5: missing customer id"):
        run(path, engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_bad_row_deep_in_a_large_file_has_its_file_row_number(tmp_path, engine):
    path, customer = master_csv_with_a_negative_amount(tmp_path)
    with pytest.raises(DataError, match=f"row 60001 \\(customer '{customer}'\\): value '-3.0'"):
        summarise(path, calibration_end="1997-09-30", engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (ColumnMap(amount="amout"),
         "column 'amout' \\(the amount column\\) not found.*did you mean 'amount'\\?"),
        (ColumnMap(customer="customer"), "column 'customer' .*did you mean 'customer_id'\\?"),
        (ColumnMap(date="purchase_date"), "column 'purchase_date' .*not found"),
        (ColumnMap(segment="segmnt"), "column 'segmnt' \\(the segment column\\)"),
    ],
)
def test_missing_or_misspelt_column(tmp_path, engine, columns, expected):
    path = write_log(tmp_path, GOOD)
    with pytest.raises(DataError, match=expected):
        run(path, engine, columns=columns)


@pytest.mark.parametrize("engine", ENGINES)
def test_date_after_observation_end(tmp_path, engine):
    path = write_log(tmp_path, with_row(3, ("0005", "1997-04-02", "1.00")))
    with pytest.raises(
        DataError,
        match=r"column 'date', row 4 \(customer '0005'\): date 1997-04-02 is after "
        r"observation_end 1997-03-31",
    ):
        run(path, engine, observation_end="1997-03-31")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (dict(calibration_end="1996-12-31"),
         "calibration_end 1996-12-31 is before the first purchase in the data \\(1997-01-01\\)"),
        (dict(calibration_end="1997-03-02"),
         "calibration_end 1997-03-02 is after the last date in the data \\(1997-03-01\\)"),
        (dict(calibration_end="1997-02-01", holdout_end="1997-04-01"),
         "holdout_end 1997-04-01 is after the last date in the data"),
        (dict(calibration_end="1997-02-01", holdout_end="1997-05-01",
              observation_end="1997-04-30"),
         "holdout_end 1997-05-01 is after observation_end \\(1997-04-30\\)"),
    ],
)
def test_calibration_window_outside_the_data(tmp_path, engine, kwargs, expected):
    path = write_log(tmp_path, GOOD)
    with pytest.raises(DataError, match=expected):
        run(path, engine, **kwargs)


def test_observation_end_extends_coverage(tmp_path):
    path = write_log(tmp_path, GOOD)
    summary = run(path, "duckdb", calibration_end="1997-03-31", observation_end="1997-03-31")
    assert summary.frame.loc["0002", "T"] == pytest.approx(87 / 7)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (dict(holdout_end="1997-02-15"), "holdout_end 1997-02-15 must be after calibration_end"),
        (dict(holdout_end="1997-02-01"), "must be after calibration_end 1997-02-15"),
        (dict(time_unit="months"),
         "time_unit='months' is not supported; use one of 'weeks', 'days'"),
        (dict(engine="polars"), "engine='polars' is not supported"),
        (dict(calibration_end="30/09/1997x"), "calibration_end='30/09/1997x' is not a date"),
        (dict(calibration_end=None), "calibration_end=None is not a date"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, expected):
    path = write_log(tmp_path, GOOD)
    kwargs = {"calibration_end": "1997-02-15", **kwargs}
    with pytest.raises(DataError, match=expected):
        summarise(path, **kwargs)


@pytest.mark.parametrize("engine", ENGINES)
def test_empty_log(tmp_path, engine):
    path = write_log(tmp_path, [])
    with pytest.raises(DataError, match="the transaction log has no rows"):
        run(path, engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_segment_not_fixed_per_customer(tmp_path, engine):
    rows = [(*r, "web" if i != 1 else "store") for i, r in enumerate(GOOD)]
    path = write_log(tmp_path, rows, header=("customer_id", "date", "amount", "channel"))
    with pytest.raises(
        DataError,
        match=r"column 'channel', customer '0001': more than one segment label \('store', 'web'\)",
    ):
        run(path, engine, columns=ColumnMap(segment="channel"))


@pytest.mark.parametrize("engine", ENGINES)
def test_missing_segment_label(tmp_path, engine):
    rows = [(*r, None if i == 2 else "web") for i, r in enumerate(GOOD)]
    path = write_log(tmp_path, rows, header=("customer_id", "date", "amount", "channel"))
    with pytest.raises(
        DataError, match=r"column 'channel', row 3 \(customer '0002'\): missing segment label"
    ):
        run(path, engine, columns=ColumnMap(segment="channel"))


def typed_frame():
    return pd.DataFrame(
        {
            "customer_id": ["1", "1", "2"],
            "date": pd.to_datetime(["1997-01-01", "1997-02-01", "1997-01-05"]),
            "amount": [1.0, 2.0, 3.0],
        }
    )


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (dict(amount=[1.0, np.nan, 3.0]), "column 'amount', row 2 (customer '1'): missing amount"),
        (dict(amount=[1.0, -np.inf, 3.0]), "column 'amount', row 2 (customer '1'): value -inf"),
        (dict(amount=[1.0, 2.0, -3.0]),
         "column 'amount', row 3 (customer '2'): value -3.0 is negative"),
        (dict(date=pd.to_datetime(["1997-01-01", None, "1997-01-05"])),
         "column 'date', row 2 (customer '1'): missing date"),
        (dict(date=[19970101, 19970201, 19970105]), "column 'date' has type"),
        (dict(amount=[True, False, True]), "column 'amount' has type"),
        (dict(customer_id=["1", None, "2"]), "column 'customer_id', row 2: missing customer id"),
    ],
)
def test_typed_parquet_and_frame_sources(tmp_path, engine, change, expected):
    frame = typed_frame().assign(**change)
    path = tmp_path / "log.parquet"
    frame.to_parquet(path)
    with pytest.raises(DataError) as info:
        summarise(path, calibration_end="1997-01-31", engine=engine)
    assert str(info.value).startswith(expected)
    source = frame if engine == "pandas" else duckdb.connect().from_df(frame)
    with pytest.raises(DataError) as info:
        summarise(source, calibration_end="1997-01-31", engine=engine)
    assert str(info.value).startswith(expected)


def test_sources_that_cannot_be_read(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        summarise(tmp_path / "nope.csv", calibration_end="1997-01-31")
    odd = tmp_path / "log.xlsx"
    odd.write_text("x")
    with pytest.raises(DataError, match="cannot tell the format"):
        summarise(odd, calibration_end="1997-01-31")
    with pytest.raises(DataError, match="source must be"):
        summarise([1, 2], calibration_end="1997-01-31")
    with pytest.raises(DataError, match="engine='duckdb' reads files"):
        summarise(typed_frame(), calibration_end="1997-01-31", engine="duckdb")


@pytest.mark.parametrize("engine", ENGINES)
def test_malformed_csv_is_a_data_error(tmp_path, engine):
    path = tmp_path / "log.csv"
    path.write_text('customer_id,date,amount\n1,1997-01-01,1\n2,"1997-01-02,3,4,5,6\n')
    with pytest.raises(DataError):
        run(path, engine, calibration_end="1997-01-01")
