"""From a spec to its customer summary: the step the CLI, notebooks and benchmarks share."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bayesclv.data import (
    ColumnMap,
    CustomerSummary,
    cohort_segments,
    covariates_from_log,
    summarise,
    value_tier_segments,
    with_covariates,
)
from bayesclv.data.sources import identify, read_pandas
from bayesclv.datasets import load_cdnow
from bayesclv.errors import DataError
from bayesclv.spec import ModelSpec, resolve_covariate_source, resolve_source

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
        Segments as the spec's ``data.segmentation`` defines them, with the covariates of
        ``[covariates]`` (from its customer table, or constant per customer in the log).
    """
    data = spec.data
    source = resolve_source(spec)
    if isinstance(source, str):
        source = load_cdnow(BUNDLED[source]) if source in BUNDLED else source
    columns = spec_columns(spec)
    segments = None
    log = None
    from_log = spec.covariates is not None and spec.covariates.source is None
    if data.segmentation in ("cohort", "value_tier", "cohort_x_value_tier") or from_log:
        log = source if isinstance(source, pd.DataFrame) else read_pandas(
            identify(Path(source)), columns, extra=spec.covariates.columns if from_log else ())
    if data.segmentation in ("cohort", "value_tier", "cohort_x_value_tier"):
        segments = _derived_segments(log, columns, data.segmentation, data.cohort_freq,
                                     data.timezone)
    summary = summarise(
        source,
        calibration_end=data.calibration_end,
        holdout_end=data.holdout_end,
        columns=columns,
        time_unit=data.time_unit,
        timezone=data.timezone,
        segments=segments,
    )
    if spec.covariates is None:
        return summary
    return with_covariates(summary, _covariate_table(spec, log), spec.covariates.columns,
                           categorical=spec.covariates.categorical)


def _covariate_table(spec: ModelSpec, log: pd.DataFrame | None) -> pd.DataFrame:
    """Each customer's covariates: from ``covariates.source``, or from the log's columns."""
    covariates = spec.covariates
    path = resolve_covariate_source(spec)
    if path is None:
        return covariates_from_log(log, spec.data.customer, covariates.columns)
    customer = covariates.customer or spec.data.customer
    if not path.is_file():
        raise DataError(f"covariates.source {path} does not exist")
    table = read_pandas(identify(path), ColumnMap(customer=customer, date=customer, amount=None,
                                                  fields={"customer": "covariates.customer"}),
                        extra=covariates.columns)
    ids = table[customer].astype(str).str.strip()
    if ids.duplicated().any():
        raise DataError(f"covariates.source {path} lists customer "
                        f"{ids[ids.duplicated()].iloc[0]!r} more than once")
    return table.drop(columns=customer).set_axis(pd.Index(ids, name="customer_id"))


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
