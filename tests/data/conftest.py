"""Shared fixtures for the data-layer tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayesclv.data import CustomerSummary, summarise
from bayesclv.datasets import cdnow_path, load_cdnow

CAL_END = "1997-09-30"
HOLDOUT_END = "1998-06-30"


@pytest.fixture(scope="session")
def master_log() -> pd.DataFrame:
    return load_cdnow("master")


@pytest.fixture(scope="session")
def master_summary():
    """CDNOW master, DuckDB engine straight from the bundled CSV, with a holdout."""
    return summarise(cdnow_path("master"), calibration_end=CAL_END, holdout_end=HOLDOUT_END)


def assert_matches_published_39wk(summary: CustomerSummary) -> None:
    """The CDNOW sample's summary against the published 39-week file (x, t_x, T, zbar)."""
    published = pd.read_csv(cdnow_path("sample").with_name("cdnow_sample_summary_39wk.csv"))
    published.index = published["ID"].astype(str).str.zfill(4)
    ours = summary.frame.loc[published.index]
    assert summary.n_customers == 2357
    np.testing.assert_array_equal(ours["x"].to_numpy(), published["x"].to_numpy())
    # the file rounds to two decimals, so 0.005 is the largest honest difference
    assert np.abs(ours["t_x"] - published["t_x"]).max() < 0.01
    assert np.abs(ours["T"] - published["T"]).max() < 0.01
    assert np.abs(ours["mean_spend"].fillna(0.0) - published["zbar"]).max() < 0.01


def master_csv_with_a_negative_amount(folder) -> tuple:
    """CDNOW master as a CSV whose row 60001 has amount −3: (path, that row's customer)."""
    log = load_cdnow("master")
    log["date"] = log["date"].dt.strftime("%Y-%m-%d")
    log.loc[60000, "amount"] = -3.0
    path = folder / "master.csv"
    log.to_csv(path, index=False)
    return path, log.loc[60000, "customer_id"]


def with_cohort(log: pd.DataFrame) -> pd.DataFrame:
    """``log`` with a ``cohort`` column: the month of each customer's first purchase."""
    log = log.copy()
    first = log.groupby("customer_id")["date"].transform("min")
    log["cohort"] = "1997-" + first.dt.month.map("{:02d}".format)
    return log
