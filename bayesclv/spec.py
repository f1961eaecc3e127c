"""Model specifications: the versioned TOML files under ``models/``, parsed once and validated.

A spec is data: frozen dataclasses, built by :func:`load_spec` from a TOML file or by
:meth:`ModelSpec.from_dict` from a mapping. Every problem raises a :class:`SpecError` that
names the field (``sampler.chains``), the value, and, for misspelt keys, the closest valid
name.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from bayesclv.actions import Action, BudgetSpec, actions_from_dicts, budget_from_dict
from bayesclv.data.validate import DEFAULT_TIMEZONE, timezone_problem
from bayesclv.errors import SpecError
from bayesclv.fields import as_date, check_keys, choice, count, date, number, subtable, typed
from bayesclv.maths import families
from bayesclv.units import MONTHS_PER_PERIOD, TIME_UNITS

Family = Literal["pareto_nbd", "bg_nbd", "mbg_nbd"]
FAMILIES: tuple[str, ...] = tuple(families.FAMILIES)
SEGMENTATIONS: tuple[str, ...] = ("none", "column", "cohort", "value_tier", "cohort_x_value_tier")
BACKENDS: tuple[str, ...] = ("auto", "nutpie", "pymc")
METHODS: tuple[str, ...] = ("nuts", "map")
#: Sampler settings ``[spend_sampler]`` may set differently for the spend model.
SPEND_SAMPLER_KEYS: tuple[str, ...] = ("chains", "tune", "draws", "target_accept")
PERIODS: tuple[str, ...] = tuple(MONTHS_PER_PERIOD)
#: Longest CLV horizon accepted: 100 years.
MAX_HORIZON_MONTHS = 1200.0
#: What a spec's name may look like: it becomes part of output file names.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class DataSpec:
    """Where the transaction log is and how to read it.

    Attributes
    ----------
    source
        A CSV/Parquet path (relative paths resolve against the spec file's folder) or a
        bundled data set ``"bayesclv:cdnow_master"`` / ``"bayesclv:cdnow_sample"``.
    customer, date
        Column names in the log.
    amount
        Column of the purchase amounts, or None for a log without amounts (``amount =
        false`` in TOML): the summary then counts purchases only, which needs
        ``model.spend = false`` and a segmentation that does not use amounts (and, for CLV
        in money, ``value.per_purchase``).
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
    timezone
        IANA time-zone name (default ``"UTC"``) in which instants in the log — zone-aware
        timestamps, date strings with a UTC offset — fall on calendar days; naive
        timestamps and dates are days as written (see ``docs/data.md``).
    """

    source: str
    calibration_end: pd.Timestamp
    customer: str = "customer_id"
    date: str = "date"
    amount: str | None = "amount"
    segment_column: str | None = None
    segmentation: str = "none"
    cohort_freq: str = "Q"
    holdout_end: pd.Timestamp | None = None
    time_unit: str = "weeks"
    timezone: str = DEFAULT_TIMEZONE

    def __post_init__(self) -> None:
        for name in ("source", "customer", "date"):
            _require(isinstance(getattr(self, name), str) and getattr(self, name) != "",
                     f"data.{name} must be a non-empty string, got {getattr(self, name)!r}")
        _require(self.amount is None or (isinstance(self.amount, str) and self.amount != ""),
                 "data.amount must be a column name, or false for a log without amounts, "
                 f"got {self.amount!r}")
        _require_choice("data.segmentation", self.segmentation, SEGMENTATIONS)
        _require(self.amount is not None or "value_tier" not in self.segmentation,
                 f"data.segmentation = {self.segmentation!r} makes tiers of the first "
                 "purchase's amount, but data.amount = false (the log has no amounts); "
                 "segment by 'cohort', 'column' or 'none'")
        _require_choice("data.time_unit", self.time_unit, TIME_UNITS)
        zone_problem = timezone_problem(self.timezone)
        _require(zone_problem is None,
                 f"field 'data.timezone' = {self.timezone!r} {zone_problem}")
        _require(self.segmentation != "column" or bool(self.segment_column),
                 "data.segment_column is required when data.segmentation = 'column'")
        object.__setattr__(self, "calibration_end",
                           as_date("data.calibration_end", self.calibration_end))
        if self.holdout_end is not None:
            holdout_end = as_date("data.holdout_end", self.holdout_end)
            object.__setattr__(self, "holdout_end", holdout_end)
            _require(holdout_end > self.calibration_end,
                     f"data.holdout_end ({holdout_end.date()}) must be after "
                     f"data.calibration_end ({self.calibration_end.date()})")


@dataclass(frozen=True)
class NormalPrior:
    """A normal prior on an unconstrained (log or logit) parameter."""

    mu: float
    sigma: float

    def __post_init__(self) -> None:
        _require(_is_number(self.mu) and math.isfinite(self.mu),
                 f"mu must be a finite number, got {self.mu!r}")
        _require(_is_number(self.sigma) and math.isfinite(self.sigma) and self.sigma > 0,
                 f"sigma must be a finite positive number, got {self.sigma!r}")


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

    def __post_init__(self) -> None:
        _require(_is_number(self.tau_sigma) and math.isfinite(self.tau_sigma)
                 and self.tau_sigma > 0,
                 f"tau_sigma must be a finite positive number, got {self.tau_sigma!r}")
        for name, prior in self.location.items():
            _require(isinstance(prior, NormalPrior),
                     f"the prior of {name} must be a NormalPrior, got {prior!r}")


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

    def __post_init__(self) -> None:
        _require_choice("sampler.method", self.method, METHODS)
        _require_choice("sampler.backend", self.backend, BACKENDS)
        for name, minimum in (("chains", 1), ("tune", 0), ("draws", 1), ("seed", 0)):
            _require_count(f"sampler.{name}", getattr(self, name), minimum)
        if self.cores is not None:
            _require_count("sampler.cores", self.cores, 1)
        _require(_is_number(self.target_accept) and 0.5 <= self.target_accept < 1,
                 f"sampler.target_accept must be in [0.5, 1), got {self.target_accept!r}")


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
    per_purchase
        Revenue of one purchase (currency, before the margin) when there is no spend model
        (``model.spend = false``, e.g. a log without amounts): every purchase of every
        customer is worth this in every posterior draw. None (the default): the spend model
        values purchases, and a fit without one has no money outputs
        (:func:`require_purchase_value`).
    """

    margin: float = 1.0
    annual_discount_rate: float = 0.10
    horizon_months: float = 36.0
    period: str = "month"
    hdi_prob: float = 0.90
    currency: str = "currency units"
    per_purchase: float | None = None

    def __post_init__(self) -> None:
        _require(_is_number(self.margin) and 0 < self.margin <= 1,
                 f"value.margin is a share of revenue in (0, 1], got {self.margin!r}")
        _require(_is_number(self.annual_discount_rate) and 0 <= self.annual_discount_rate < 1,
                 "value.annual_discount_rate is a yearly rate in [0, 1) (0.10 = 10 %), "
                 f"got {self.annual_discount_rate!r}")
        _require(_is_number(self.horizon_months)
                 and 0 < self.horizon_months <= MAX_HORIZON_MONTHS,
                 f"value.horizon_months must be in (0, {MAX_HORIZON_MONTHS}] months, "
                 f"got {self.horizon_months!r}")
        _require_choice("value.period", self.period, PERIODS)
        _require(_is_number(self.hdi_prob) and 0 < self.hdi_prob < 1,
                 f"value.hdi_prob must be in (0, 1), got {self.hdi_prob!r}")
        _require(isinstance(self.currency, str),
                 f"value.currency must be a string, got {self.currency!r}")
        _require(self.per_purchase is None
                 or (_is_number(self.per_purchase) and math.isfinite(self.per_purchase)
                     and self.per_purchase > 0),
                 "value.per_purchase is the revenue of one purchase, a finite number > 0 "
                 f"({self.currency}), got {self.per_purchase!r}")


#: The processes a covariate can act on (``[covariates]`` keys).
COVARIATE_PROCESSES: tuple[str, ...] = ("purchase", "dropout", "spend")


@dataclass(frozen=True)
class CovariateSpec:
    """Static customer covariates and the processes they act on (``[covariates]``).

    Each covariate adds a regression term on the log scale within every segment's pooled
    parameters: of the mean purchase rate (``purchase``), of the mean dropout rate
    (Pareto/NBD) or the log-odds of the mean dropout probability ((M)BG/NBD) (``dropout``),
    and of the mean spend per purchase (``spend``). Coefficients are shared by the segments.

    Attributes
    ----------
    purchase, dropout, spend
        Covariate column names per process (a column may act on several).
    source
        A customer table (CSV or Parquet, one row per customer; relative paths resolve
        against the spec file's folder) holding the columns, or None to read them from the
        transaction log, where each must be constant per customer.
    customer
        The customer-id column of ``source`` (default: ``data.customer``).
    categorical
        Covariates to treat as categorical although their values are numbers (codes).
    coef_sigma
        Sd of the Normal(0, sd) prior of every coefficient: per standard deviation of a
        numeric covariate, per level against the reference for a categorical one (log
        scale: 0.5 puts 95 % on factors between 0.37 and 2.7).
    """

    purchase: tuple[str, ...] = ()
    dropout: tuple[str, ...] = ()
    spend: tuple[str, ...] = ()
    source: str | None = None
    customer: str | None = None
    categorical: tuple[str, ...] = ()
    coef_sigma: float = 0.5

    def __post_init__(self) -> None:
        for process in (*COVARIATE_PROCESSES, "categorical"):
            names = getattr(self, process)
            _require(isinstance(names, (list, tuple))
                     and all(isinstance(n, str) and n != "" for n in names),
                     f"covariates.{process} must be a list of column names, got {names!r}")
            duplicated = sorted({n for n in names if list(names).count(n) > 1})
            _require(not duplicated,
                     f"covariates.{process} names {duplicated[0] if duplicated else ''!r} twice")
            object.__setattr__(self, process, tuple(names))
        _require(bool(self.columns),
                 "[covariates] names no column: list them in covariates.purchase, "
                 "covariates.dropout or covariates.spend (or remove the table)")
        unknown = [n for n in self.categorical if n not in self.columns]
        _require(not unknown, f"covariates.categorical names {unknown[0] if unknown else ''!r}, "
                 "which no process uses")
        for name in ("source", "customer"):
            value = getattr(self, name)
            _require(value is None or (isinstance(value, str) and value != ""),
                     f"covariates.{name} must be a non-empty string, got {value!r}")
        _require(_is_number(self.coef_sigma) and math.isfinite(self.coef_sigma)
                 and self.coef_sigma > 0,
                 f"covariates.coef_sigma must be a finite positive number, got "
                 f"{self.coef_sigma!r}")

    @property
    def columns(self) -> tuple[str, ...]:
        """Every covariate column, each once, in order of first mention."""
        return tuple(dict.fromkeys((*self.purchase, *self.dropout, *self.spend)))


@dataclass(frozen=True)
class ModelSpec:
    """A complete, validated model specification.

    Attributes
    ----------
    name
        Short name used in reports and output file names.
    family
        Frequency/dropout model: ``"pareto_nbd"`` (default), ``"bg_nbd"`` or ``"mbg_nbd"``.
    spend
        Whether to fit the Gamma-Gamma spend model alongside. Without it, money outputs value
        every purchase at ``value.per_purchase`` (which a spec with ``spend = true`` may not
        set).
    data, priors, spend_priors, sampler, value
        The sections of the spec.
    spend_sampler
        ``[spend_sampler]``: sampler settings that differ for the spend model (any of
        :data:`SPEND_SAMPLER_KEYS`); the rest comes from ``sampler``. The Gamma-Gamma model
        costs a tenth of the frequency model per draw while its between-segment scale of
        ``log_q`` mixes slowest, so more draws there are cheap (:attr:`spend_sampler_spec`).
    actions
        Retention actions (``[[actions]]`` tables) for :mod:`bayesclv.decision`.
    budget
        The campaign budget (``[budget]``) for :mod:`bayesclv.budget`, if any.
    covariates
        Static customer covariates (``[covariates]``), or None.
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
    spend_sampler: Mapping[str, Any] = field(default_factory=dict)
    actions: tuple[Action, ...] = ()
    budget: BudgetSpec | None = None
    covariates: CovariateSpec | None = None
    path: Path | None = None

    def __post_init__(self) -> None:
        _require(isinstance(self.name, str) and SAFE_NAME.fullmatch(self.name) is not None,
                 f"model.name = {self.name!r} must be a plain file-name stem (letters, digits, "
                 "'_', '-', '.'; starting with a letter or digit): it names the output files")
        _require_choice("model.family", self.family, FAMILIES)
        _require(isinstance(self.spend, bool), f"model.spend must be a bool, got {self.spend!r}")
        _require(not (self.spend and self.data.amount is None),
                 "model.spend = true (the default) fits the spend model to the amounts, but "
                 "data.amount = false (the log has no amounts); set model.spend = false to "
                 "fit purchases only")
        _require(not (self.spend and self.value.per_purchase is not None),
                 _two_purchase_values(self.value.per_purchase))
        object.__setattr__(self, "spend_sampler", dict(self.spend_sampler))
        _spend_sampler_spec(self.sampler, self.spend_sampler)
        _require(self.covariates is None or isinstance(self.covariates, CovariateSpec),
                 f"covariates must be a CovariateSpec, got {self.covariates!r}")
        _require(self.covariates is None or not self.covariates.spend or self.spend,
                 "covariates.spend names covariates of the spend model, but model.spend = "
                 "false")

    @property
    def spend_sampler_spec(self) -> SamplerSpec:
        """The sampler settings of the spend model: ``sampler`` with ``[spend_sampler]`` over it."""
        return _spend_sampler_spec(self.sampler, self.spend_sampler)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], *, path: Path | None = None) -> ModelSpec:
        """Build and validate a spec from a mapping shaped like the TOML file."""
        check_keys(raw, ("model", "data", "priors", "spend_priors", "sampler", "spend_sampler",
                         "value", "actions", "budget", "covariates"), "")
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
            spend_sampler=subtable(raw, "spend_sampler"),
            value=_value_spec(subtable(raw, "value")),
            actions=actions_from_dicts(raw.get("actions", [])),
            budget=budget_from_dict(subtable(raw, "budget")) if "budget" in raw else None,
            covariates=(_covariate_spec(subtable(raw, "covariates"))
                        if "covariates" in raw else None),
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

        data = section(self.data)
        if self.data.amount is None:
            data["amount"] = False  # TOML has no null: false says "no amount column"
        return {
            "model": {"name": self.name, "family": self.family, "spend": self.spend},
            "data": data,
            "priors": priors(self.priors),
            "spend_priors": priors(self.spend_priors),
            "sampler": section(self.sampler),
            **({"spend_sampler": dict(self.spend_sampler)} if self.spend_sampler else {}),
            "value": section(self.value),
            "actions": [action.to_dict() for action in self.actions],
            **({"budget": self.budget.to_dict()} if self.budget is not None else {}),
            **({"covariates": _covariates_dict(self.covariates)}
               if self.covariates is not None else {}),
        }

    def with_sampler(self, **changes: Any) -> ModelSpec:
        """A copy with some sampler settings changed (validated like the TOML fields).

        A change of None keeps the spec's own value (so CLI options left unset change
        nothing). A setting changed here applies to every model part: it also replaces the
        same key of ``[spend_sampler]``.
        """
        given = {k: v for k, v in changes.items() if v is not None}
        merged = {**_sampler_fields(self.sampler), **given}
        spend = {k: v for k, v in self.spend_sampler.items() if k not in given}
        return replace(self, sampler=_sampler_spec(merged), spend_sampler=spend)


def _spend_sampler_spec(sampler: SamplerSpec, overrides: Mapping[str, Any]) -> SamplerSpec:
    """``sampler`` with the keys of ``[spend_sampler]`` replaced, validated."""
    check_keys(overrides, SPEND_SAMPLER_KEYS, "spend_sampler.")
    if not overrides:
        return sampler
    try:
        return _sampler_spec({**_sampler_fields(sampler), **overrides})
    except SpecError as err:
        raise SpecError(str(err).replace("sampler.", "spend_sampler.", 1)) from None


def _sampler_fields(sampler: SamplerSpec) -> dict[str, Any]:
    """The sampler's settings as a TOML-shaped mapping (unset ones left out)."""
    values = {f.name: getattr(sampler, f.name) for f in fields(SamplerSpec)}
    return {k: v for k, v in values.items() if v is not None}


def require_purchase_value(spend: bool, value: ValueSpec) -> None:
    """Check that a purchase has one value: the spend model's, or ``value.per_purchase``.

    Money outputs (CLV, action values, the report) multiply expected purchases by a value
    per purchase; it comes from the Gamma-Gamma spend model or, without one, from
    ``value.per_purchase``, never from both.

    Parameters
    ----------
    spend
        Whether there is a spend model (``model.spend``, or a fit's ``spend`` part).
    value
        The money settings in use.

    Raises
    ------
    SpecError
        Naming ``value.per_purchase`` and ``model.spend`` when there is neither or both.
    """
    _require(not (spend and value.per_purchase is not None),
             _two_purchase_values(value.per_purchase))
    _require(spend or value.per_purchase is not None,
             "there is no spend model (model.spend = false), so a purchase has no value in "
             "money: set value.per_purchase in the spec's [value] (the revenue of one "
             "purchase, before the margin), or fit the spend model (model.spend = true) on a "
             "log with amounts")


def _two_purchase_values(per_purchase: float | None) -> str:
    return (f"value.per_purchase = {per_purchase!r} values every purchase alike, but "
            "model.spend = true values them with the spend model; set model.spend = false to "
            "use value.per_purchase, or leave value.per_purchase out")


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
            "timezone",
        ),
        p,
    )
    segmentation = choice(table, "segmentation", SEGMENTATIONS, p, default="none")
    segment_column = typed(table, "segment_column", str, p, default=None)
    calibration_end = date(table, "calibration_end", p, required=True)
    holdout_end = date(table, "holdout_end", p)
    return DataSpec(
        source=typed(table, "source", str, p, required=True),
        customer=typed(table, "customer", str, p, default="customer_id"),
        date=typed(table, "date", str, p, default="date"),
        amount=_amount_column(table, p),
        segment_column=segment_column,
        segmentation=segmentation,
        cohort_freq=typed(table, "cohort_freq", str, p, default="Q"),
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        time_unit=choice(table, "time_unit", TIME_UNITS, p, default="weeks"),
        timezone=typed(table, "timezone", str, p, default=DEFAULT_TIMEZONE),
    )


def _amount_column(table: Mapping[str, Any], prefix: str) -> str | None:
    """``data.amount``: a column name (default ``"amount"``), or false for no amounts."""
    value = table.get("amount", "amount")
    if value is False:
        return None
    if not isinstance(value, str):
        raise SpecError(f"field '{prefix}amount' must be a column name, or false for a log "
                        f"without amounts, got {value!r}")
    return value


def _prior_spec(table: Mapping[str, Any], prefix: str) -> PriorSpec:
    location: dict[str, NormalPrior] = {}
    tau_sigma = 0.5
    for key, value in table.items():
        if key == "tau_sigma":
            tau_sigma = number(table, key, prefix)
            continue
        if not isinstance(value, Mapping):
            raise SpecError(
                f"{prefix}{key} must be a table like {{ mu = 0.0, sigma = 1.0 }}, got {value!r}"
            )
        check_keys(value, ("mu", "sigma"), f"{prefix}{key}.")
        mu = number(value, "mu", f"{prefix}{key}.", required=True)
        sigma = number(value, "sigma", f"{prefix}{key}.", required=True)
        try:
            location[key] = NormalPrior(mu=mu, sigma=sigma)
        except SpecError as err:
            raise SpecError(f"{prefix}{key}.{err}") from None
    try:
        return PriorSpec(location=location, tau_sigma=tau_sigma)
    except SpecError as err:
        raise SpecError(f"{prefix}{err}") from None


def _sampler_spec(table: Mapping[str, Any]) -> SamplerSpec:
    p = "sampler."
    check_keys(table, tuple(f.name for f in fields(SamplerSpec)), p)
    target_accept = number(table, "target_accept", p, default=0.9)
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
    return ValueSpec(
        margin=number(table, "margin", p, default=1.0),
        annual_discount_rate=number(table, "annual_discount_rate", p, default=0.10),
        horizon_months=number(table, "horizon_months", p, default=36.0),
        period=choice(table, "period", PERIODS, p, default="month"),
        hdi_prob=number(table, "hdi_prob", p, default=0.90),
        currency=typed(table, "currency", str, p, default="currency units"),
        per_purchase=number(table, "per_purchase", p),
    )


def _covariate_spec(table: Mapping[str, Any]) -> CovariateSpec:
    p = "covariates."
    check_keys(table, tuple(f.name for f in fields(CovariateSpec)), p)
    lists = {}
    for process in (*COVARIATE_PROCESSES, "categorical"):
        value = table.get(process, [])
        _require(isinstance(value, list),
                 f"field '{p}{process}' must be a list of column names, got {value!r}")
        lists[process] = tuple(value)
    return CovariateSpec(
        **lists,
        source=typed(table, "source", str, p),
        customer=typed(table, "customer", str, p),
        coef_sigma=number(table, "coef_sigma", p, default=0.5),
    )


def _covariates_dict(spec: CovariateSpec) -> dict[str, Any]:
    out: dict[str, Any] = {process: list(getattr(spec, process))
                           for process in (*COVARIATE_PROCESSES, "categorical")
                           if getattr(spec, process)}
    out.update({name: getattr(spec, name) for name in ("source", "customer")
                if getattr(spec, name) is not None})
    out["coef_sigma"] = spec.coef_sigma
    return out


def resolve_covariate_source(spec: ModelSpec) -> Path | None:
    """The customer table of ``[covariates]``, resolved against the spec's folder, or None."""
    if spec.covariates is None or spec.covariates.source is None:
        return None
    candidate = Path(spec.covariates.source)
    if not candidate.is_absolute() and spec.path is not None:
        candidate = spec.path.parent / candidate
    return candidate


def _is_number(value: Any) -> bool:
    """A real number that is not a bool (``margin = true`` is a mistake, not 1)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise SpecError(message)


def _require_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    _require(value in choices, f"field '{name}' = {value!r} is not one of {', '.join(choices)}")


def _require_count(name: str, value: Any, minimum: int) -> None:
    _require(isinstance(value, int) and not isinstance(value, bool) and value >= minimum,
             f"field '{name}' must be a whole number ≥ {minimum}, got {value!r}")
