"""Churn early warning: customers ranked by the value they put at risk.

Definition (``value_at_risk`` in :func:`bayesclv.clv.clv_draws`): for each draw,
(1 − P(alive)) × the residual CLV the customer would have if still alive. It is the
expected value lost to the chance that the customer has already lapsed — what a win-back
that reliably re-activated them would be worth at most. A customer with low P(alive) but
little value if alive ranks low; a valuable, recently quiet one ranks high.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from bayesclv.clv.tables import customer_table
from bayesclv.clv.totals import segment_totals, totals_table
from bayesclv.dims import SAMPLE_DIMS
from bayesclv.errors import DataError
from bayesclv.scoring.summaries import resolve_hdi_prob

__all__ = [
    "churn_by_segment",
    "churn_table",
    "churn_totals",
    "churn_watchlist",
    "rank_watchlist",
    "watchlist_rows",
]


def _check_threshold(p_alive_threshold: float) -> None:
    if not 0 < p_alive_threshold < 1:
        raise DataError(f"p_alive_threshold={p_alive_threshold} must be in (0, 1)")


def churn_watchlist(draws: xr.Dataset, *, p_alive_threshold: float = 0.5,
                    top: int | None = None, hdi_prob: float | None = None) -> pd.DataFrame:
    """Customers ranked by posterior mean value at risk, highest first.

    Parameters
    ----------
    draws
        From :func:`bayesclv.clv.clv_draws`.
    p_alive_threshold
        Customers whose posterior mean P(alive) is below this are flagged ``at_risk``.
    top
        Keep only the first ``top`` rows.
    hdi_prob
        HDI mass of the value-at-risk interval (default: the draws' ``hdi_prob``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer``: ``rank``, ``segment``, ``p_alive_mean``, ``clv_mean``,
        ``value_at_risk_mean`` and its HDI (currency), ``at_risk``.
    """
    return rank_watchlist(watchlist_rows(draws, p_alive_threshold=p_alive_threshold,
                                         hdi_prob=hdi_prob), top=top)


def watchlist_rows(draws: xr.Dataset, *, p_alive_threshold: float = 0.5,
                   hdi_prob: float | None = None) -> pd.DataFrame:
    """Every customer's row of the churn watchlist, unranked, in the order of ``draws``.

    A row depends on that customer's draws only, so the rows of customers taken a chunk
    at a time, concatenated in order and ranked by :func:`rank_watchlist`, are the
    watchlist of all of them. Parameters and columns are those of :func:`churn_watchlist`,
    without ``rank``.
    """
    _check_threshold(p_alive_threshold)
    prob = resolve_hdi_prob(draws, hdi_prob)
    risk = customer_table(draws, variables=["value_at_risk"], hdi_prob=prob)
    table = pd.concat(
        [risk[["segment"]],
         pd.DataFrame({"p_alive_mean": draws["p_alive"].mean(SAMPLE_DIMS).values,
                       "clv_mean": draws["clv"].mean(SAMPLE_DIMS).values},
                      index=risk.index),
         risk.drop(columns=["segment", "value_at_risk_median", "value_at_risk_sd"])],
        axis=1,
    )
    table["at_risk"] = table["p_alive_mean"] < p_alive_threshold
    table.attrs = {**draws.attrs, "hdi_prob": prob, "p_alive_threshold": p_alive_threshold,
                   "value_at_risk": "(1 - P(alive)) x residual CLV if alive (currency)"}
    return table


def rank_watchlist(rows: pd.DataFrame, *, top: int | None = None) -> pd.DataFrame:
    """Rank :func:`watchlist_rows` by value at risk (ties keep their order); the first ``top``.

    Returns
    -------
    pandas.DataFrame
        See :func:`churn_watchlist`.
    """
    table = rows.sort_values("value_at_risk_mean", ascending=False, kind="stable")
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    if top is not None:
        table = table.head(top)
    table.attrs = dict(rows.attrs)
    return table


def churn_by_segment(draws: xr.Dataset, *, p_alive_threshold: float = 0.5,
                     hdi_prob: float | None = None) -> pd.DataFrame:
    """Per segment: customers flagged at risk and the value at risk, with intervals.

    Parameters
    ----------
    draws
        From :func:`bayesclv.clv.clv_draws`.
    p_alive_threshold
        Flag customers whose posterior mean P(alive) is below this.
    hdi_prob
        HDI mass (default: the draws' ``hdi_prob``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``segment`` (and ``"portfolio"``): ``n_customers``, ``n_at_risk``,
        ``value_at_risk_*`` (all customers' summed draws: mean, median, sd, HDI),
        ``flagged_value_at_risk_mean`` (the flagged customers only) and
        ``share_of_value_at_risk`` (value at risk / (value at risk + residual CLV)).
    """
    _check_threshold(p_alive_threshold)
    flagged = draws["p_alive"].mean(SAMPLE_DIMS).values < p_alive_threshold
    return churn_table(churn_totals(draws, flagged), hdi_prob=hdi_prob)


def churn_totals(draws: xr.Dataset, flagged: np.ndarray) -> xr.Dataset:
    """Per-draw sums behind :func:`churn_by_segment`, per segment and for the portfolio.

    Each draw's sums depend on that draw only, so totals of a few draws at a time,
    concatenated along ``draw``, are those of all draws.

    Parameters
    ----------
    draws
        From :func:`bayesclv.clv.clv_draws` (any subset of the draws).
    flagged
        Per customer of ``draws``, whether it is flagged at risk (posterior mean P(alive)
        below the threshold, over all draws).

    Returns
    -------
    xarray.Dataset
        Dims (chain, draw, segment): ``value_at_risk`` and ``clv`` of all customers and
        ``flagged_value_at_risk`` of the flagged ones (currency); coordinates
        ``n_customers`` and ``n_at_risk`` on ``segment``.
    """
    totals = segment_totals(draws, ["value_at_risk", "clv"])
    at_risk = xr.DataArray(flagged, dims="customer")
    flagged_totals = segment_totals(
        draws[["value_at_risk"]].where(at_risk, 0.0).assign_coords(segment=draws["segment"]),
        ["value_at_risk"])
    segment = draws["segment"].values.astype(str)
    counts = [int(flagged[segment == label].sum()) for label in totals["segment"].values[:-1]]
    return totals.assign(flagged_value_at_risk=flagged_totals["value_at_risk"]).assign_coords(
        n_at_risk=("segment", [*counts, int(flagged.sum())]))


def churn_table(totals: xr.Dataset, *, hdi_prob: float | None = None) -> pd.DataFrame:
    """The table of :func:`churn_by_segment` from its :func:`churn_totals`.

    Returns
    -------
    pandas.DataFrame
        See :func:`churn_by_segment`.
    """
    table = totals_table(totals, variables=["value_at_risk"], hdi_prob=hdi_prob)
    table.insert(1, "n_at_risk", totals["n_at_risk"].values)
    table["flagged_value_at_risk_mean"] = totals["flagged_value_at_risk"].mean(
        SAMPLE_DIMS).values
    at_risk = totals["value_at_risk"].mean(SAMPLE_DIMS).values
    kept = totals["clv"].mean(SAMPLE_DIMS).values
    table["share_of_value_at_risk"] = at_risk / (at_risk + kept)
    return table
