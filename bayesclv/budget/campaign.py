"""Simulate a campaign's outcome over the posterior: value, cost, ROI and the risk of a loss.

Per posterior draw, the campaign's **net incremental value** is the sum over targeted
customers of their chosen action's incremental value (already net of the per-customer cost)
minus the fixed costs of the actions used. Its **cost** is the spend (per-customer costs plus
those fixed costs; the same in every draw) and **ROI** = net incremental value / cost, so
ROI < 0 exactly when the net value is < 0. Totals' intervals are HDIs of the per-draw sums,
never sums of intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from bayesclv.actions import BASELINE
from bayesclv.budget.allocate import Allocation
from bayesclv.dims import SAMPLE_DIMS
from bayesclv.errors import DataError
from bayesclv.scoring.summaries import ordered_segments, resolve_hdi_prob, summarise_draws

__all__ = ["CampaignOutcome", "simulate_campaign"]


@dataclass(frozen=True, eq=False)
class CampaignOutcome:
    """What an allocation is worth over the posterior.

    Attributes
    ----------
    draws
        Dims (chain, draw): ``value`` (net incremental value, currency) and ``roi`` (value
        per unit of cost; NaN if the campaign costs nothing). ``attrs["cost"]`` is the spend.
    summary
        ``customers_targeted``, ``cost``, ``fixed_cost`` (currency); ``value_mean``,
        ``_median``, ``_sd``, ``_hdi_{p}%_low``, ``_hdi_{p}%_high`` and the same for ``roi``;
        ``p_roi_negative`` = P(ROI < 0) = P(value < 0); ``expected_loss`` = E[max(0,
        −value)] (currency).
    by_segment
        Per segment: ``customers_targeted``, ``cost`` (per-customer costs; fixed costs are
        not attributed to segments) and the summary of the summed ``value`` draws (before
        fixed costs).
    by_action
        Per action: ``customers_targeted``, ``cost`` (per-customer costs plus the action's
        fixed cost if used), ``fixed_cost`` and the summary of its summed ``value`` draws
        net of its fixed cost. The rows' values add up to the campaign's, draw by draw.
    """

    draws: xr.Dataset
    summary: pd.Series
    by_segment: pd.DataFrame
    by_action: pd.DataFrame


def simulate_campaign(action_values: xr.Dataset, allocation: Allocation, *,
                      hdi_prob: float | None = None) -> CampaignOutcome:
    """Per posterior draw, the net value, cost and ROI of an allocation, with summaries.

    Parameters
    ----------
    action_values
        The action values the allocation was made from (dims chain, draw, customer, action;
        ``incremental_value`` in currency, net of the per-customer cost).
    allocation
        From :func:`bayesclv.budget.allocate`.
    hdi_prob
        HDI mass (default: ``action_values.attrs["hdi_prob"]``, else 0.90); the level is in
        the column names (``value_hdi_90%_low``).

    Returns
    -------
    CampaignOutcome

    Raises
    ------
    DataError
        The allocation names customers or actions the action values do not have, or picks
        an option with no value (not eligible).
    """
    prob = resolve_hdi_prob(action_values, hdi_prob)
    values = action_values["incremental_value"].transpose(*SAMPLE_DIMS, "customer", "action")
    table = allocation.table
    targeted = table[table["action"] != BASELINE]
    customers = pd.Index(values["customer"].values).get_indexer(targeted.index)
    actions = pd.Index(values["action"].values.astype(str)).get_indexer(targeted["action"])
    if (customers < 0).any() or (actions < 0).any():
        raise DataError("the allocation names customers or actions that are not in the "
                        "action values; allocate and simulate on the same action values")
    gathered = values.values[..., customers, actions]
    missing = ~np.isfinite(gathered).all(axis=(0, 1))
    if missing.any():
        at = str(targeted.index[int(np.argmax(missing))])
        raise DataError(f"customer {at!r} is allocated {str(targeted['action'].loc[at])!r}, for "
                        "which its incremental_value is missing (not eligible)")
    fixed = allocation.fixed_costs
    cost = allocation.spent
    value = gathered.sum(axis=-1) - fixed.sum()
    coords = {dim: values[dim].values for dim in SAMPLE_DIMS}
    draws = xr.Dataset(
        {"value": (SAMPLE_DIMS, value),
         "roi": (SAMPLE_DIMS, value / cost if cost > 0 else np.full(value.shape, np.nan))},
        coords=coords,
        attrs={"cost": cost, "currency": allocation.currency, "hdi_prob": prob},
    )
    totals = summarise_draws(draws.expand_dims(campaign=["campaign"], axis=-1),
                             ["value", "roi"], prob, "campaign").iloc[0]
    summary = pd.concat([
        pd.Series({"customers_targeted": len(targeted), "cost": cost,
                   "fixed_cost": float(fixed.sum())}),
        totals,
        pd.Series({"p_roi_negative": float((value < 0).mean()),
                   "expected_loss": float(np.maximum(-value, 0.0).mean())}),
    ])
    summary.attrs = {"currency": allocation.currency, "hdi_prob": prob,
                     "criterion": allocation.criterion, "method": allocation.method}
    segments = values["segment"].values.astype(str)
    by_segment = _breakdown(gathered, targeted["segment"].to_numpy(dtype=str),
                            ordered_segments(segments, action_values.attrs.get("segments")),
                            targeted["cost"].to_numpy(),
                            None, coords, prob, "segment")
    by_action = _breakdown(gathered, targeted["action"].to_numpy(dtype=str),
                           list(values["action"].values.astype(str)),
                           targeted["cost"].to_numpy(), fixed, coords, prob, "action")
    return CampaignOutcome(draws=draws, summary=summary, by_segment=by_segment,
                           by_action=by_action)


def _breakdown(gathered: np.ndarray, group: np.ndarray, labels: list[str], cost: np.ndarray,
               fixed: pd.Series | None, coords: dict[str, np.ndarray], prob: float,
               dim: str) -> pd.DataFrame:
    """Summed value draws, counts and costs per group of targeted customers."""
    member = group[:, None] == np.asarray(labels, dtype=str)[None, :]
    fixed_cost = np.zeros(len(labels)) if fixed is None else fixed.reindex(labels).fillna(
        0.0).to_numpy()
    sums = gathered @ member.astype(float) - fixed_cost
    draws = xr.Dataset({"value": ((*SAMPLE_DIMS, dim), sums)}, coords={**coords, dim: labels})
    table = summarise_draws(draws, ["value"], prob, dim)
    table.insert(0, "customers_targeted", member.sum(axis=0))
    table.insert(1, "cost", cost @ member + fixed_cost)
    if fixed is not None:
        table.insert(2, "fixed_cost", fixed_cost)
    return table
