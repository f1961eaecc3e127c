"""Model specifications: the versioned TOML files under ``models/``, parsed once and validated.

A spec is data: frozen dataclasses, built by :func:`load_spec` from a TOML file or by
:meth:`ModelSpec.from_dict` from a mapping. Every problem raises a :class:`SpecError` that
names the field (``sampler.chains``), the value, and, for misspelt keys, the closest valid
name.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from bayesclv.actions import Action, BudgetSpec, actions_from_dicts, budget_from_dict
from bayesclv.errors import SpecError
from bayesclv.fields import check_keys, choice, count, date, number, positive, subtable, typed

Family = Literal["pareto_nbd", "bg_nbd"]
FAMILIES: tuple[str, ...] = ("pareto_nbd", "bg_nbd")
SEGMENTATIONS: tuple[str, ...] = ("none", "column", "cohort", "value_tier", "cohort_x_value_tier")
BACKENDS: tuple[str, ...] = ("auto", "nutpie", "pymc")
METHODS: tuple[str, ...] = ("nuts", "map")
TIME_UNITS: tuple[str, ...] = ("weeks", "days")


@dataclass(frozen=True)
class DataSpec:
    """Where the transaction log is and how to read it.

    Attributes
    ----------
    source
        A CSV/Parquet path (relative paths resolve against the spec file's folder) or a
        bundled data set ``"bayesclv:cdnow_master"`` / ``"bayesclv:cdnow_sample"``.
    customer, date, amount
        Column names in the log.
    segment_column
        Column holding the segment label (``segmentation = "column"``).
    segmentation
        ``"none"`` (one segment), ``"column"``, ``"cohort"`` (period of first purchase),
        ``"value_tier"`` (tiers of the first purchase's amount) or ``"cohort_x_value_tier"``.
    cohort_freq
        pandas period alias for acquisition cohorts (``"Q"`` quarter, ``"M"`` month).
    calibration_end, holdout_end
        Inclusive end dates of the calibration and (optional) holdout periods.
    time_unit
        ``"weeks"`` (default) or ``"days"``: the unit of x, t_x, T and of all rates.
    """

    source: str
    calibration_end: pd.Timestamp
    customer: str = "customer_id"
    date: str = "date"
    amount: str = "amount"
    segment_column: str | None = None
    segmentation: str = "none"
    cohort_freq: str = "Q"
    holdout_end: pd.Timestamp | None = None
    time_unit: str = "weeks"


@dataclass(frozen=True)
class NormalPrior:
    """A normal prior on an unconstrained (log or logit) parameter."""

    mu: float
    sigma: float


@dataclass(frozen=True)
class PriorSpec:
    """Priors of one model family.

    Attributes
    ----------
    location
        Prior of each population-level unconstrained parameter, by name
        (e.g. ``log_r``, ``log_rate`` = log(r/α), the mean purchase rate per time unit).
        Names not given use the family's documented defaults.
    tau_sigma
        Scale of the half-normal prior on each between-segment standard deviation
        (on the unconstrained scale).
    """

    location: Mapping[str, NormalPrior] = field(default_factory=dict)
    tau_sigma: float = 0.5


@dataclass(frozen=True)
class SamplerSpec:
    """How to fit: NUTS (nutpie or PyMC) or MAP, with its settings."""

    method: str = "nuts"
    backend: str = "auto"
    chains: int = 4
    tune: int = 1000
    draws: int = 1000
    target_accept: float = 0.9
    seed: int = 2026
    cores: int | None = None


@dataclass(frozen=True)
class ValueSpec:
    """Money and time settings for CLV.

    Attributes
    ----------
    margin
        Share of revenue kept as profit (0 < margin ≤ 1).
    annual_discount_rate
        Discount rate per year, compounded per period: factor ``(1 + d) ** -t_years``.
    horizon_months
        CLV horizon in months of 30.4375 days.
    period
        ``"month"`` or ``"quarter"``: the granularity of per-period value tables.
    hdi_prob
        Probability mass of reported highest-density intervals.
    currency
        Name of the transaction amounts' currency (e.g. ``"USD"``), shown in reports.
    """

    margin: float = 1.0
    annual_discount_rate: float = 0.10
    horizon_months: float = 36.0
    period: str = "month"
    hdi_prob: float = 0.90
    currency: str = "currency units"


@dataclass(frozen=True)
class ModelSpec:
    """A complete, validated model specification.

    Attributes
    ----------
    name
        Short name used in reports and output file names.
    family
        Frequency/dropout model: ``"pareto_nbd"`` (default) or ``"bg_nbd"``.
    spend
        Whether to fit the Gamma-Gamma spend model alongside.
    data, priors, spend_priors, sampler, value
        The sections of the spec.
    actions
        Retention actions (``[[actions]]`` tables) for :mod:`bayesclv.decision`.
    budget
        The campaign budget (``[budget]``) for :mod:`bayesclv.budget`, if any.
    path
        The TOML file the spec was read from, if any.
    """

    name: str
    data: DataSpec
    family: str = "pareto_nbd"
    spend: bool = True
    priors: PriorSpec = field(default_factory=PriorSpec)
    spend_priors: PriorSpec = field(default_factory=PriorSpec)
    sampler: SamplerSpec = field(default_factory=SamplerSpec)
    value: ValueSpec = field(default_factory=ValueSpec)
    actions: tuple[Action, ...] = ()
    budget: BudgetSpec | None = None
    path: Path | None = None

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], *, path: Path | None = None) -> ModelSpec:
        """Build and validate a spec from a mapping shaped like the TOML file."""
        check_keys(raw, ("model", "data", "priors", "spend_priors", "sampler", "value",
                         "actions", "budget"), "")
        model = subtable(raw, "model")
        check_keys(model, ("name", "family", "spend"), "model.")
        name = typed(model, "name", str, "model.", required=True)
        family = choice(model, "family", FAMILIES, "model.", default="pareto_nbd")
        spend = typed(model, "spend", bool, "model.", default=True)
        return cls(
            name=name,
            family=family,
            spend=spend,
            data=_data_spec(subtable(raw, "data", required=True)),
            priors=_prior_spec(subtable(raw, "priors"), "priors."),
            spend_priors=_prior_spec(subtable(raw, "spend_priors"), "spend_priors."),
            sampler=_sampler_spec(subtable(raw, "sampler")),
            value=_value_spec(subtable(raw, "value")),
            actions=actions_from_dicts(raw.get("actions", [])),
            budget=budget_from_dict(subtable(raw, "budget")) if "budget" in raw else None,
            path=path,
        )

    def to_dict(self) -> dict[str, Any]:
        """The spec as a TOML-shaped mapping; ``ModelSpec.from_dict(spec.to_dict())`` equals it."""

        def section(obj: Any) -> dict[str, Any]:
            out = {}
            for f in fields(obj):
                value = getattr(obj, f.name)
                if isinstance(value, pd.Timestamp):
                    value = value.date().isoformat()
                if value is not None:
                    out[f.name] = value
            return out

        def priors(p: PriorSpec) -> dict[str, Any]:
            out: dict[str, Any] = {k: {"mu": v.mu, "sigma": v.sigma} for k, v in p.location.items()}
            out["tau_sigma"] = p.tau_sigma
            return out

        return {
            "model": {"name": self.name, "family": self.family, "spend": self.spend},
            "data": section(self.data),
            "priors": priors(self.priors),
            "spend_priors": priors(self.spend_priors),
            "sampler": section(self.sampler),
            "value": section(self.value),
            "actions": [action.to_dict() for action in self.actions],
            **({"budget": self.budget.to_dict()} if self.budget is not None else {}),
        }

    def with_sampler(self, **changes: Any) -> ModelSpec:
        """A copy with some sampler settings changed (validated like the TOML fields).

        A change of None keeps the spec's own value (so CLI options left unset change
        nothing).
        """
        merged = {f.name: getattr(self.sampler, f.name) for f in fields(SamplerSpec)}
        merged.update({k: v for k, v in changes.items() if v is not None})
        merged = {k: v for k, v in merged.items() if v is not None}
        return replace(self, sampler=_sampler_spec(merged))


def load_spec(path: str | Path) -> ModelSpec:
    """Read and validate a model specification from a TOML file.

    Parameters
    ----------
    path
        Path of the ``.toml`` file.

    Returns
    -------
    ModelSpec

    Raises
    ------
    SpecError
        If the file is missing, is not valid TOML, or has a bad field.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"model spec {path} does not exist") from None
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"model spec {path} is not valid TOML: {err}") from None
    return ModelSpec.from_dict(raw, path=path.resolve())


def resolve_source(spec: ModelSpec) -> str | Path:
    """The data source of a spec: a bundled-data key or a path resolved against the spec."""
    source = spec.data.source
    if source.startswith("bayesclv:"):
        return source
    candidate = Path(source)
    if not candidate.is_absolute() and spec.path is not None:
        candidate = spec.path.parent / candidate
    return candidate


def _data_spec(table: Mapping[str, Any]) -> DataSpec:
    p = "data."
    check_keys(
        table,
        (
            "source",
            "customer",
            "date",
            "amount",
            "segment_column",
            "segmentation",
            "cohort_freq",
            "calibration_end",
            "holdout_end",
            "time_unit",
        ),
        p,
    )
    segmentation = choice(table, "segmentation", SEGMENTATIONS, p, default="none")
    segment_column = typed(table, "segment_column", str, p, default=None)
    if segmentation == "column" and not segment_column:
        raise SpecError("data.segment_column is required when data.segmentation = 'column'")
    calibration_end = date(table, "calibration_end", p, required=True)
    holdout_end = date(table, "holdout_end", p)
    if holdout_end is not None and holdout_end <= calibration_end:
        raise SpecError(
            f"data.holdout_end ({holdout_end.date()}) must be after "
            f"data.calibration_end ({calibration_end.date()})"
        )
    return DataSpec(
        source=typed(table, "source", str, p, required=True),
        customer=typed(table, "customer", str, p, default="customer_id"),
        date=typed(table, "date", str, p, default="date"),
        amount=typed(table, "amount", str, p, default="amount"),
        segment_column=segment_column,
        segmentation=segmentation,
        cohort_freq=typed(table, "cohort_freq", str, p, default="Q"),
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        time_unit=choice(table, "time_unit", TIME_UNITS, p, default="weeks"),
    )


def _prior_spec(table: Mapping[str, Any], prefix: str) -> PriorSpec:
    location: dict[str, NormalPrior] = {}
    tau_sigma = 0.5
    for key, value in table.items():
        if key == "tau_sigma":
            tau_sigma = positive(table, key, prefix)
            continue
        if not isinstance(value, Mapping):
            raise SpecError(
                f"{prefix}{key} must be a table like {{ mu = 0.0, sigma = 1.0 }}, got {value!r}"
            )
        check_keys(value, ("mu", "sigma"), f"{prefix}{key}.")
        mu = number(value, "mu", f"{prefix}{key}.", required=True)
        sigma = positive(value, "sigma", f"{prefix}{key}.", required=True)
        location[key] = NormalPrior(mu=mu, sigma=sigma)
    return PriorSpec(location=location, tau_sigma=tau_sigma)


def _sampler_spec(table: Mapping[str, Any]) -> SamplerSpec:
    p = "sampler."
    check_keys(table, tuple(f.name for f in fields(SamplerSpec)), p)
    target_accept = number(table, "target_accept", p, default=0.9)
    if not 0.5 <= target_accept < 1:
        raise SpecError(f"sampler.target_accept must be in [0.5, 1), got {target_accept}")
    cores = table.get("cores")
    return SamplerSpec(
        method=choice(table, "method", METHODS, p, default="nuts"),
        backend=choice(table, "backend", BACKENDS, p, default="auto"),
        chains=count(table, "chains", p, default=4),
        tune=count(table, "tune", p, default=1000, minimum=0),
        draws=count(table, "draws", p, default=1000),
        target_accept=target_accept,
        seed=count(table, "seed", p, default=2026, minimum=0),
        cores=None if cores is None else count(table, "cores", p),
    )


def _value_spec(table: Mapping[str, Any]) -> ValueSpec:
    p = "value."
    check_keys(table, tuple(f.name for f in fields(ValueSpec)), p)
    margin = number(table, "margin", p, default=1.0)
    if not 0 < margin <= 1:
        raise SpecError(f"value.margin is a share of revenue in (0, 1], got {margin}")
    rate = number(table, "annual_discount_rate", p, default=0.10)
    if not 0 <= rate < 1:
        raise SpecError(
            f"value.annual_discount_rate is a yearly rate in [0, 1) (0.10 = 10 %), got {rate}"
        )
    hdi_prob = number(table, "hdi_prob", p, default=0.90)
    if not 0 < hdi_prob < 1:
        raise SpecError(f"value.hdi_prob must be in (0, 1), got {hdi_prob}")
    return ValueSpec(
        margin=margin,
        annual_discount_rate=rate,
        horizon_months=positive(table, "horizon_months", p, default=36.0),
        period=choice(table, "period", ("month", "quarter"), p, default="month"),
        hdi_prob=hdi_prob,
        currency=typed(table, "currency", str, p, default="currency units"),
    )
