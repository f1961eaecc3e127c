"""Incremental value of retention actions per posterior draw, customer and action.

For every draw, customer and action:

    incremental value = CLV under the action − baseline CLV − cost per customer.

The action's effect is applied to the **process parameters of that draw** (the purchase rate
λ, the dropout rate μ or probability p, the spend, and the chance that a lapsed customer is
reactivated), not to the final CLV, and one effect draw is paired with each posterior draw, so
parameter and effect uncertainty propagate together. An effect is a population quantity: in
one draw every customer of a segment gets the same effect. Values are residual (from the
calibration end), discounted and in currency, like :func:`bayesclv.clv.clv_draws`.

Under an action, a customer's residual value is

    margin × spend × f_spend × D'(history) × (P(alive) + (1 − P(alive)) × ρ),

where D' is the discounted expected purchases given alive with λ and μ (or p) scaled by the
effect, and ρ the reactivation probability (0 unless the action reactivates lapsed
customers). A reactivated customer is scored as if alive at the calibration end; given the
history, a customer who lapsed at τ < T has a purchase rate no lower than one alive at T, so
this is a conservative approximation of a win-back's value. Without a spend model, spend is
``value.per_purchase`` for every customer and draw, and a spend effect scales it the same
way. The product is formed in :mod:`bayesclv.scoring.residual_value`, the baseline's home
too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from bayesclv.actions import BASELINE, PROCESSES, Action, Effect
from bayesclv.data import CustomerSummary
from bayesclv.errors import SpecError
from bayesclv.models import Fit
from bayesclv.models.fit import Customers
from bayesclv.scoring.inputs import CustomerInputs, PosteriorDraws, customer_inputs, posterior_draws
from bayesclv.scoring.residual_value import ActionFactors, ResidualValue
from bayesclv.scoring.settings import Convention, ValueSettings, value_settings
from bayesclv.spec import ValueSpec
from bayesclv.units import weeks_per_unit

__all__ = ["action_values", "draw_action_factors"]


def draw_action_factors(action: Action, segments: Sequence[str], n: int,
                        rng: np.random.Generator) -> ActionFactors:
    """Draw an action's effects: one draw per sample, shared by the segments that share a prior.

    A default effect is drawn once per sample and applies to every segment without an
    override; each segment override is drawn separately. Effects learned together (the same
    ``Effect.joint`` label) are drawn at the same posterior indices, so their correlation
    is kept, across processes and segments.
    """
    neutral = {"purchase_rate": 1.0, "dropout_rate": 1.0, "spend": 1.0, "reactivation": 0.0}
    columns = {process: np.full((n, len(segments)), value) for process, value in neutral.items()}
    picks: dict[str, np.ndarray] = {}

    def draw(effect: Effect) -> np.ndarray:
        if effect.joint is None:
            return effect.draw(n, rng)
        if effect.joint not in picks:
            picks[effect.joint] = rng.integers(effect.samples.size, size=n)
        return effect.at(picks[effect.joint])

    shared: dict[str, np.ndarray] = {e.process: draw(e) for e in action.effects}
    for j, segment in enumerate(segments):
        for process, effect in action.effects_for(segment).items():
            override = _is_override(action, segment, effect)
            columns[process][:, j] = draw(effect) if override else shared[process]
    return ActionFactors(purchase=columns["purchase_rate"], dropout=columns["dropout_rate"],
                         spend=columns["spend"], reactivation=columns["reactivation"])


def _is_override(action: Action, segment: str, effect: Effect) -> bool:
    return any(e is effect for e in action.segment_effects.get(segment, ()))


def action_values(
    fit: Fit,
    summary: CustomerSummary,
    actions: Sequence[Action] | None = None,
    *,
    value: ValueSpec | None = None,
    convention: Convention = "end",
    thin: int = 1,
    customers: Customers = "fitted",
    seed: int = 0,
    chunk_size: int = 2_000,
) -> xr.Dataset:
    """Incremental value of each action, per posterior draw and customer.

    Parameters
    ----------
    fit
        A frequency/dropout fit with a spend model, or without one when the value
        settings give ``per_purchase`` (every purchase then worth that much).
    summary
        The customers to decide about (segments known to the fit).
    actions
        The candidate actions (default: the fit's ``spec.actions``). "Do nothing" is the
        implicit baseline and is not listed.
    value
        Margin, annual discount rate, horizon and HDI mass (default: the fit's
        ``spec.value``).
    convention
        Discount each period's purchases at its ``"end"`` (default) or ``"mid"``-point.
    thin
        Keep every ``thin``-th posterior draw of each chain. Memory of the result is
        samples × customers × (actions + 2) × 8 bytes.
    seed
        Seed of the effect draws: the same seed gives identical results.
    chunk_size
        Customers scored at a time, in order of their histories (so a chunk shares them):
        beside the result the working memory is about 11 × samples × chunk_size × 8 bytes.
        It changes no number.
    customers
        ``"fitted"`` (default): the customers the fit saw, with the histories it saw (all
        of them or a subset); ``"new"``: customers or histories it did not see (new
        customers, a later snapshot). A summary that is not what it says is refused
        (:func:`bayesclv.models.fit.check_customers`).

    Returns
    -------
    xarray.Dataset
        ``incremental_value`` (chain, draw, customer, action), currency, NaN where the
        customer is not eligible; ``baseline_clv`` and ``p_alive`` (chain, draw, customer);
        ``eligible`` (customer, action); ``effect`` (chain, draw, action, effect_segment,
        process): the effect drawn (relative change, or the reactivation probability). Coordinates
        ``segment`` on customer and ``cost``, ``fixed_cost``, ``description`` on action.

    Raises
    ------
    SpecError
        No actions; an eligibility or segment override naming a segment the fit does not
        know; an eligibility that selects no customer.
    """
    actions = tuple(actions if actions is not None else fit.spec.actions)
    if not actions:
        raise SpecError("no actions to evaluate: pass actions or add [[actions]] to the spec")
    names = [a.name for a in actions]
    if len(set(names)) != len(names):
        raise SpecError(f"action names must be unique, got {names}")
    settings = value_settings(value if value is not None else fit.spec.value, fit.time_unit,
                              convention)
    post = posterior_draws(fit, thin=thin, value=settings.value)
    inputs = customer_inputs(summary, fit, customers=customers)
    for action in actions:
        _check_segments(action, post.segments)
    rng = np.random.default_rng(seed)
    factors = [draw_action_factors(a, post.segments, post.n_samples, rng) for a in actions]

    n = len(inputs)
    incremental = np.empty((post.n_samples, n, len(actions)))
    baseline = np.empty((post.n_samples, n))
    alive = np.empty((post.n_samples, n))
    for index in inputs.chunks(chunk_size, by_history=True):
        residual = ResidualValue(post, inputs.take(index), settings)
        baseline[:, index] = residual.baseline
        alive[:, index] = residual.p_alive
        for k, (action, action_factors) in enumerate(zip(actions, factors, strict=True)):
            incremental[:, index, k] = residual.incremental(action_factors, action.cost)

    eligible = _eligibility(actions, inputs, alive.mean(axis=0), baseline.mean(axis=0),
                            fit.time_unit)
    incremental[:, ~eligible] = np.nan
    return _label(post, inputs, settings, actions, factors, incremental, baseline, alive,
                  eligible, seed)


def _check_segments(action: Action, segments: Sequence[str]) -> None:
    known = set(segments)
    named = {
        "eligibility.segments": set(action.eligibility.segments or ()),
        "segment_effects": set(action.segment_effects),
    }
    for field, labels in named.items():
        unknown = sorted(labels - known)
        if unknown:
            raise SpecError(
                f"action '{action.name}': field '{field}' names segment(s) {unknown} the fit "
                f"does not know (fitted segments: {list(segments)})"
            )


def _eligibility(actions: Sequence[Action], inputs: CustomerInputs, p_alive_mean: np.ndarray,
                 clv_mean: np.ndarray, time_unit: str) -> np.ndarray:
    """(customers, actions) mask; an action that selects nobody is an error naming its bands."""
    recency = (inputs.T - inputs.t_x) * weeks_per_unit(time_unit)
    masks = []
    for action in actions:
        rule = action.eligibility
        mask = np.ones(len(inputs), dtype=bool)
        if rule.segments is not None:
            mask &= np.isin(inputs.segment.astype(str), rule.segments)
        for values, (low, high) in ((p_alive_mean, rule.p_alive), (clv_mean, rule.clv),
                                    (recency, rule.recency_weeks)):
            mask &= (values >= low) & (values <= high)
        if not mask.any():
            raise SpecError(
                f"action '{action.name}': its eligibility {rule.to_dict() or '(none)'} selects "
                f"none of the {len(inputs):,} customers; widen 'eligibility' "
                "(p_alive and clv are posterior means; recency_weeks = T − t_x in weeks)"
            )
        masks.append(mask)
    return np.column_stack(masks)


def _label(post: PosteriorDraws, inputs: CustomerInputs, settings: ValueSettings,
           actions: Sequence[Action], factors: Sequence[ActionFactors], incremental: np.ndarray,
           baseline: np.ndarray, alive: np.ndarray, eligible: np.ndarray,
           seed: int) -> xr.Dataset:
    coords = inputs.coords()
    names = [a.name for a in actions]
    action_coords = {
        "action": names,
        "cost": ("action", [a.cost for a in actions]),
        "fixed_cost": ("action", [a.fixed_cost for a in actions]),
        "description": ("action", [a.description for a in actions]),
    }
    effect = post.unstack(np.stack([f.stacked() for f in factors], axis=1),
                          ("action", "effect_segment", "process"),
                          {"action": names, "effect_segment": list(post.segments),
                           "process": list(PROCESSES)})
    data = {
        "incremental_value": post.unstack(incremental, ("customer", "action"),
                                          {**coords, **action_coords}).assign_attrs(
            description="CLV under the action - baseline CLV - cost per customer (currency); "
                        "NaN where not eligible"),
        "baseline_clv": post.unstack(baseline, ("customer",), coords).assign_attrs(
            description=f"residual CLV under '{BASELINE}' (currency)"),
        "p_alive": post.unstack(alive, ("customer",), coords).assign_attrs(
            description="P(alive) at the calibration end"),
        "eligible": xr.DataArray(eligible, dims=("customer", "action"),
                                 coords={**coords, **action_coords}),
        "effect": effect.assign_attrs(
            description="effect drawn: relative change of dropout rate, purchase rate, spend; "
                        "reactivation probability"),
    }
    return xr.Dataset(data, attrs={
        **settings.attrs(), "seed": seed, "segments": list(post.segments),
        "value_kind": "incremental residual CLV: under the action - baseline - cost",
    })
