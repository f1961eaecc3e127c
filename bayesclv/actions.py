"""Retention actions and campaign budgets as specs: data, validated once, when built.

An :class:`Action` is what an analyst could do to a customer (a loyalty offer, a discount, a
service call, a win-back), with a cost and an **uncertain** effect on the processes behind
CLV. Each :class:`Effect` is a prior stated as a 90 % range, or a posterior learned from an
experiment (:func:`bayesclv.decision.learn_effect`). "Do nothing" is the implicit baseline.

The processes an effect can act on:

* ``dropout_rate`` — relative change of the dropout rate μ (Pareto/NBD) or of the mean
  dropout probability per purchase (BG/NBD); −0.2 means "20 % less churn";
* ``purchase_rate`` — relative change of the purchase rate λ while alive;
* ``spend`` — relative change of the expected spend per purchase;
* ``reactivation`` — the probability that a customer who has already lapsed comes back
  (a probability, not a relative change): the point of a win-back offer.

A relative change δ with 90 % range [low, high] is log-normal on the factor 1 + δ: log(1 + δ)
~ Normal with its 5 % and 95 % quantiles at log(1 + low), log(1 + high). A reactivation
probability is logit-normal in the same way. ``low == high`` is a known effect.

In ``models/*.toml``::

    [[actions]]
    name = "loyalty_programme"
    description = "Enrolment in the points programme"
    cost = 6.0                        # per targeted customer, currency
    fixed_cost = 1500.0               # once per campaign, if anyone is enrolled
    [actions.eligibility]
    p_alive = [0.5, 1.0]              # posterior mean P(alive) band
    [actions.effects]
    dropout_rate = [-0.30, -0.05]     # 90 % range of the relative change
    [actions.segment_effects."1997-01·high"]
    dropout_rate = [-0.40, -0.10]     # this segment responds differently

    [budget]
    amount = 5000.0
    criterion = "mean"
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy import special

from bayesclv.errors import SpecError
from bayesclv.fields import check_keys, choice, count, number, subtable, typed

__all__ = [
    "ALLOCATION_METHODS",
    "BASELINE",
    "CRITERIA",
    "PROCESSES",
    "Action",
    "BudgetSpec",
    "Effect",
    "Eligibility",
    "actions_from_dicts",
    "budget_from_dict",
]

BASELINE = "do_nothing"
"""Name of the always-available baseline: no action, no cost, no effect."""

PROCESSES: tuple[str, ...] = ("dropout_rate", "purchase_rate", "spend", "reactivation")
RELATIVE: tuple[str, ...] = ("dropout_rate", "purchase_rate", "spend")
Z_90 = float(special.ndtri(0.95))
"""The 95 % standard-normal quantile: a 90 % range spans ± Z_90 standard deviations."""


@dataclass(frozen=True)
class Effect:
    """An uncertain effect of an action on one process.

    Attributes
    ----------
    process
        One of ``dropout_rate``, ``purchase_rate``, ``spend`` (relative changes) or
        ``reactivation`` (a probability).
    low, high
        The 90 % range: 5 % and 95 % quantiles of the relative change (e.g. −0.30, −0.10 for
        "cuts dropout by 10–30 %") or of the reactivation probability.
    samples
        Draws of the relative change (or probability) from a learned posterior; when given,
        they are the effect's distribution and ``low``/``high`` are their 5 %/95 %
        quantiles.
    source
        Where the distribution comes from (``"prior"`` or an experiment's description).
    joint
        With ``samples``: a label of the posterior they came from. Effects of one action
        with the same label are drawn at the same sample indices, which keeps their
        correlation (e.g. the purchase and dropout effects learned in one fit).
    """

    process: str
    low: float
    high: float
    samples: np.ndarray | None = field(default=None, compare=False, repr=False)
    source: str = "prior"
    joint: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        name = f"effects.{self.process}"
        if self.process not in PROCESSES:
            raise SpecError(f"unknown effect '{self.process}'; effects are {', '.join(PROCESSES)}")
        low, high = float(self.low), float(self.high)
        if not (math.isfinite(low) and math.isfinite(high)):
            raise SpecError(f"field '{name}' must be finite, got [{low}, {high}]")
        if low > high:
            raise SpecError(f"field '{name}' = [{low}, {high}]: the low end is above the high end")
        if self.process in RELATIVE and low <= -1.0:
            raise SpecError(
                f"field '{name}' = [{low}, {high}] is impossible: a relative change of "
                f"{low:.0%} would cut the {self.process.replace('_', ' ')} by 100 % or more; "
                "give the 90 % range of the relative change, each end > -1"
            )
        if self.process == "reactivation" and not 0.0 < low <= high < 1.0:
            raise SpecError(
                f"field '{name}' = [{low}, {high}] must be a 90 % range of a probability, "
                "0 < low <= high < 1"
            )
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        if self.samples is not None:
            samples = np.asarray(self.samples, dtype=np.float64).ravel()
            lowest = -1.0 if self.process in RELATIVE else 0.0
            if samples.size == 0 or not np.all(np.isfinite(samples)) or np.any(
                    samples <= lowest) or (self.process == "reactivation" and np.any(samples >= 1)):
                raise SpecError(f"samples of '{name}' must be finite values in the effect's range")
            samples.setflags(write=False)
            object.__setattr__(self, "samples", samples)
        elif self.joint is not None:
            raise SpecError(f"effect '{name}' has a joint label but no samples to share")

    @classmethod
    def from_samples(cls, process: str, samples: Sequence[float] | np.ndarray,
                     source: str, joint: str | None = None) -> Effect:
        """An effect whose distribution is a set of draws (e.g. a learned posterior)."""
        samples = np.asarray(samples, dtype=np.float64).ravel()
        if samples.size == 0:
            raise SpecError(f"no samples given for effect '{process}'")
        low, high = np.quantile(samples, [0.05, 0.95])
        return cls(process, float(low), float(high), samples=samples, source=source,
                   joint=joint)

    @property
    def is_probability(self) -> bool:
        """True for ``reactivation`` (a probability), False for relative changes."""
        return self.process not in RELATIVE

    def normal(self) -> tuple[float, float]:
        """(mean, sd) of the prior on the unconstrained scale.

        log(1 + δ) for a relative change, logit(ρ) for a reactivation probability: the 90 %
        range maps to mean ± 1.645 sd.
        """
        transform = special.logit if self.is_probability else np.log1p
        lo, hi = float(transform(self.low)), float(transform(self.high))
        return 0.5 * (lo + hi), (hi - lo) / (2.0 * Z_90)

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws of the multiplicative factor 1 + δ (or of the probability ρ)."""
        if self.samples is not None:
            return self.at(rng.integers(self.samples.size, size=n))
        mean, sd = self.normal()
        z = mean + sd * rng.standard_normal(n)
        return special.expit(z) if self.is_probability else np.exp(z)

    def at(self, index: np.ndarray) -> np.ndarray:
        """The factor 1 + δ (or ρ) at given indices of ``samples`` (a joint draw)."""
        if self.samples is None:
            raise SpecError(f"effect '{self.process}' has no samples to index")
        picked = self.samples[index]
        return picked if self.is_probability else 1.0 + picked

    def describe(self) -> str:
        """The effect in words, e.g. ``dropout_rate -30 % to -5 % (90 %, prior)``."""
        if self.is_probability:
            return f"{self.process} {self.low:.0%} to {self.high:.0%} (90 %, {self.source})"
        return f"{self.process} {self.low:+.0%} to {self.high:+.0%} (90 %, {self.source})"


@dataclass(frozen=True)
class Eligibility:
    """Which customers an action may target. Every band is inclusive.

    Attributes
    ----------
    segments
        Segment labels allowed (None: all segments).
    p_alive
        Band of the posterior mean P(alive) at the calibration end.
    clv
        Band of the posterior mean baseline residual CLV (currency).
    recency_weeks
        Band of the time since the last purchase at the calibration end, T − t_x, in weeks
        (converted from the fit's time unit).
    """

    segments: tuple[str, ...] | None = None
    p_alive: tuple[float, float] = (0.0, 1.0)
    clv: tuple[float, float] = (-math.inf, math.inf)
    recency_weeks: tuple[float, float] = (0.0, math.inf)

    def __post_init__(self) -> None:
        if self.segments is not None:
            labels = tuple(str(s) for s in self.segments)
            if not labels:
                raise SpecError("field 'eligibility.segments' is empty: it would select nobody")
            object.__setattr__(self, "segments", labels)
        for name, lowest, highest in (("p_alive", 0.0, 1.0), ("clv", -math.inf, math.inf),
                                      ("recency_weeks", 0.0, math.inf)):
            band = getattr(self, name)
            if len(band) != 2:
                raise SpecError(f"field 'eligibility.{name}' must be [low, high], got {band!r}")
            lo, hi = float(band[0]), float(band[1])
            if math.isnan(lo) or math.isnan(hi) or lo > hi or lo < lowest or hi > highest:
                raise SpecError(
                    f"field 'eligibility.{name}' = [{lo}, {hi}] must satisfy "
                    f"{lowest} <= low <= high <= {highest}"
                )
            object.__setattr__(self, name, (lo, hi))

    def to_dict(self) -> dict[str, Any]:
        """The fields that differ from the defaults, TOML-shaped."""
        default = Eligibility()
        out: dict[str, Any] = {}
        for name in ("segments", "p_alive", "clv", "recency_weeks"):
            value = getattr(self, name)
            if value != getattr(default, name):
                out[name] = list(value)
        return out


@dataclass(frozen=True)
class Action:
    """A retention action: who may get it, what it costs, and its uncertain effect.

    Attributes
    ----------
    name
        Short identifier (not ``"do_nothing"``, the implicit baseline).
    cost
        Cost per targeted customer (currency, present value), ≥ 0.
    effects
        One :class:`Effect` per process the action changes.
    description
        One line for reports.
    fixed_cost
        Campaign cost paid once if at least one customer gets the action (currency), ≥ 0.
    eligibility
        Which customers may be targeted.
    segment_effects
        Per segment label, effects that replace the default effect of the same process in
        that segment (a process missing from ``effects`` then has no effect elsewhere).
    """

    name: str
    cost: float
    effects: tuple[Effect, ...]
    description: str = ""
    fixed_cost: float = 0.0
    eligibility: Eligibility = field(default_factory=Eligibility)
    segment_effects: Mapping[str, tuple[Effect, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise SpecError("field 'name' must be a non-empty string")
        if self.name == BASELINE:
            raise SpecError(f"field 'name' = {BASELINE!r} is reserved for the baseline")
        for name in ("cost", "fixed_cost"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    math.isfinite(value) and value >= 0):
                raise SpecError(f"field '{name}' must be a finite amount >= 0, got {value!r}")
            object.__setattr__(self, name, float(value))
        object.__setattr__(self, "effects", _unique_effects(self.effects, "effects"))
        if not self.effects and not self.segment_effects:
            raise SpecError("field 'effects' is empty: an action needs an effect on something")
        overrides = {str(k): _unique_effects(v, f"segment_effects.{k}")
                     for k, v in self.segment_effects.items()}
        object.__setattr__(self, "segment_effects", overrides)
        _check_joint((*self.effects, *(e for v in overrides.values() for e in v)))

    def effects_for(self, segment: str) -> dict[str, Effect]:
        """The effects in one segment, by process (defaults, then the segment's overrides)."""
        chosen = {e.process: e for e in self.effects}
        chosen.update({e.process: e for e in self.segment_effects.get(segment, ())})
        return chosen

    def with_effect(self, effect: Effect, segment: str | None = None) -> Action:
        """A copy with one effect replaced (everywhere, or in one segment only)."""
        if segment is None:
            kept = tuple(e for e in self.effects if e.process != effect.process)
            overrides = {k: tuple(e for e in v if e.process != effect.process)
                         for k, v in self.segment_effects.items()}
            return replace(self, effects=(*kept, effect),
                           segment_effects={k: v for k, v in overrides.items() if v})
        current = tuple(e for e in self.segment_effects.get(segment, ())
                        if e.process != effect.process)
        return replace(self, segment_effects={**self.segment_effects,
                                              segment: (*current, effect)})

    def to_dict(self) -> dict[str, Any]:
        """TOML-shaped mapping; learned effects are written as their 90 % range."""
        out: dict[str, Any] = {"name": self.name, "cost": self.cost}
        if self.description:
            out["description"] = self.description
        if self.fixed_cost:
            out["fixed_cost"] = self.fixed_cost
        eligibility = self.eligibility.to_dict()
        if eligibility:
            out["eligibility"] = eligibility
        out["effects"] = {e.process: [e.low, e.high] for e in self.effects}
        if self.segment_effects:
            out["segment_effects"] = {
                segment: {e.process: [e.low, e.high] for e in effects}
                for segment, effects in self.segment_effects.items()
            }
        return out


CRITERIA: tuple[str, ...] = ("mean", "quantile", "mean_minus_sd", "cvar")
ALLOCATION_METHODS: tuple[str, ...] = ("greedy", "exact")


@dataclass(frozen=True)
class BudgetSpec:
    """A campaign budget and how to spend it.

    Attributes
    ----------
    amount
        Total campaign budget (currency), > 0: per-customer costs plus fixed costs.
    criterion
        How a (customer, action)'s value distribution is scored: ``mean`` (default),
        ``quantile``, ``mean_minus_sd`` or ``cvar`` (see :mod:`bayesclv.decision.criteria`).
    criterion_parameter
        ``q`` for ``quantile``/``cvar``, ``k`` for ``mean_minus_sd`` (None: the default).
    method
        ``"greedy"`` (default) or ``"exact"`` (a MILP) allocation.
    curve_points
        Budgets on the value-vs-budget curve.
    """

    amount: float
    criterion: str = "mean"
    criterion_parameter: float | None = None
    method: str = "greedy"
    curve_points: int = 20

    def __post_init__(self) -> None:
        amount = self.amount
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not (
                math.isfinite(amount) and amount > 0):
            raise SpecError(f"field 'budget.amount' must be a positive amount, got {amount!r}")
        object.__setattr__(self, "amount", float(amount))
        if self.criterion not in CRITERIA:
            raise SpecError(f"field 'budget.criterion' = {self.criterion!r} is not one of "
                            f"{', '.join(CRITERIA)}")
        if self.method not in ALLOCATION_METHODS:
            raise SpecError(f"field 'budget.method' = {self.method!r} is not one of "
                            f"{', '.join(ALLOCATION_METHODS)}")
        if not isinstance(self.curve_points, int) or self.curve_points < 2:
            raise SpecError(f"field 'budget.curve_points' must be a whole number >= 2, "
                            f"got {self.curve_points!r}")

    def to_dict(self) -> dict[str, Any]:
        """TOML-shaped mapping."""
        out: dict[str, Any] = {"amount": self.amount, "criterion": self.criterion,
                               "method": self.method, "curve_points": self.curve_points}
        if self.criterion_parameter is not None:
            out["criterion_parameter"] = self.criterion_parameter
        return out


def actions_from_dicts(raw: Any) -> tuple[Action, ...]:
    """Parse the ``[[actions]]`` array of tables of a spec.

    Raises
    ------
    SpecError
        Naming the action (by position and name) and the field at fault.
    """
    if not isinstance(raw, list):
        raise SpecError("'actions' must be an array of tables ([[actions]])")
    actions = []
    for i, table in enumerate(raw, start=1):
        where = f"actions #{i}"
        if not isinstance(table, Mapping):
            raise SpecError(f"{where} must be a table, got {table!r}")
        where = f"actions #{i} ({table.get('name', '?')!r})"
        try:
            actions.append(_action(table))
        except SpecError as err:
            raise SpecError(f"{where}: {err}") from None
    names = [a.name for a in actions]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise SpecError(f"actions: name(s) {duplicated} used more than once")
    return tuple(actions)


def _action(table: Mapping[str, Any]) -> Action:
    check_keys(table, ("name", "description", "cost", "fixed_cost", "eligibility", "effects",
                       "segment_effects"), "")
    segment_tables = subtable(table, "segment_effects")
    return Action(
        name=typed(table, "name", str, "", required=True),
        description=typed(table, "description", str, "", default=""),
        cost=number(table, "cost", "", required=True),
        fixed_cost=number(table, "fixed_cost", "", default=0.0),
        eligibility=_eligibility(subtable(table, "eligibility")),
        effects=_effects(subtable(table, "effects"), "effects."),
        segment_effects={
            str(segment): _effects(_mapping(effects, f"segment_effects.{segment}"),
                                   f"segment_effects.{segment}.")
            for segment, effects in segment_tables.items()
        },
    )


def _mapping(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SpecError(f"field '{name}' must be a table, got {value!r}")
    return value


def _effects(table: Mapping[str, Any], prefix: str) -> tuple[Effect, ...]:
    check_keys(table, PROCESSES, prefix)
    effects = []
    for process, value in table.items():
        band = _band(value, f"{prefix}{process}")
        effects.append(Effect(process, *band))
    return tuple(effects)


def _eligibility(table: Mapping[str, Any]) -> Eligibility:
    p = "eligibility."
    check_keys(table, ("segments", "p_alive", "clv", "recency_weeks"), p)
    segments = table.get("segments")
    if segments is not None and (not isinstance(segments, list) or not all(
            isinstance(s, str) for s in segments)):
        raise SpecError(f"field '{p}segments' must be a list of segment labels, got {segments!r}")
    bands = {name: _band(table[name], p + name) for name in ("p_alive", "clv", "recency_weeks")
             if name in table}
    return Eligibility(segments=None if segments is None else tuple(segments), **bands)


def _band(value: Any, name: str) -> tuple[float, float]:
    if (not isinstance(value, list) or len(value) != 2 or any(
            isinstance(v, bool) or not isinstance(v, (int, float)) for v in value)):
        raise SpecError(f"field '{name}' must be a range [low, high] of two numbers, got {value!r}")
    return float(value[0]), float(value[1])


def _unique_effects(effects: Sequence[Effect], name: str) -> tuple[Effect, ...]:
    effects = tuple(effects)
    if not all(isinstance(e, Effect) for e in effects):
        raise SpecError(f"field '{name}' must hold Effect objects")
    processes = [e.process for e in effects]
    repeated = sorted({p for p in processes if processes.count(p) > 1})
    if repeated:
        raise SpecError(f"field '{name}' gives {repeated} more than once")
    return effects


def _check_joint(effects: Sequence[Effect]) -> None:
    """Effects drawn jointly (same ``joint`` label) must have the same number of samples."""
    sizes: dict[str, int] = {}
    for effect in effects:
        if effect.joint is None or effect.samples is None:
            continue
        size = sizes.setdefault(effect.joint, effect.samples.size)
        if size != effect.samples.size:
            raise SpecError(f"effects with joint label {effect.joint!r} must have the same "
                            f"number of samples, got {size} and {effect.samples.size}")


def budget_from_dict(table: Mapping[str, Any]) -> BudgetSpec:
    """Parse the ``[budget]`` table of a spec (fields named ``budget.*`` in errors)."""
    p = "budget."
    check_keys(table, ("amount", "criterion", "criterion_parameter", "method", "curve_points"), p)
    return BudgetSpec(
        amount=number(table, "amount", p, required=True),
        criterion=choice(table, "criterion", CRITERIA, p, default="mean"),
        criterion_parameter=number(table, "criterion_parameter", p, default=None),
        method=choice(table, "method", ALLOCATION_METHODS, p, default="greedy"),
        curve_points=count(table, "curve_points", p, default=20, minimum=2),
    )
