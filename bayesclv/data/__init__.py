"""The data layer: transaction logs → per-customer summaries for BTYD models.

>>> from bayesclv.data import ColumnMap, summarise
>>> summary = summarise("log.parquet", calibration_end="1997-09-30")  # doctest: +SKIP
"""

from bayesclv.data.api import summarise
from bayesclv.data.columns import ColumnMap
from bayesclv.data.covariates import CovariateEncoding, covariates_from_log, with_covariates
from bayesclv.data.segments import (
    BehaviouralSegmentWarning,
    cohort_segments,
    value_tier_segments,
)
from bayesclv.data.summary import CompressedRows, CustomerSummary

__all__ = [
    "BehaviouralSegmentWarning",
    "ColumnMap",
    "CompressedRows",
    "CovariateEncoding",
    "CustomerSummary",
    "cohort_segments",
    "covariates_from_log",
    "summarise",
    "value_tier_segments",
    "with_covariates",
]
