"""Holdout validation: predicted vs actual repeat purchases after the calibration end.

For a fit on the calibration period and a summary carrying the holdout counts
(``x_holdout``), per customer:

* **predicted**: the posterior mean of the conditional expectation E[X(T, T + L] | history]
  over the holdout length L; MAE and RMSE against the actual count;
* **by calibration frequency**: mean actual and predicted per bin x = 0, 1, …, ``max_x``+
  (Fader, Hardie & Lee 2005, fig. 4);
* **weekly tracking** (with the transaction log): cumulative repeat purchases over the
  holdout's calendar weeks, actual against the sum over customers of the conditional
  expectation and of the unconditional one, E[X(T_i + t)] − E[X(T_i)];
* **coverage of 90 % predictive intervals** from the full predictive simulation
  (parameter + outcome uncertainty). Counts are discrete, so an interval [q05, q95]
  (inclusive, quantiles of the simulated counts) holds the truth with probability ≥ 90 %,
  often far more (a customer with P(0) ≥ 0.95 gets [0, 0]). ``coverage`` therefore uses the
  randomised PIT, u = F(y − 1) + V·P(y) with V ~ Uniform(0, 1), which is exactly uniform
  under a correct model: coverage = share of u in [0.05, 0.95]. ``coverage_inclusive`` is
  the conservative inclusive-interval share.

Every number is also given per segment.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from bayesclv.data import CustomerSummary
from bayesclv.distinct import distinct
from bayesclv.errors import DataError
from bayesclv.maths.families import family
from bayesclv.models import Fit
from bayesclv.models.fit import Customers
from bayesclv.scoring.inputs import PosteriorDraws, customer_inputs, posterior_draws
from bayesclv.scoring.quantities import distinct_histories, p_alive, periods_if_alive
from bayesclv.scoring.settings import ValueSettings
from bayesclv.scoring.simulation import simulate_periods
from bayesclv.units import DAYS_PER_UNIT

__all__ = ["HoldoutReport", "holdout_report"]

ALL = "all customers"


@dataclass(frozen=True)
class HoldoutReport:
    """Holdout predictions against actuals.

    Attributes
    ----------
    customers
        Per customer: ``segment``, ``x``, ``actual``, ``predicted`` (posterior mean of the
        conditional expectation), ``error``, ``interval_low``, ``interval_high`` (the
        predictive interval, inclusive), ``inside``, ``pit`` (randomised PIT).
    metrics
        Per segment and for ``"all customers"``: ``n_customers``, ``actual_mean``,
        ``predicted_mean``, ``mae``, ``rmse``, ``coverage`` (randomised PIT in the central
        interval) and ``coverage_inclusive``; ``total_actual`` (holdout purchases summed over
        the segment), ``total_low``, ``total_high`` (central interval of the per-draw
        simulated totals) and ``total_inside``.
    by_frequency
        Per segment and calibration-frequency bin: ``n_customers``, ``actual_mean``,
        ``predicted_mean``.
    tracking
        Per holdout week (or None without a transaction log): cumulative ``actual``,
        ``predicted_conditional`` and ``predicted_unconditional`` repeat purchases.
    interval
        Nominal mass of the predictive intervals.
    """

    customers: pd.DataFrame
    metrics: pd.DataFrame
    by_frequency: pd.DataFrame
    tracking: pd.DataFrame | None
    interval: float


def _holdout_settings(fit: Fit, boundaries: np.ndarray) -> ValueSettings:
    return ValueSettings(value=fit.spec.value, time_unit=fit.time_unit, convention="end",
                         boundaries=np.asarray(boundaries, dtype=float),
                         discount=np.ones(len(boundaries)))


def holdout_report(
    fit: Fit,
    summary: CustomerSummary,
    transactions: pd.DataFrame | None = None,
    *,
    interval: float = 0.90,
    thin: int = 1,
    customers: Customers = "fitted",
    max_x: int = 7,
    seed: int = 0,
    min_simulations: int = 400,
    customer: str = "customer_id",
    date: str = "date",
    chunk_size: int = 5_000,
) -> HoldoutReport:
    """Compare holdout predictions with what the customers actually did.

    Parameters
    ----------
    fit
        A fit on the calibration period of ``summary``.
    summary
        Customer summaries with holdout columns (``summarise(..., holdout_end=...)``).
    transactions
        The transaction log, for weekly tracking (columns ``customer`` and ``date``);
        without it ``tracking`` is None.
    interval
        Mass of the central predictive intervals (default 0.90).
    thin
        Keep every ``thin``-th draw of each chain.
    max_x
        Calibration frequencies of ``max_x`` or more share the last bin.
    seed
        Seed of the predictive simulation and the PIT randomisation.
    min_simulations
        Simulated futures per customer at least: posterior draws are reused (each with a
        fresh outcome) when there are fewer, e.g. for a one-draw MAP fit.
    customer, date
        Column names in ``transactions``.
    chunk_size
        Customers predicted and simulated at a time: about
        10 × simulations × chunk_size × 8 bytes (4,000 draws, 5,000 customers: 1.6 GB),
        whatever the number of customers; the weekly tracking (with ``transactions``) adds
        about 4 × samples × distinct histories × 8 bytes. The predictions do not depend on
        it; the simulated intervals do not while the base fits in one chunk, beyond which
        the random streams (not their distribution) differ.
    customers
        ``"fitted"`` (default): the customers the fit saw, with the histories it saw (all
        of them or a subset); ``"new"``: customers or histories it did not see (new
        customers, a later snapshot). A summary that is not what it says is refused
        (:func:`bayesclv.models.fit.check_customers`).

    Returns
    -------
    HoldoutReport

    Raises
    ------
    DataError
        If the summary has no holdout, or ``interval`` is outside (0, 1).
    """
    if not summary.has_holdout or summary.holdout_length is None:
        raise DataError("summary has no holdout; summarise with holdout_end=...")
    if not 0 < interval < 1:
        raise DataError(f"interval={interval} must be in (0, 1)")
    length = float(summary.holdout_length)
    post = posterior_draws(fit, thin=thin, need_spend=False)
    inputs = customer_inputs(summary, fit, customers=customers)
    settings = _holdout_settings(fit, [length])
    rng = np.random.default_rng(seed)
    times = int(np.ceil(min_simulations / post.n_samples))
    repeated = _repeated(post, times)
    actual = summary.frame["x_holdout"].to_numpy(np.int64)
    tail = (1.0 - interval) / 2.0
    predicted = np.empty(actual.size)
    low, high = np.empty(actual.size), np.empty(actual.size)
    below, at = np.empty(actual.size), np.empty(actual.size)
    labels = [str(s) for s in np.unique(inputs.segment)]
    sums = np.zeros((len(labels), repeated.n_samples))
    for part in inputs.chunks(chunk_size):
        chunk = inputs.take(part)
        rows = distinct_histories(chunk)
        alive = p_alive(post, rows)[:, rows.inverse]
        (if_alive,) = periods_if_alive(post, rows, settings)
        predicted[part] = (alive * if_alive[:, rows.age_inverse][:, rows.inverse]).mean(axis=0)
        ((simulated, _),) = simulate_periods(repeated, chunk, np.array([length]), rng,
                                             np.tile(alive, (times, 1)))
        del alive, if_alive
        low[part], high[part] = np.quantile(simulated, [tail, 1.0 - tail], axis=0,
                                            method="inverted_cdf")
        below[part] = (simulated < actual[part]).mean(axis=0)
        at[part] = (simulated == actual[part]).mean(axis=0)
        for k, label in enumerate(labels):
            sums[k] += simulated[:, np.asarray(chunk.segment).astype(str) == label].sum(axis=1)
        del simulated
    pit = below + rng.random(actual.size) * at
    customers = pd.DataFrame(
        {
            "segment": inputs.segment,
            "x": inputs.x.astype(np.int64),
            "actual": actual,
            "predicted": predicted,
            "error": predicted - actual,
            "interval_low": low.astype(np.int64),
            "interval_high": high.astype(np.int64),
            "inside": (low <= actual) & (actual <= high),
            "pit": pit,
            "pit_inside": (pit >= tail) & (pit <= 1.0 - tail),
        },
        index=summary.frame.index,
    )
    tracking = None
    if transactions is not None:
        tracking = _tracking(fit, summary, transactions, post, inputs, customer, date)
    return HoldoutReport(
        customers=customers,
        metrics=_metrics(customers).join(_segment_totals(customers, dict(zip(labels, sums,
                                                                             strict=True)),
                                                         tail)),
        by_frequency=_by_frequency(customers, max_x),
        tracking=tracking,
        interval=interval,
    )


def _repeated(post: PosteriorDraws, times: int) -> PosteriorDraws:
    """The same draws ``times`` over (for more simulated outcomes per parameter draw)."""
    if times <= 1:
        return post
    return replace(
        post,
        frequency={k: np.tile(v, (times, 1)) for k, v in post.frequency.items()},
        spend=None,
        coefficients={k: np.tile(v, (times, 1)) for k, v in post.coefficients.items()
                      if k != "spend"},
        chain=np.tile(post.chain, times),
        draw=np.tile(post.draw, times),
    )


def _metrics(customers: pd.DataFrame) -> pd.DataFrame:
    def stats(group: pd.DataFrame) -> dict[str, float]:
        return {
            "n_customers": len(group),
            "actual_mean": group["actual"].mean(),
            "predicted_mean": group["predicted"].mean(),
            "mae": group["error"].abs().mean(),
            "rmse": float(np.sqrt((group["error"] ** 2).mean())),
            "coverage": group["pit_inside"].mean(),
            "coverage_inclusive": group["inside"].mean(),
        }

    records = {str(s): stats(g) for s, g in customers.groupby("segment", sort=True)}
    records[ALL] = stats(customers)
    table = pd.DataFrame.from_dict(records, orient="index")
    table.index.name = "segment"
    return table


def _segment_totals(customers: pd.DataFrame, sums: dict[str, np.ndarray],
                    tail: float) -> pd.DataFrame:
    """Actual holdout total per segment against the central interval of the summed draws.

    ``sums`` holds each segment's simulated total per simulation.
    """
    segment = customers["segment"].to_numpy().astype(str)
    groups = {name: (segment == name, total) for name, total in sums.items()}
    groups[ALL] = (np.ones(segment.size, dtype=bool), np.sum(list(sums.values()), axis=0))
    records = {}
    for name, (mask, totals) in groups.items():
        low, high = np.quantile(totals, [tail, 1.0 - tail], method="inverted_cdf")
        actual = int(customers["actual"].to_numpy()[mask].sum())
        records[name] = {"total_actual": actual, "total_low": int(low), "total_high": int(high),
                         "total_inside": bool(low <= actual <= high)}
    return pd.DataFrame.from_dict(records, orient="index")


def _by_frequency(customers: pd.DataFrame, max_x: int) -> pd.DataFrame:
    labels = [str(i) for i in range(max_x)] + [f"{max_x}+"]
    binned = customers.assign(
        frequency=pd.Categorical.from_codes(np.minimum(customers["x"], max_x), labels))
    parts = [binned.assign(segment=ALL), binned] if binned["segment"].nunique() > 1 else [
        binned.assign(segment=ALL)]
    table = (
        pd.concat(parts)
        .groupby(["segment", "frequency"], observed=True)
        .agg(n_customers=("actual", "size"), actual_mean=("actual", "mean"),
             predicted_mean=("predicted", "mean"))
    )
    return table


def _tracking(fit, summary, transactions, post, inputs, customer, date):
    for column in (customer, date):
        if column not in transactions.columns:
            raise DataError(f"transactions has no column {column!r}; pass customer=/date=")
    if summary.calibration_end is None or summary.holdout_end is None:
        raise DataError("summary needs calibration_end and holdout_end for weekly tracking")
    start, end = summary.calibration_end, summary.holdout_end
    n_weeks = int(np.ceil((end - start).days / 7))
    log = transactions[[customer, date]].copy()
    log[date] = pd.to_datetime(log[date]).dt.normalize()
    log[customer] = log[customer].astype(str)
    in_holdout = log[(log[date] > start) & (log[date] <= end)
                     & log[customer].isin(summary.frame.index)].drop_duplicates()
    week = np.ceil((in_holdout[date] - start).dt.days.to_numpy() / 7).astype(int)
    actual = np.cumsum(np.bincount(week, minlength=n_weeks + 1)[1:n_weeks + 1])
    days_per_unit = DAYS_PER_UNIT[fit.time_unit]
    ends = np.minimum(7.0 * np.arange(1, n_weeks + 1), (end - start).days) / days_per_unit
    # Sums over all distinct histories at once: in blocks, BLAS would add them in another
    # order (and move the last bits), so this part is not chunked.
    rows = distinct_histories(inputs)
    alive = p_alive(post, rows)
    conditional = np.zeros((post.n_samples, n_weeks))
    counts = np.bincount(rows.inverse, minlength=len(rows))
    cumulative = np.zeros((post.n_samples, len(rows)))
    for k, in_week in enumerate(periods_if_alive(post, rows, _holdout_settings(fit, ends))):
        cumulative += in_week[:, rows.age_inverse]
        conditional[:, k] = (alive * cumulative) @ counts
    expected = family(post.family).expected_purchases
    # E[X(T + t)] − E[X(T)] depends on a customer only through (segment, T)
    keys = distinct(inputs.cell, inputs.T)
    ages, counts = keys.columns[1], keys.counts
    params = post.frequency_at(inputs.cells, keys.codes(0))
    base = expected(*params, ages)
    unconditional = np.stack(
        [(expected(*params, ages + t) - base) @ counts for t in ends], axis=1)
    return pd.DataFrame(
        {
            "week_end": [start + pd.Timedelta(days=int(7 * w)) for w in range(1, n_weeks + 1)],
            "actual": actual,
            "predicted_conditional": conditional.mean(axis=0),
            "predicted_unconditional": unconditional.mean(axis=0),
        },
        index=pd.RangeIndex(1, n_weeks + 1, name="week"),
    )
