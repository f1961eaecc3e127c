"""Bounded-memory scoring of large customer bases: chunked, thinned, summarised, streamed.

Per chunk of customers the per-draw arrays (samples × chunk) are computed, reduced to
per-customer summaries and per-draw segment totals, and dropped; memory is about
8 × samples × chunk_size × 8 bytes whatever the number of customers. Customers are
processed in order of (segment, x, T, t_x), so distinct histories (which the closed forms
are evaluated on) rarely repeat across chunks; results come back in the summary's order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import xarray as xr

from bayesclv.clv.draws import compute_block, label_block
from bayesclv.clv.tables import customer_table
from bayesclv.clv.totals import ADDITIVE
from bayesclv.data import CustomerSummary
from bayesclv.errors import DataError
from bayesclv.models import Fit
from bayesclv.scoring.inputs import customer_inputs, per_customer, posterior_draws
from bayesclv.scoring.settings import Convention, value_settings
from bayesclv.scoring.summaries import PORTFOLIO, resolve_hdi_prob
from bayesclv.spec import ValueSpec

__all__ = ["Scores", "iter_scores", "score_customers", "score_to_parquet"]

DEFAULT_VARIABLES = ("p_alive", "expected_purchases", "expected_spend", "clv", "value_at_risk")


@dataclass(frozen=True)
class Scores:
    """Per-customer summaries and per-draw totals of a chunked scoring run.

    Attributes
    ----------
    table
        One row per customer (summary order), as :func:`bayesclv.clv.customer_table`.
    totals
        Per-draw sums with dims (chain, draw, segment), segments plus ``"portfolio"``; feed
        to :func:`bayesclv.clv.totals_table` for intervals of the summed draws.
    """

    table: pd.DataFrame
    totals: xr.Dataset


def iter_scores(
    fit: Fit,
    summary: CustomerSummary,
    *,
    value: ValueSpec | None = None,
    convention: Convention = "end",
    retention_cost: float | np.ndarray | pd.Series | None = None,
    thin: int = 1,
    chunk_size: int = 10_000,
    variables: Sequence[str] = DEFAULT_VARIABLES,
    hdi_prob: float | None = None,
) -> Iterator[tuple[pd.DataFrame, xr.Dataset]]:
    """Score customers chunk by chunk.

    Parameters are those of :func:`score_customers`.

    Yields
    ------
    (pandas.DataFrame, xarray.Dataset)
        The chunk's per-customer table (with a ``position`` column: the row in the summary)
        and its per-draw totals per segment (dims chain, draw, segment; all fitted segments,
        no portfolio).
    """
    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise DataError(f"chunk_size={chunk_size!r} must be a positive integer")
    chosen = value if value is not None else fit.spec.value
    settings = value_settings(chosen, fit.time_unit, convention)
    prob = resolve_hdi_prob(xr.Dataset(), hdi_prob if hdi_prob is not None else chosen.hdi_prob)
    post = posterior_draws(fit, thin=thin, value=settings.value)
    inputs = customer_inputs(summary, fit)
    cost = per_customer(retention_cost, inputs, "retention_cost")
    order = np.lexsort((inputs.t_x, inputs.T, inputs.x, inputs.code))
    segments = list(post.segments)
    additive = list(ADDITIVE)
    for start in range(0, len(order), chunk_size):
        index = order[start:start + chunk_size]
        chunk = inputs.take(index)
        block = compute_block(post, chunk, settings, cost[index])
        sums = np.zeros((len(additive), post.n_samples, len(segments)))
        for i, name in enumerate(additive):
            for code in np.unique(chunk.code):
                sums[i][:, code] = block[name][:, chunk.code == code].sum(axis=1)
        counts = np.bincount(chunk.code, minlength=len(segments))
        labelled = label_block(post, chunk, {name: block[name] for name in variables}, settings)
        del block
        table = customer_table(labelled, hdi_prob=prob)
        table.insert(0, "position", index)
        totals = xr.Dataset(
            {name: post.unstack(sums[i], ("segment",), {"segment": segments})
             for i, name in enumerate(additive)},
        ).assign_coords(n_customers=("segment", counts))
        yield table, totals


def _combine(parts: list[xr.Dataset], attrs: dict) -> xr.Dataset:
    """Add chunk totals and append the portfolio (all segments) total."""
    counts = sum(part["n_customers"].values for part in parts)
    total = parts[0].drop_vars("n_customers")
    for part in parts[1:]:
        total = total + part.drop_vars("n_customers")
    portfolio = total.sum("segment").expand_dims(segment=[PORTFOLIO])
    combined = xr.concat([total, portfolio], dim="segment")
    combined = combined.assign_coords(n_customers=("segment", [*counts, int(counts.sum())]))
    combined.attrs = attrs
    return combined


def score_customers(
    fit: Fit,
    summary: CustomerSummary,
    *,
    value: ValueSpec | None = None,
    convention: Convention = "end",
    retention_cost: float | np.ndarray | pd.Series | None = None,
    thin: int = 1,
    chunk_size: int = 10_000,
    variables: Sequence[str] = DEFAULT_VARIABLES,
    hdi_prob: float | None = None,
) -> Scores:
    """Score a customer base in bounded memory: per-customer summaries and per-draw totals.

    Parameters
    ----------
    fit
        A frequency/dropout fit with a spend model, or without one when the value
        settings give ``per_purchase`` (every purchase then worth that much).
    summary
        The customers to score.
    value
        Money and time settings (default: the fit's ``spec.value``).
    convention
        Discount each period at its ``"end"`` or ``"mid"``-point.
    retention_cost
        Present value of retention spending per customer (currency).
    thin
        Keep every ``thin``-th draw of each chain (time and memory scale with 1/thin).
    chunk_size
        Customers per chunk; peak memory ≈ 8 × samples × chunk_size × 8 bytes plus the
        summary table.
    variables
        Per-customer variables to summarise (each costs an HDI per customer).
    hdi_prob
        HDI mass (default: ``value.hdi_prob``).

    Returns
    -------
    Scores
        ``table`` (one row per customer, summary order) and ``totals`` (per-draw sums).
    """
    tables, parts = [], []
    for table, totals in iter_scores(fit, summary, value=value, convention=convention,
                                     retention_cost=retention_cost, thin=thin,
                                     chunk_size=chunk_size, variables=variables,
                                     hdi_prob=hdi_prob):
        tables.append(table)
        parts.append(totals)
    if not tables:
        raise DataError("summary has no customers to score")
    table = pd.concat(tables).sort_values("position").drop(columns="position")
    attrs = dict(tables[0].attrs)
    table.attrs = attrs
    return Scores(table=table, totals=_combine(parts, attrs))


def score_to_parquet(
    fit: Fit,
    summary: CustomerSummary,
    path: str | Path,
    *,
    value: ValueSpec | None = None,
    convention: Convention = "end",
    retention_cost: float | np.ndarray | pd.Series | None = None,
    thin: int = 1,
    chunk_size: int = 10_000,
    variables: Sequence[str] = DEFAULT_VARIABLES,
    hdi_prob: float | None = None,
) -> xr.Dataset:
    """Stream per-customer summaries to a Parquet file, one row group per chunk.

    Rows are written in (segment, x, T, t_x) order, not the summary's; ``customer`` is a
    column. Parameters are those of :func:`score_customers`; units and conventions are
    stored in the file's key-value metadata (``bayesclv.*``).

    Returns
    -------
    xarray.Dataset
        Per-draw totals (dims chain, draw, segment, with ``"portfolio"``).
    """
    path = Path(path)
    writer = None
    parts = []
    attrs: dict = {}
    try:
        for table, totals in iter_scores(fit, summary, value=value, convention=convention,
                                         retention_cost=retention_cost, thin=thin,
                                         chunk_size=chunk_size, variables=variables,
                                         hdi_prob=hdi_prob):
            attrs = dict(table.attrs)
            frame = table.drop(columns="position").reset_index()
            frame["customer"] = frame["customer"].astype(str)
            arrow = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                metadata = {**(arrow.schema.metadata or {}),
                            **{f"bayesclv.{k}".encode(): str(v).encode()
                               for k, v in attrs.items()}}
                writer = pq.ParquetWriter(path, arrow.schema.with_metadata(metadata))
            writer.write_table(arrow.replace_schema_metadata(writer.schema.metadata))
            parts.append(totals)
    finally:
        if writer is not None:
            writer.close()
    if not parts:
        raise DataError("summary has no customers to score")
    return _combine(parts, attrs)
