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
from bayesclv.errors import DataError
from bayesclv.scoring.summaries import resolve_hdi_prob

__all__ = ["churn_by_segment", "churn_watchlist"]


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
    _check_threshold(p_alive_threshold)
    prob = resolve_hdi_prob(draws, hdi_prob)
    risk = customer_table(draws, variables=["value_at_risk"], hdi_prob=prob)
    table = pd.concat(
        [risk[["segment"]],
         pd.DataFrame({"p_alive_mean": draws["p_alive"].mean(("chain", "draw")).values,
                       "clv_mean": draws["clv"].mean(("chain", "draw")).values},
                      index=risk.index),
         risk.drop(columns=["segment", "value_at_risk_median", "value_at_risk_sd"])],
        axis=1,
    )
    table["at_risk"] = table["p_alive_mean"] < p_alive_threshold
    table = table.sort_values("value_at_risk_mean", ascending=False, kind="stable")
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    if top is not None:
        table = table.head(top)
    table.attrs = {**draws.attrs, "hdi_prob": prob, "p_alive_threshold": p_alive_threshold,
                   "value_at_risk": "(1 - P(alive)) x residual CLV if alive (currency)"}
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
    flagged = draws["p_alive"].mean(("chain", "draw")) < p_alive_threshold
    totals = segment_totals(draws, ["value_at_risk", "clv"])
    table = totals_table(totals, variables=["value_at_risk"], hdi_prob=hdi_prob)
    flagged_totals = segment_totals(
        draws[["value_at_risk"]].where(flagged, 0.0).assign_coords(segment=draws["segment"]),
        ["value_at_risk"])
    counts = segment_totals(
        xr.Dataset({"n": flagged.astype(float).expand_dims(chain=[0], draw=[0])},
                   coords={"segment": draws["segment"]}, attrs=draws.attrs), ["n"])
    table.insert(1, "n_at_risk", counts["n"].values[0, 0].astype(int))
    table["flagged_value_at_risk_mean"] = flagged_totals["value_at_risk"].mean(
        ("chain", "draw")).values
    at_risk = totals["value_at_risk"].mean(("chain", "draw")).values
    kept = totals["clv"].mean(("chain", "draw")).values
    table["share_of_value_at_risk"] = at_risk / (at_risk + kept)
    return table
