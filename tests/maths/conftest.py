"""Shared fixtures for the closed-form maths tests."""

from importlib import resources

import pandas as pd
import pytest


@pytest.fixture(scope="session")
def cdnow() -> pd.DataFrame:
    """CDNOW 2,357-customer sample, 39-week calibration (weeks): ID, x, t_x, T, zbar."""
    path = resources.files("bayesclv.datasets") / "cdnow_sample_summary_39wk.csv"
    with path.open() as handle:
        return pd.read_csv(handle)
