"""Shared fixtures for the data-layer tests."""

from __future__ import annotations

import pandas as pd
import pytest

from bayesclv.data import summarise
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
