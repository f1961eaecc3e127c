"""Bounded-memory scoring of large customer bases: chunked, thinned, summarised, streamed.

Per chunk of customers the per-draw arrays (samples × chunk) are computed, reduced to
per-customer summaries and per-draw segment totals, and dropped; memory is about
8 × samples × chunk_size × 8 bytes whatever the number of customers. Customers are
processed in order of (segment, x, T, t_x), so distinct histories (which the closed forms
are evaluated on) rarely repeat across chunks; results come back in the summary's order.

:func:`value_tables` gives the tables of :func:`~bayesclv.clv.clv_draws` (per customer,
customer equity, churn) number for number in the same bounded memory, in two passes: the
per-customer rows from customers a chunk at a time, the per-draw totals from every customer
a few draws at a time (a sum over a segment's customers is then added in the same order as
over all draws at once, where chunk sums would move its last bits).
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

from bayesclv.clv.churn import churn_table, churn_totals, rank_watchlist, watchlist_rows
from bayesclv.clv.draws import compute_block, label_block
from bayesclv.clv.tables import customer_table
from bayesclv.clv.totals import ADDITIVE, segment_totals, totals_table
from bayesclv.data import CustomerSummary
from bayesclv.errors import DataError
from bayesclv.models import Fit
from bayesclv.models.fit import Customers
from bayesclv.scoring.inputs import (
    CustomerInputs,
    PosteriorDraws,
    customer_inputs,
    per_customer,
    posterior_draws,
)
from bayesclv.scoring.settings import Convention, ValueSettings, value_settings
from bayesclv.scoring.summaries import PORTFOLIO, resolve_hdi_prob
from bayesclv.spec import ValueSpec

__all__ = [
    "Scores",
    "ValueTables",
    "iter_scores",
    "score_customers",
    "score_to_parquet",
    "value_tables",
]

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
    customers: Customers = "fitted",
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
    chosen = value if value is not None else fit.spec.value
    settings = value_settings(chosen, fit.time_unit, convention)
    prob = resolve_hdi_prob(xr.Dataset(), hdi_prob if hdi_prob is not None else chosen.hdi_prob)
    post = posterior_draws(fit, thin=thin, value=settings.value)
    inputs = customer_inputs(summary, fit, customers=customers)
    cost = per_customer(retention_cost, inputs, "retention_cost")
    segments = list(post.segments)
    additive = list(ADDITIVE)
    for index in inputs.chunks(chunk_size, by_history=True):
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
    customers: Customers = "fitted",
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
    customers
        ``"fitted"`` (default): the customers the fit saw, with the histories it saw (all
        of them or a subset); ``"new"``: customers or histories it did not see (new
        customers, a later snapshot). A summary that is not what it says is refused
        (:func:`bayesclv.models.fit.check_customers`).

    Returns
    -------
    Scores
        ``table`` (one row per customer, summary order) and ``totals`` (per-draw sums).
    """
    tables, parts = [], []
    for table, totals in iter_scores(fit, summary, value=value, convention=convention,
                                     retention_cost=retention_cost, thin=thin,
                                     chunk_size=chunk_size, variables=variables,
                                     hdi_prob=hdi_prob, customers=customers):
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
    customers: Customers = "fitted",
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
                                         hdi_prob=hdi_prob, customers=customers):
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


@dataclass(frozen=True)
class ValueTables:
    """The value tables of a customer base, computed in bounded memory by :func:`value_tables`.

    Attributes
    ----------
    customers
        :func:`~bayesclv.clv.customer_table`: one row per customer (summary order).
    equity
        :func:`~bayesclv.clv.customer_equity`: totals per segment and the portfolio.
    churn
        :func:`~bayesclv.clv.churn_by_segment`.
    watchlist
        :func:`~bayesclv.clv.churn_watchlist`.
    """

    customers: pd.DataFrame
    equity: pd.DataFrame
    churn: pd.DataFrame
    watchlist: pd.DataFrame


def value_tables(
    fit: Fit,
    summary: CustomerSummary,
    *,
    value: ValueSpec | None = None,
    convention: Convention = "end",
    retention_cost: float | np.ndarray | pd.Series | None = None,
    thin: int = 1,
    customers: Customers = "fitted",
    top: int | None = None,
    p_alive_threshold: float = 0.5,
    chunk_size: int = 2_000,
) -> ValueTables:
    """Per-customer, equity and churn tables, as from ``clv_draws``, in bounded memory.

    Each table equals the function of its name applied to
    ``clv_draws(fit, summary, value=value, convention=convention,
    retention_cost=retention_cost, thin=thin)``, number for number, without holding those
    draws (samples × customers × 6 variables × 8 bytes). Two passes compute them: all
    draws of ``chunk_size`` customers at a time (the per-customer rows), then every
    customer for as many draws at a time as make the same number of values (the per-draw
    totals). Memory ≈ 15 × samples × chunk_size × 8 bytes plus the tables; time about
    twice that of ``clv_draws``.

    Parameters
    ----------
    fit, summary, value, convention, retention_cost, thin, customers
        As for :func:`~bayesclv.clv.clv_draws`.
    top
        Rows of the watchlist (default: every customer).
    p_alive_threshold
        Customers whose posterior mean P(alive) is below it are flagged at risk.
    chunk_size
        Customers per chunk of the first pass; the second pass takes
        ⌊draws per chain × chunk_size / customers⌋ draws (at least 1) of every chain at a
        time.

    Returns
    -------
    ValueTables

    Raises
    ------
    DataError
        If the summary has no customers, ``chunk_size`` is not a positive integer, or as
        :func:`~bayesclv.clv.clv_draws`.
    """
    settings = value_settings(value if value is not None else fit.spec.value, fit.time_unit,
                              convention)
    post = posterior_draws(fit, thin=thin, value=settings.value)
    inputs = customer_inputs(summary, fit, customers=customers)
    cost = per_customer(retention_cost, inputs, "retention_cost")
    chunks = inputs.chunks(chunk_size, by_history=True)
    if not chunks:
        raise DataError("summary has no customers to score")
    customers, rows = [], []
    for index in chunks:
        draws = _draws(post, inputs.take(index), settings, cost[index])
        customers.append(customer_table(draws))
        rows.append(watchlist_rows(draws, p_alive_threshold=p_alive_threshold))
    # back to summary order, in which the watchlist breaks ties
    order = np.argsort(np.concatenate(chunks))
    watch = pd.concat(rows).iloc[order]
    watch.attrs = rows[0].attrs
    flagged = watch["at_risk"].to_numpy()
    per_chain = np.unique(post.draw).size
    equity, churn = [], []
    for block in post.draw_blocks(max(1, per_chain * chunk_size // len(inputs))):
        draws = _draws(block, inputs, settings, cost)
        equity.append(segment_totals(draws))
        churn.append(churn_totals(draws, flagged))
    table = pd.concat(customers).iloc[order]
    table.attrs = customers[0].attrs
    return ValueTables(
        customers=table,
        equity=totals_table(_along_draws(equity)),
        churn=churn_table(_along_draws(churn)),
        watchlist=rank_watchlist(watch, top=top),
    )


def _draws(post: PosteriorDraws, chunk: CustomerInputs, settings: ValueSettings,
           cost: np.ndarray) -> xr.Dataset:
    """``clv_draws`` of these customers at these samples."""
    return label_block(post, chunk, compute_block(post, chunk, settings, cost), settings)


def _along_draws(parts: list[xr.Dataset]) -> xr.Dataset:
    """Per-draw totals of consecutive blocks of draws, as one."""
    return xr.concat(parts, dim="draw", coords="minimal", compat="override")
