"""The bundled CDNOW data set (see ``README.md`` in this folder for its source and licence).

Functions
---------
cdnow_path
    Path of a bundled transaction log.
load_cdnow
    A transaction log as a DataFrame.
load_cdnow_summary_39wk
    The published 39-week calibration summary of the 2,357-customer sample.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Literal

import pandas as pd

from bayesclv.data import CustomerSummary
from bayesclv.errors import DataError

_LOGS = {
    "master": "cdnow_master_transactions.csv.gz",
    "sample": "cdnow_sample_transactions.csv.gz",
}
_SUMMARY_39WK = "cdnow_sample_summary_39wk.csv"
CALIBRATION_END_39WK = "1997-09-30"
SAMPLE_ID_WIDTH = 4


def _bundled(name: str) -> Path:
    return Path(str(files("bayesclv.datasets").joinpath(name)))


def cdnow_path(which: Literal["master", "sample"] = "master") -> Path:
    """Path of a bundled CDNOW transaction log (gzipped CSV).

    Parameters
    ----------
    which : {"master", "sample"}
        ``"master"``: all 23,570 customers (69,659 transactions); ``"sample"``: the
        1-in-10 sample of 2,357 customers used in the papers (6,919 transactions).

    Returns
    -------
    Path
        Readable by ``summarise`` directly (columns customer_id, date, n_items, amount).
    """
    if which not in _LOGS:
        raise DataError(f"which={which!r} is not a CDNOW log; use 'master' or 'sample'")
    return _bundled(_LOGS[which])


def load_cdnow(which: Literal["master", "sample"] = "master") -> pd.DataFrame:
    """A CDNOW transaction log.

    Parameters
    ----------
    which : {"master", "sample"}
        Which log (see :func:`cdnow_path`).

    Returns
    -------
    pd.DataFrame
        One row per transaction: ``customer_id`` (str, zero-padded), ``date``
        (datetime64), ``n_items`` (int64, CDs bought) and ``amount`` (float64, US dollars;
        some are 0.00).
    """
    log = pd.read_csv(
        cdnow_path(which),
        dtype={"customer_id": "str", "n_items": "int64", "amount": "float64"},
        parse_dates=["date"],
    )
    log["date"] = log["date"].astype("datetime64[ns]")
    return log


def load_cdnow_summary_39wk() -> CustomerSummary:
    """The published summary of the CDNOW sample: 39-week calibration ending 1997-09-30.

    Returns
    -------
    CustomerSummary
        2,357 customers in weeks, ``mean_spend`` = the file's ``zbar`` (NaN without repeat
        spend); ids zero-padded to four digits so they match ``load_cdnow("sample")``;
        ``first_purchase`` rebuilt from ``T``. ``first_amount`` is not in the file (NaN).
    """
    table = pd.read_csv(_bundled(_SUMMARY_39WK))
    table["customer_id"] = table.pop("ID").astype("str").str.zfill(SAMPLE_ID_WIDTH)
    return CustomerSummary.from_frame(
        table, time_unit="weeks", calibration_end=CALIBRATION_END_39WK
    )


__all__ = ["cdnow_path", "load_cdnow", "load_cdnow_summary_39wk"]
