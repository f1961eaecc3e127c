"""From a spec to its customer summary: the step the CLI, notebooks and benchmarks share."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bayesclv.data import (
    ColumnMap,
    CustomerSummary,
    cohort_segments,
    summarise,
    value_tier_segments,
)
from bayesclv.data.sources import identify, read_pandas
from bayesclv.datasets import load_cdnow
from bayesclv.spec import ModelSpec, resolve_source

BUNDLED = {"bayesclv:cdnow_master": "master", "bayesclv:cdnow_sample": "sample"}


def summarise_spec(spec: ModelSpec) -> CustomerSummary:
    """Read the spec's data source and summarise it with the spec's window and segments.

    Parameters
    ----------
    spec
        A validated model spec.

    Returns
    -------
    CustomerSummary
        Segments as the spec's ``data.segmentation`` defines them.
    """
    data = spec.data
    source = resolve_source(spec)
    if isinstance(source, str):
        source = load_cdnow(BUNDLED[source]) if source in BUNDLED else source
    columns = spec_columns(spec)
    segments = None
    if data.segmentation in ("cohort", "value_tier", "cohort_x_value_tier"):
        log = source if isinstance(source, pd.DataFrame) else read_pandas(
            identify(Path(source)), columns)
        segments = _derived_segments(log, columns, data.segmentation, data.cohort_freq,
                                     data.timezone)
    return summarise(
        source,
        calibration_end=data.calibration_end,
        holdout_end=data.holdout_end,
        columns=columns,
        time_unit=data.time_unit,
        timezone=data.timezone,
        segments=segments,
    )


def spec_columns(spec: ModelSpec) -> ColumnMap:
    """The log's columns as the spec names them, with messages that name its fields.

    Parameters
    ----------
    spec
        A validated model spec.

    Returns
    -------
    ColumnMap
        Customer, date, amount (None with ``data.amount = false``) and, with
        ``segmentation = "column"``, the segment column; a missing column's error says
        which field to change (``Set data.amount in the spec …``).
    """
    data = spec.data
    segment = data.segment_column if data.segmentation == "column" else None
    return ColumnMap(
        customer=data.customer,
        date=data.date,
        amount=data.amount,
        segment=segment,
        fields={"customer": "data.customer", "date": "data.date", "amount": "data.amount",
                "segment": "data.segment_column"},
    )


def _derived_segments(
    log: pd.DataFrame, columns: ColumnMap, segmentation: str, cohort_freq: str, timezone: str
) -> pd.Series:
    """Per-customer segments known at acquisition: cohort, first-basket tier, or both."""
    if segmentation == "cohort":
        return cohort_segments(log, columns=columns, freq=cohort_freq, timezone=timezone)
    if segmentation == "value_tier":
        return value_tier_segments(log, columns=columns, timezone=timezone)
    cohort = cohort_segments(log, columns=columns, freq=cohort_freq, timezone=timezone)
    tier = value_tier_segments(log, columns=columns, timezone=timezone).reindex(cohort.index)
    labels = cohort.astype(str) + "·" + tier.astype(str)
    order = [f"{c}·{t}" for c in cohort.cat.categories for t in tier.cat.categories]
    return labels.astype(pd.CategoricalDtype(order))
