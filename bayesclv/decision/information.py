"""Value of information: where learning an action's true effect would pay before a roll-out.

For action a with uncertain effect θ_a, the expected value of perfect partial information is

    EVPPI_a = E_θa[ Σ_i max_d E[V_d,i | θ_a] ] − Σ_i max_d E[V_d,i],

the gain from deciding every customer's action (a, another action, or doing nothing) *after*
learning θ_a rather than now. Only action a's value depends on θ_a, so E[V_a,i | θ_a] is
computed by fixing the effect at each of ``n_effect_draws`` draws of θ_a and averaging over
the posterior draws of the model parameters; the other options keep their posterior means.
Decisions are per customer, so the total is the sum of per-customer gains and splits exactly
by segment.

EVPPI bounds what any test of the action can be worth: a test campaign (with its cost and its
delay) only pays where EVPPI is well above the test's cost. Risk-neutral (expected value).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from bayesclv.actions import Action
from bayesclv.data import CustomerSummary
from bayesclv.decision.values import action_values, draw_action_factors
from bayesclv.dims import SAMPLE_DIMS
from bayesclv.errors import SpecError
from bayesclv.models import Fit
from bayesclv.models.fit import Customers
from bayesclv.scoring.inputs import (
    CustomerInputs,
    PosteriorDraws,
    customer_inputs,
    posterior_draws,
)
from bayesclv.scoring.residual_value import ActionFactors, ResidualValue
from bayesclv.scoring.settings import Convention, ValueSettings, value_settings
from bayesclv.scoring.summaries import PORTFOLIO, ordered_segments
from bayesclv.spec import ValueSpec

__all__ = ["value_of_information"]


def value_of_information(
    fit: Fit,
    summary: CustomerSummary,
    actions: Sequence[Action] | None = None,
    *,
    n_effect_draws: int = 32,
    max_samples: int = 250,
    value: ValueSpec | None = None,
    convention: Convention = "end",
    seed: int = 0,
    customers: Customers = "fitted",
    values: xr.Dataset | None = None,
    chunk_size: int = 2_000,
) -> pd.DataFrame:
    """Expected value of perfect information about each action's effect, per segment.

    Parameters
    ----------
    fit, summary, actions, value, convention, customers
        As for :func:`bayesclv.decision.action_values`.
    n_effect_draws
        Draws of each action's effect at which the conditional expectation is computed.
    max_samples
        Posterior draws used (the chains are thinned evenly down to at most this many); the
        conditional expectations average over them.
    seed
        Seed of the effect draws.
    values
        An :func:`~bayesclv.decision.action_values` result for the same customers and
        actions (any thinning), reused for the other options' posterior means and for
        eligibility instead of scoring the actions again.
    chunk_size
        Eligible customers scored at a time: the working memory is about
        11 × samples × chunk_size × 8 bytes whatever the number of customers (besides
        ``values``, and n_effect_draws × customers × 8 bytes of conditional means). It
        changes no number.

    Returns
    -------
    pandas.DataFrame
        Indexed by (action, segment), the last segment ``"portfolio"``: ``n_eligible``,
        ``value_now`` (Σ over the segment's customers of the best option's expected value
        with the effect uncertain, currency), ``evppi`` (currency) and
        ``evppi_per_eligible`` (currency per eligible customer).

    Raises
    ------
    SpecError
        If ``n_effect_draws`` < 2 or ``max_samples`` < 1, and as ``action_values``.
    """
    if not isinstance(n_effect_draws, int) or n_effect_draws < 2:
        raise SpecError(f"n_effect_draws must be a whole number >= 2, got {n_effect_draws!r}")
    if not isinstance(max_samples, int) or max_samples < 1:
        raise SpecError(f"max_samples must be a whole number >= 1, got {max_samples!r}")
    actions = tuple(actions if actions is not None else fit.spec.actions)
    n_total = fit.parameters().sizes["chain"] * fit.parameters().sizes["draw"]
    thin = max(1, math.ceil(n_total / max_samples))
    inputs = customer_inputs(summary, fit, customers=customers)
    if values is None:
        values = action_values(fit, summary, actions, value=value, convention=convention,
                               thin=thin, seed=seed, chunk_size=chunk_size,
                               customers=customers)
    elif (list(values["action"].values) != [a.name for a in actions]
          or values.sizes["customer"] != len(inputs)):
        raise SpecError("values must be action_values of the same actions and customers "
                        f"(got actions {list(values['action'].values)} for "
                        f"{values.sizes['customer']:,} customers)")
    means = values["incremental_value"].mean(SAMPLE_DIMS).values  # NaN: not eligible
    eligible = values["eligible"].values
    settings = value_settings(value if value is not None else fit.spec.value, fit.time_unit,
                              convention)
    post = posterior_draws(fit, thin=thin, value=settings.value)
    segment = values["segment"].values.astype(str)
    rng = np.random.default_rng([seed, 1])
    frames = []
    for k, action in enumerate(actions):
        others = np.delete(means, k, axis=1)
        # Best other option per customer (ineligible ones are NaN), or doing nothing.
        alternative = np.maximum(0.0, np.max(np.nan_to_num(others, nan=-np.inf), axis=1,
                                             initial=-np.inf))
        # only customers eligible for the action can gain from learning its effect
        who = np.flatnonzero(eligible[:, k])
        conditional = _conditional_means(post, inputs.take(who), settings, action,
                                         n_effect_draws, rng, chunk_size)
        now = alternative.copy()
        now[who] = np.maximum(alternative[who], conditional.mean(axis=0))
        gain = np.zeros(len(inputs))
        gain[who] = np.maximum(alternative[who][None, :], conditional).mean(axis=0) - now[who]
        frames.append(_by_segment(action.name, ordered_segments(segment, post.segments), segment,
                                  eligible[:, k], now, gain))
    table = pd.concat(frames)
    table.attrs = {**values.attrs, "n_effect_draws": n_effect_draws, "posterior_samples":
                   post.n_samples, "criterion": "mean (risk-neutral)"}
    return table


def _conditional_means(post: PosteriorDraws, customers: CustomerInputs,
                       settings: ValueSettings, action: Action, n_draws: int,
                       rng: np.random.Generator, chunk_size: int) -> np.ndarray:
    """E[V_a,i | θ_a = θ_k] over the posterior, for each effect draw k: (n_draws, customers).

    The effects are drawn once; customers are scored ``chunk_size`` at a time.
    """
    draws = draw_action_factors(action, post.segments, n_draws, rng)
    fixed = [ActionFactors(purchase=draws.purchase[k:k + 1], dropout=draws.dropout[k:k + 1],
                           spend=draws.spend[k:k + 1], reactivation=draws.reactivation[k:k + 1])
             for k in range(n_draws)]
    out = np.empty((n_draws, len(customers)))
    for index in customers.chunks(chunk_size, by_history=True):
        residual = ResidualValue(post, customers.take(index), settings)
        for k, factors in enumerate(fixed):
            out[k, index] = residual.incremental(factors, action.cost).mean(axis=0)
    return out


def _by_segment(action: str, labels: list[str], segment: np.ndarray, eligible: np.ndarray,
                now: np.ndarray, gain: np.ndarray) -> pd.DataFrame:
    rows = []
    for label, mask in [(s, segment == s) for s in labels] + [
            (PORTFOLIO, np.ones(segment.size, dtype=bool))]:
        n = int((mask & eligible).sum())
        evppi = float(gain[mask].sum())
        rows.append({"action": action, "segment": label, "n_eligible": n,
                     "value_now": float(now[mask & eligible].sum()), "evppi": evppi,
                     "evppi_per_eligible": evppi / n if n else 0.0})
    return pd.DataFrame(rows).set_index(["action", "segment"])
