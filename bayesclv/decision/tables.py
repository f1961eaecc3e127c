"""Decision tables: per customer, per segment and overall, which action is worth what.

Every number is a statement about the posterior of the incremental value V (currency, net of
the action's cost per customer):

* ``value_mean``, ``value_sd`` and the HDI (level in the column name);
* ``p_positive`` = P(V > 0), the probability the action pays for itself;
* ``expected_loss`` = E[max(0, −V)], what the action is expected to lose (currency);
* ``score`` — the ranking criterion (the mean by default; risk-aware ones in
  :mod:`bayesclv.decision.criteria`).

Segment and overall totals treat targeting every eligible customer of the segment with the
action; their intervals are HDIs of the summed draws, never sums of intervals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from bayesclv.actions import BASELINE
from bayesclv.decision import criteria
from bayesclv.decision.criteria import Criterion, score
from bayesclv.dims import SAMPLE_DIMS
from bayesclv.scoring.inputs import check_chunk_size, chunk_slices
from bayesclv.scoring.summaries import (
    PORTFOLIO,
    hdi_label,
    ordered_segments,
    resolve_hdi_prob,
    summarise_draws,
)

__all__ = ["best_actions", "decision_table", "segment_decisions"]


def _risk(values: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    """P(V > 0) and E[max(0, −V)] over the sample dims (NaN stays NaN)."""
    positive = (values > 0).where(values.notnull()).mean(SAMPLE_DIMS)
    loss = np.maximum(-values, 0.0).mean(SAMPLE_DIMS)
    return positive.values, loss.values


def _stats(values: xr.DataArray, dim: str, prob: float) -> pd.DataFrame:
    """Mean, sd and HDI of ``values`` over draws, one row per ``dim`` entry."""
    table = summarise_draws(values.to_dataset(name="value"), ["value"], prob, dim)
    return table.drop(columns=["value_median"])


def decision_table(values: xr.Dataset, *, criterion: Criterion | str | None = None,
                   hdi_prob: float | None = None, chunk_size: int = 2_000) -> pd.DataFrame:
    """Every eligible (customer, action): value, interval, risk, score and rank.

    Parameters
    ----------
    values
        From :func:`bayesclv.decision.action_values`.
    criterion
        Ranking criterion (default: the posterior mean).
    hdi_prob
        HDI mass (default: ``values.attrs["hdi_prob"]``, 0.90).
    chunk_size
        Eligible (customer, action) pairs summarised at a time: besides ``values`` the
        working memory is about 5 × samples × chunk_size × 8 bytes. It changes no number.

    Returns
    -------
    pandas.DataFrame
        One row per eligible (customer, action), sorted by customer and rank: ``segment``,
        ``value_mean``, ``value_sd``, ``value_hdi_{p}%_low/high`` (currency), ``p_positive``,
        ``expected_loss`` (currency), ``score`` and ``rank`` (1 = best action for that
        customer by the criterion). ``worth_it`` says whether the score beats doing nothing
        (score > 0).
    """
    rule = criteria.criterion(criterion)
    prob = resolve_hdi_prob(values, hdi_prob)
    # the eligible options, customer by customer
    customer, action = np.nonzero(values["eligible"].transpose("customer", "action").values)
    table = pd.concat([
        _option_rows(values, customer[part], action[part], rule, prob)
        for part in chunk_slices(customer.size, chunk_size) or [slice(0, 0)]])
    table["worth_it"] = table["score"] > 0
    table["rank"] = table.groupby(level="customer")["score"].rank(
        ascending=False, method="first").astype(int)
    table = table.sort_values(["customer", "rank"], kind="stable")
    table.attrs = {**values.attrs, "hdi_prob": prob, "criterion": rule.label,
                   "uncertainty": "parameter and effect uncertainty"}
    return table


def _option_rows(values: xr.Dataset, customer: np.ndarray, action: np.ndarray,
                 rule: Criterion, prob: float) -> pd.DataFrame:
    """Value, interval, risk and score of the options (customer[i], action[i]), unranked."""
    options = values["incremental_value"].isel(
        customer=xr.DataArray(customer, dims="option"),
        action=xr.DataArray(action, dims="option"),
    ).transpose(*SAMPLE_DIMS, "option")
    table = _stats(options.drop_vars(["customer", "action", "segment", "cost", "fixed_cost",
                                      "description"], errors="ignore"), "option", prob)
    positive, loss = _risk(options)
    table.index = pd.MultiIndex.from_arrays(
        [values["customer"].values[customer], values["action"].values[action]],
        names=["customer", "action"])
    table.insert(0, "segment", values["segment"].values[customer])
    table["p_positive"] = positive
    table["expected_loss"] = loss
    table["score"] = score(options, rule).values
    return table


def best_actions(values: xr.Dataset, *, criterion: Criterion | str | None = None,
                 hdi_prob: float | None = None, chunk_size: int = 2_000) -> pd.DataFrame:
    """The best action per customer, or ``do_nothing`` when no action's score is above 0.

    Parameters are those of :func:`decision_table`.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer: ``segment``, ``best_action``, its ``value_mean``, HDI,
        ``p_positive``, ``expected_loss`` and ``score`` (zeros for ``do_nothing``),
        ``baseline_clv_mean`` (currency) and ``runner_up`` (the next action, if any).
    """
    table = decision_table(values, criterion=criterion, hdi_prob=hdi_prob,
                           chunk_size=chunk_size)
    label = hdi_label(table.attrs["hdi_prob"])
    columns = ["value_mean", f"value_{label}_low", f"value_{label}_high", "p_positive",
               "expected_loss", "score"]
    first = table[table["rank"] == 1].reset_index(level="action")
    second = table[table["rank"] == 2].reset_index(level="action")["action"]
    customers = values["customer"].values
    out = pd.DataFrame(index=pd.Index(customers, name="customer"))
    out["segment"] = values["segment"].values
    out["best_action"] = first["action"].where(first["worth_it"]).reindex(customers).fillna(
        BASELINE).values
    chosen = out["best_action"] != BASELINE
    for column in columns:
        out[column] = first[column].reindex(customers).where(chosen.values, 0.0).values
    out["runner_up"] = second.reindex(customers).values
    out["baseline_clv_mean"] = values["baseline_clv"].mean(SAMPLE_DIMS).values
    out.attrs = table.attrs
    return out


def segment_decisions(values: xr.Dataset, *, criterion: Criterion | str | None = None,
                      hdi_prob: float | None = None, chunk_size: int = 2_000) -> pd.DataFrame:
    """Per segment (and overall) and action: the value of targeting every eligible customer.

    Parameters are those of :func:`decision_table`; here ``chunk_size`` customers' worth
    of values (a block of draws of every customer) are summed at a time.

    Returns
    -------
    pandas.DataFrame
        Indexed by (segment, action), the last segment ``"portfolio"``: ``n_eligible``,
        ``cost_total`` (currency, per-customer costs; fixed costs listed apart as
        ``fixed_cost``), ``value_mean``, ``value_sd``, HDI of the summed draws,
        ``p_positive``, ``expected_loss``, ``score`` of the total, ``value_per_customer``,
        ``n_best`` (customers whose best action it is) and ``rank`` within the segment.
    """
    rule = criteria.criterion(criterion)
    prob = resolve_hdi_prob(values, hdi_prob)
    eligible = values["eligible"]
    segment = values["segment"].values.astype(str)
    labels = ordered_segments(segment, values.attrs.get("segments"))
    groups = [(label, segment == label) for label in labels] + [
        (PORTFOLIO, np.ones(segment.size, dtype=bool))]
    best = best_actions(values, criterion=rule, hdi_prob=prob, chunk_size=chunk_size)
    sums = _group_totals(values["incremental_value"], [mask for _, mask in groups], chunk_size)
    frames = []
    for (label, mask), totals in zip(groups, sums, strict=True):
        table = _stats(totals.drop_vars(["description"], errors="ignore"), "action", prob)
        positive, loss = _risk(totals)
        n_eligible = eligible.isel(customer=np.flatnonzero(mask)).sum("customer").values
        table.insert(0, "n_eligible", n_eligible.astype(int))
        table.insert(1, "cost_total", n_eligible * values["cost"].values)
        table.insert(2, "fixed_cost", values["fixed_cost"].values)
        table["p_positive"] = positive
        table["expected_loss"] = loss
        table["score"] = score(totals, rule).values
        table["value_per_customer"] = table["value_mean"] / np.maximum(n_eligible, 1)
        chosen = best.loc[mask, "best_action"].value_counts()
        table["n_best"] = chosen.reindex(table.index).fillna(0).astype(int).values
        table["rank"] = table["score"].rank(ascending=False, method="first").astype(int)
        table.index = pd.MultiIndex.from_product([[label], table.index],
                                                 names=["segment", "action"])
        frames.append(table)
    out = pd.concat(frames)
    out.attrs = {**values.attrs, "hdi_prob": prob, "criterion": rule.label,
                 "interval": "HDI of the per-draw totals over eligible customers"}
    return out


def _group_totals(value: xr.DataArray, masks: list[np.ndarray],
                  chunk_size: int) -> list[xr.DataArray]:
    """Per draw and action, the sum over each group's customers (not eligible: 0).

    A block of draws at a time, holding as many values as ``chunk_size`` customers with
    every draw. A draw's sum depends on that draw only, so the blocks' sums, concatenated
    along ``draw``, are those of all draws at once, number for number (partial sums of
    customers taken a chunk at a time would be added in another order).
    """
    per_block = max(1, value.sizes["draw"] * check_chunk_size(chunk_size)
                    // max(1, value.sizes["customer"]))
    parts: list[list[xr.DataArray]] = [[] for _ in masks]
    for start in range(0, value.sizes["draw"], per_block):
        block = value.isel(draw=slice(start, start + per_block)).fillna(0.0)
        for sums, mask in zip(parts, masks, strict=True):
            sums.append(block.isel(customer=np.flatnonzero(mask)).sum("customer"))
    return [xr.concat(sums, dim="draw", coords="minimal", compat="override") for sums in parts]
