"""Synthetic customers drawn from a known hierarchical truth.

Used by the tests (interval coverage, shrinkage) and by analysts who want to
rehearse a campaign on a base whose parameters they know.

The generative story, per segment ``g`` and customer ``i`` (time in weeks):

* Pareto/NBD: ``lambda_i ~ Gamma(shape r_g, rate alpha_g)``,
  ``mu_i ~ Gamma(shape s_g, rate beta_g)``, lifetime ``~ Exponential(mu_i)``;
  while alive the customer buys as a Poisson process with rate ``lambda_i``.
* BG/NBD (Fader, Hardie & Lee 2005): ``lambda_i`` as above,
  ``p_i ~ Beta(a_g, b_g)``; immediately after each *repeat* purchase the
  customer drops out with probability ``p_i`` (the first purchase, at time 0,
  carries no dropout chance).
* MBG/NBD (Batislam, Denizel & Filiztekin 2007): as BG/NBD, except that the
  customer may also drop out, with probability ``p_i``, right after the first
  purchase (time 0).
* Gamma-Gamma spend, every family: ``nu_i ~ Gamma(shape q_g, rate gamma_g)``
  and every purchase occasion's value ``~ Gamma(shape p_g, rate nu_i)`` dollars.

Segment parameters are pooled on the log scale,
``log theta_g = log theta_pop + tau_theta * z_g`` with ``z_g ~ N(0, 1)``.

Day resolution
--------------
Purchases are simulated in continuous time and then recorded by calendar day.
A customer's clock starts at the end of their first purchase day, so a purchase
``u`` days into the clock falls on day ``first_day + ceil(u)``; calibration ends
at the end of ``calibration_end``, which makes the continuous observation
window exactly ``T = (calibration_end - first_day).days / 7`` weeks.  All events
of one customer on one day form **one** purchase occasion with one Gamma-Gamma
amount, so the transaction log holds at most one row per customer and day and
a summariser that merges same-day purchases sees exactly the ``x``, ``t_x``,
``T`` and spend stored here.  The price is that occasions arrive a little more
slowly than events: while alive, a customer with rate ``lambda`` per week has
occasions at rate ``7 (1 - exp(-lambda / 7))`` per week (0.93 for
``lambda = 1``).  The raw Poisson event counts, which the closed-form
expectations of the models describe, are kept alongside as
``events_calibration`` and ``events_holdout``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np
import pandas as pd
import xarray as xr

from bayesclv.errors import SpecError
from bayesclv.maths.families import FAMILIES, family

__all__ = [
    "DEFAULT_POPULATION",
    "DEFAULT_TAU",
    "FAMILY_PARAMETERS",
    "SPEND_PARAMETERS",
    "Family",
    "HierarchicalTruth",
    "SimulatedWorld",
    "draw_truth",
    "simulate_customers",
]

Family = Literal["pareto_nbd", "bg_nbd", "mbg_nbd"]

FAMILY_PARAMETERS: dict[str, tuple[str, ...]] = {
    name: record.natural for name, record in FAMILIES.items()
}
"""Purchase and dropout parameters of each family, in a fixed order."""

SPEND_PARAMETERS: tuple[str, ...] = ("p", "q", "gamma")
"""Gamma-Gamma spend parameters, shared by every family."""

DEFAULT_POPULATION: dict[str, dict[str, float]] = {
    # Published maximum-likelihood values on the CDNOW 2,357-customer sample
    # (weeks, dollars), so the default world looks like the benchmark data.
    "pareto_nbd": {
        "r": 0.553,
        "alpha": 10.578,
        "s": 0.606,
        "beta": 11.669,
        "p": 6.25,
        "q": 3.74,
        "gamma": 15.44,
    },
    "bg_nbd": {
        "r": 0.243,
        "alpha": 4.414,
        "a": 0.793,
        "b": 2.426,
        "p": 6.25,
        "q": 3.74,
        "gamma": 15.44,
    },
    # BTYDplus's MBG/NBD estimates, reproduced by lifetimes and by our own MLE.
    "mbg_nbd": {
        "r": 0.525,
        "alpha": 6.183,
        "a": 0.891,
        "b": 1.614,
        "p": 6.25,
        "q": 3.74,
        "gamma": 15.44,
    },
}
"""Population-level parameters (natural scale) used when none are given."""

DEFAULT_TAU: float = 0.25
"""Between-segment standard deviation on the log scale used when none is given."""

_DAYS_PER_WEEK = 7
_DROPOUT_DESCRIPTIONS = {
    "mu": "dropouts per week",
    "dropout_prob": "dropout chance per repeat purchase",
}
_PARAMETER_DESCRIPTIONS = {
    "r": "shape of purchase rate (1)",
    "alpha": "rate of purchase rate (weeks)",
    "s": "shape of dropout rate (1)",
    "beta": "rate of dropout rate (weeks)",
    "a": "Beta shape of dropout probability (1)",
    "b": "Beta shape of dropout probability (1)",
    "p": "shape of transaction value (1)",
    "q": "shape of spend rate (1)",
    "gamma": "rate of spend rate (dollars)",
}

Seed = int | np.random.Generator | None


def _parameter_names(family: str) -> tuple[str, ...]:
    if family not in FAMILY_PARAMETERS:
        raise SpecError(
            f"family={family!r} is not a model family; use one of {list(get_args(Family))}"
        )
    return FAMILY_PARAMETERS[family] + SPEND_PARAMETERS


@dataclass(frozen=True, eq=False)
class HierarchicalTruth:
    """Known segment-level parameters of a simulated customer base.

    Parameters
    ----------
    family : {"pareto_nbd", "bg_nbd", "mbg_nbd"}
        Purchase/dropout model family.  Spend always follows Gamma-Gamma.
    segments : xarray.Dataset
        One variable per parameter (``r, alpha, s, beta`` or ``r, alpha, a, b``,
        plus ``p, q, gamma``), each with the single dim ``segment`` whose
        coordinate holds the segment names.  Natural scale, time in weeks,
        money in dollars.
    population : Mapping[str, float] or None
        Population-level parameters (natural scale, the median across
        segments) the segments were drawn around; ``None`` when the segments
        were given explicitly.
    tau : Mapping[str, float] or None
        Between-segment standard deviation of each parameter on the log
        scale; ``None`` when the segments were given explicitly.

    Raises
    ------
    SpecError
        If the family is unknown, a parameter is missing, or a value is not a
        finite positive number.
    """

    family: Family
    segments: xr.Dataset
    population: Mapping[str, float] | None = field(default=None)
    tau: Mapping[str, float] | None = field(default=None)

    def __post_init__(self) -> None:
        names = _parameter_names(self.family)
        missing = [name for name in names if name not in self.segments.data_vars]
        if missing:
            raise SpecError(
                f"segments is missing parameter(s) {missing} for family {self.family!r}; "
                f"it needs {list(names)}"
            )
        for name in names:
            variable = self.segments[name]
            if variable.dims != ("segment",):
                raise SpecError(
                    f"segments[{name!r}] has dims {variable.dims}; expected ('segment',)"
                )
            values = variable.to_numpy()
            if not np.all(np.isfinite(values) & (values > 0)):
                raise SpecError(f"segments[{name!r}] must be finite and > 0, got {values.tolist()}")
        if self.segments.sizes.get("segment", 0) == 0:
            raise SpecError("segments has no segment; give at least one")

    @classmethod
    def from_frame(cls, family: Family, frame: pd.DataFrame) -> HierarchicalTruth:
        """Build a truth from explicit per-segment parameters.

        Parameters
        ----------
        family : {"pareto_nbd", "bg_nbd", "mbg_nbd"}
            Purchase/dropout model family.
        frame : pandas.DataFrame
            Index = segment names, one column per parameter of the family plus
            ``p, q, gamma`` (natural scale, weeks and dollars).

        Returns
        -------
        HierarchicalTruth
            With ``population`` and ``tau`` set to ``None``.
        """
        names = _parameter_names(family)
        missing = [name for name in names if name not in frame.columns]
        if missing:
            raise SpecError(f"frame is missing column(s) {missing} for family {family!r}")
        segment = np.asarray([str(label) for label in frame.index], dtype=object)
        segments = _segments_dataset(
            family, segment, {name: frame[name].to_numpy(dtype=float) for name in names}
        )
        return cls(family=family, segments=segments)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Names of all parameters of this truth, family parameters first."""
        return _parameter_names(self.family)

    @property
    def segment_names(self) -> list[str]:
        """Segment names, in the order of the ``segment`` coordinate."""
        return [str(name) for name in self.segments["segment"].to_numpy()]


def _segments_dataset(
    family: str, segment: np.ndarray, values: Mapping[str, np.ndarray]
) -> xr.Dataset:
    data_vars = {
        name: (
            "segment",
            np.asarray(column, dtype=float),
            {"description": _PARAMETER_DESCRIPTIONS[name]},
        )
        for name, column in values.items()
    }
    return xr.Dataset(data_vars, coords={"segment": segment}, attrs={"family": family})


def draw_truth(
    family: Family,
    segments: int | Sequence[str],
    *,
    population: Mapping[str, float] | None = None,
    tau: float | Mapping[str, float] = DEFAULT_TAU,
    z: Mapping[str, Sequence[float]] | None = None,
    seed: Seed = None,
) -> HierarchicalTruth:
    """Draw segment parameters around a population on the log scale.

    ``log theta_g = log theta_pop + tau_theta * z_g`` with ``z_g ~ N(0, 1)``
    for every parameter ``theta`` of the family and of Gamma-Gamma spend.

    Parameters
    ----------
    family : {"pareto_nbd", "bg_nbd", "mbg_nbd"}
        Purchase/dropout model family.
    segments : int or sequence of str
        Number of segments (named ``seg1``, ``seg2``, ... zero-padded) or their
        names.
    population : Mapping[str, float], optional
        Population-level parameters on the natural scale (weeks, dollars).
        Parameters not given take :data:`DEFAULT_POPULATION` (the CDNOW
        maximum-likelihood values).
    tau : float or Mapping[str, float], default 0.25
        Between-segment standard deviation on the log scale: one value for all
        parameters, or per parameter, missing ones taking :data:`DEFAULT_TAU`.
        ``0`` makes every segment equal to the population.
    z : Mapping[str, sequence of float], optional
        Explicit standardised offsets ``z_g`` for some parameters, one per
        segment.  Parameters not given draw theirs from ``seed``; giving some
        does not change the others' draws.
    seed : int or numpy.random.Generator, optional
        Same seed, same truth.

    Returns
    -------
    HierarchicalTruth

    Raises
    ------
    SpecError
        On an unknown family or parameter, a non-positive population value, a
        negative ``tau``, or a ``z`` of the wrong length.
    """
    names = _parameter_names(family)
    segment = _segment_names(segments)

    population_values = dict(DEFAULT_POPULATION[family])
    population_values.update(_checked_mapping("population", population or {}, names))
    for name, value in population_values.items():
        if not (np.isfinite(value) and value > 0):
            raise SpecError(f"population[{name!r}] must be finite and > 0, got {value}")

    if isinstance(tau, Mapping):
        tau_values = dict.fromkeys(names, DEFAULT_TAU)
        tau_values.update(_checked_mapping("tau", tau, names))
    else:
        tau_values = dict.fromkeys(names, float(tau))
    for name, value in tau_values.items():
        if not (np.isfinite(value) and value >= 0):
            raise SpecError(f"tau[{name!r}] must be finite and >= 0, got {value}")

    rng = np.random.default_rng(seed)
    # Draw every offset first, in a fixed order, so that fixing some z by hand
    # leaves the random draws of the other parameters unchanged.
    offsets = dict(zip(names, rng.standard_normal((len(names), segment.size)), strict=True))
    for name, given in _checked_mapping("z", z or {}, names).items():
        given_array = np.asarray(given, dtype=float)
        if given_array.shape != (segment.size,):
            raise SpecError(
                f"z[{name!r}] needs one value per segment ({segment.size}), "
                f"got shape {given_array.shape}"
            )
        offsets[name] = given_array

    values = {
        name: np.exp(np.log(population_values[name]) + tau_values[name] * offsets[name])
        for name in names
    }
    return HierarchicalTruth(
        family=family,
        segments=_segments_dataset(family, segment, values),
        population=population_values,
        tau=tau_values,
    )


def _segment_names(segments: int | Sequence[str]) -> np.ndarray:
    if isinstance(segments, (int, np.integer)):
        if segments < 1:
            raise SpecError(f"segments={segments} must be at least 1")
        width = len(str(int(segments)))
        return np.asarray([f"seg{i + 1:0{width}d}" for i in range(segments)], dtype=object)
    names = [str(name) for name in segments]
    if not names:
        raise SpecError("segments is empty; give a count or at least one name")
    if len(set(names)) != len(names):
        raise SpecError(f"segments has duplicate names: {names}")
    return np.asarray(names, dtype=object)


def _checked_mapping[V](
    argument: str, mapping: Mapping[str, V], names: tuple[str, ...]
) -> Mapping[str, V]:
    unknown = sorted(set(mapping) - set(names))
    if unknown:
        raise SpecError(f"{argument} has unknown parameter(s) {unknown}; known: {list(names)}")
    return mapping


@dataclass(frozen=True, eq=False)
class SimulatedWorld:
    """A simulated customer base with its truth.

    Attributes
    ----------
    transactions : pandas.DataFrame
        Transaction log, one row per purchase occasion (at most one per
        customer and day), sorted by customer and date.  Columns
        ``customer_id`` (str), ``date`` (datetime64, midnight), ``amount``
        (float dollars, 2 decimals, at least 0.01) and ``segment`` (str).
        Covers purchases up to ``holdout_end``.
    customers : xarray.Dataset
        Dim ``customer`` (coordinate: customer ids) with coordinate
        ``segment`` and the per-customer truth: ``lambda`` (purchases per
        week), ``mu`` (dropouts per week, Pareto/NBD) or ``dropout_prob``
        ((M)BG/NBD), ``nu`` (Gamma-Gamma rate, per dollar), ``first_date``,
        ``dropout_time`` (weeks after the first purchase; may be ``inf``),
        ``alive`` (at the end of calibration), ``x``, ``t_x``, ``T`` (weeks),
        ``x_holdout``, ``n_spend``, ``mean_spend`` (dollars; NaN when
        ``n_spend`` is 0) exactly as a summariser of ``transactions``
        computes them, ``first_amount`` and ``spend_holdout`` (dollars), and
        the raw Poisson event counts ``events_calibration`` and
        ``events_holdout`` before same-day merging.
    truth : HierarchicalTruth
        The segment parameters the customers were drawn from.
    calibration_end : pandas.Timestamp
        Last day of the calibration period (inclusive).
    holdout_end : pandas.Timestamp
        Last day of the holdout period (inclusive); equals ``calibration_end``
        when there is no holdout.
    """

    transactions: pd.DataFrame
    customers: xr.Dataset
    truth: HierarchicalTruth
    calibration_end: pd.Timestamp
    holdout_end: pd.Timestamp

    def summary_frame(self) -> pd.DataFrame:
        """Per-customer summary in the data layer's conventions.

        Occasions are distinct purchase days; ``x`` = calibration occasions
        minus one, ``t_x`` = weeks from the first to the last calibration
        occasion, ``T`` = ``(calibration_end - first day).days / 7`` weeks,
        ``n_spend`` = repeat calibration occasions with a positive amount
        (all of them, so ``n_spend == x``), ``mean_spend`` = their mean dollar
        value (NaN when ``n_spend`` is 0, as ``bayesclv.data`` writes it),
        ``x_holdout`` = occasions after ``calibration_end`` up to
        ``holdout_end``.

        Returns
        -------
        pandas.DataFrame
            Columns ``customer_id, segment, x, t_x, T, n_spend, mean_spend,
            x_holdout``, one row per customer.
        """
        customers = self.customers
        return pd.DataFrame(
            {
                "customer_id": customers["customer"].to_numpy(),
                "segment": customers["segment"].to_numpy(),
                "x": customers["x"].to_numpy(),
                "t_x": customers["t_x"].to_numpy(),
                "T": customers["T"].to_numpy(),
                "n_spend": customers["n_spend"].to_numpy(),
                "mean_spend": customers["mean_spend"].to_numpy(),
                "x_holdout": customers["x_holdout"].to_numpy(),
            }
        )


def simulate_customers(
    truth: HierarchicalTruth,
    sizes: int | Sequence[int] | Mapping[str, int],
    *,
    calibration_weeks: int = 39,
    holdout_weeks: int = 39,
    start_date: str | pd.Timestamp = "1997-01-01",
    acquisition_weeks: int = 12,
    seed: Seed = None,
) -> SimulatedWorld:
    """Simulate customers, their transactions and their true summaries.

    Each customer makes a first purchase on a uniformly random day of the
    acquisition window, then buys and drops out as the truth's family says
    (see the module docstring for the day-resolution convention).

    Parameters
    ----------
    truth : HierarchicalTruth
        Segment parameters to draw customers from.
    sizes : int, sequence of int or Mapping[str, int]
        Customers per segment: one count for every segment, one per segment in
        the truth's order, or by segment name.  Sizes may differ widely.
    calibration_weeks : int, default 39
        Length of the calibration period from ``start_date`` (weeks).
    holdout_weeks : int, default 39
        Length of the holdout period after calibration (weeks); may be 0.
    start_date : str or pandas.Timestamp, default "1997-01-01"
        First day of the acquisition window and of calibration.
    acquisition_weeks : int, default 12
        Length of the acquisition window (weeks), at most
        ``calibration_weeks``.
    seed : int or numpy.random.Generator, optional
        Same seed, same world.

    Returns
    -------
    SimulatedWorld

    Raises
    ------
    SpecError
        On sizes that do not match the segments or are not positive, or on
        period lengths that are not whole weeks in range.
    """
    segment_names = truth.segment_names
    segment_sizes = _segment_sizes(sizes, segment_names)
    calibration_days = _whole_weeks("calibration_weeks", calibration_weeks, minimum=1)
    holdout_days = _whole_weeks("holdout_weeks", holdout_weeks, minimum=0)
    acquisition_days = _whole_weeks("acquisition_weeks", acquisition_weeks, minimum=1)
    if acquisition_days > calibration_days:
        raise SpecError(
            f"acquisition_weeks={acquisition_weeks} exceeds calibration_weeks="
            f"{calibration_weeks}; customers must be acquired within calibration"
        )
    start = pd.Timestamp(start_date).normalize()
    calibration_end = start + pd.Timedelta(days=calibration_days - 1)
    holdout_end = calibration_end + pd.Timedelta(days=holdout_days)

    rng = np.random.default_rng(seed)
    parts = [
        _simulate_segment(
            rng,
            truth.family,
            {
                name: float(truth.segments[name].sel(segment=segment))
                for name in truth.parameter_names
            },
            size,
            calibration_days=calibration_days,
            holdout_days=holdout_days,
            acquisition_days=acquisition_days,
        )
        for segment, size in zip(segment_names, segment_sizes, strict=True)
    ]

    n_customers = sum(segment_sizes)
    width = max(6, len(str(n_customers)))
    customer_ids = np.asarray([f"C{i:0{width}d}" for i in range(1, n_customers + 1)], dtype=object)
    customer_segment = np.repeat(np.asarray(segment_names, dtype=object), segment_sizes)
    offsets = np.cumsum([0, *segment_sizes[:-1]])

    def stack(key: str) -> np.ndarray:
        return np.concatenate([part[key] for part in parts])

    occasion_customer = np.concatenate(
        [part["occasion_customer"] + offset for part, offset in zip(parts, offsets, strict=True)]
    )
    occasion_dates = start + pd.to_timedelta(stack("occasion_day"), unit="D")
    transactions = pd.DataFrame(
        {
            "customer_id": customer_ids[occasion_customer],
            "date": occasion_dates.astype("datetime64[us]"),
            "amount": stack("occasion_amount"),
            "segment": customer_segment[occasion_customer],
        }
    )

    first_dates = (start + pd.to_timedelta(stack("first_day"), unit="D")).astype("datetime64[us]")
    dropout_name = family(truth.family).dropout_latent
    variables = {
        "lambda": (stack("lambda"), "purchases per week while alive"),
        dropout_name: (stack("dropout"), _DROPOUT_DESCRIPTIONS[dropout_name]),
        "nu": (stack("nu"), "Gamma-Gamma rate of transaction value (per dollar)"),
        "first_date": (first_dates.to_numpy(), "day of the first purchase"),
        "dropout_time": (stack("dropout_time"), "weeks after the first purchase"),
        "alive": (stack("alive"), "alive at the end of calibration"),
        "x": (stack("x"), "repeat purchase occasions in calibration"),
        "t_x": (stack("t_x"), "weeks from first to last calibration occasion"),
        "T": (stack("T"), "weeks from first purchase to calibration end"),
        "x_holdout": (stack("x_holdout"), "purchase occasions in holdout"),
        "n_spend": (stack("x"), "occasions averaged in mean_spend"),
        "mean_spend": (stack("mean_spend"), "dollars per repeat calibration occasion"),
        "first_amount": (stack("first_amount"), "dollars spent on the first purchase day"),
        "spend_holdout": (stack("spend_holdout"), "dollars spent in holdout"),
        "events_calibration": (
            stack("events_calibration"),
            "repeat Poisson events in calibration, before same-day merging",
        ),
        "events_holdout": (
            stack("events_holdout"),
            "Poisson events in holdout, before same-day merging",
        ),
    }
    customers = xr.Dataset(
        {
            name: ("customer", values, {"description": description})
            for name, (values, description) in variables.items()
        },
        coords={"customer": customer_ids, "segment": ("customer", customer_segment)},
        attrs={
            "family": truth.family,
            "calibration_end": str(calibration_end.date()),
            "holdout_end": str(holdout_end.date()),
        },
    )
    return SimulatedWorld(
        transactions=transactions,
        customers=customers,
        truth=truth,
        calibration_end=calibration_end,
        holdout_end=holdout_end,
    )


def _segment_sizes(
    sizes: int | Sequence[int] | Mapping[str, int], segment_names: list[str]
) -> list[int]:
    if isinstance(sizes, Mapping):
        unknown = sorted(set(sizes) - set(segment_names))
        missing = [name for name in segment_names if name not in sizes]
        if unknown or missing:
            raise SpecError(
                f"sizes must name every segment exactly: unknown {unknown}, missing {missing}"
            )
        values = [sizes[name] for name in segment_names]
    elif isinstance(sizes, (int, np.integer)):
        values = [sizes] * len(segment_names)
    else:
        values = list(sizes)
        if len(values) != len(segment_names):
            raise SpecError(
                f"sizes has {len(values)} entries but the truth has "
                f"{len(segment_names)} segments {segment_names}"
            )
    for name, value in zip(segment_names, values, strict=True):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise SpecError(f"sizes for segment {name!r} must be a positive integer, got {value!r}")
    return [int(value) for value in values]


def _whole_weeks(argument: str, weeks: int, *, minimum: int) -> int:
    if not isinstance(weeks, (int, np.integer)) or weeks < minimum:
        raise SpecError(f"{argument}={weeks!r} must be a whole number of weeks >= {minimum}")
    return int(weeks) * _DAYS_PER_WEEK


def _simulate_segment(
    rng: np.random.Generator,
    family_name: str,
    params: Mapping[str, float],
    n: int,
    *,
    calibration_days: int,
    holdout_days: int,
    acquisition_days: int,
) -> dict[str, np.ndarray]:
    """Simulate one segment; times inside are in days on the customer's clock.

    The purchase rate and the spend rate are drawn here; the dropout process and the
    purchase times by the family's ``purchase_events``, in days.
    """
    first_day = rng.integers(0, acquisition_days, size=n)
    calibration_span = (calibration_days - 1) - first_day
    window = calibration_span + holdout_days

    # numpy's gamma takes a scale; rates per week become rates per day.
    purchase_rate = rng.gamma(params["r"], 1.0 / params["alpha"], size=n)
    spend_rate = rng.gamma(params["q"], 1.0 / params["gamma"], size=n)
    daily_rate = purchase_rate / _DAYS_PER_WEEK

    record = family(family_name)
    dropout, dropout_days, customer, event_time = record.purchase_events(
        rng, [params[name] for name in record.natural], daily_rate, window, _DAYS_PER_WEEK)
    event_day = np.ceil(event_time)

    calibration = event_day <= calibration_span[customer]
    events_calibration = np.bincount(customer[calibration], minlength=n)
    events_holdout = np.bincount(customer[~calibration], minlength=n)

    # Same-day events are one occasion; unique keys come out sorted by
    # (customer, day), which is the order the transaction log wants.
    stride = int(window.max()) + 1
    keys = np.unique(customer.astype(np.int64) * stride + event_day.astype(np.int64))
    repeat_customer = keys // stride
    repeat_day = keys % stride

    occasion_customer = np.concatenate([np.arange(n), repeat_customer])
    occasion_offset = np.concatenate([np.zeros(n, dtype=np.int64), repeat_day])
    order = np.lexsort((occasion_offset, occasion_customer))
    occasion_customer = occasion_customer[order]
    occasion_offset = occasion_offset[order]
    # Whole cents, never 0.00: a simulated purchase always costs something.
    cents = np.maximum(
        np.rint(100.0 * rng.gamma(params["p"], 1.0 / spend_rate[occasion_customer])), 1.0
    )
    is_repeat = occasion_offset > 0
    in_calibration = occasion_offset <= calibration_span[occasion_customer]
    repeat_calibration = is_repeat & in_calibration

    x = np.bincount(occasion_customer[repeat_calibration], minlength=n)
    cents_total = np.bincount(
        occasion_customer[repeat_calibration], weights=cents[repeat_calibration], minlength=n
    )
    last_day = np.zeros(n, dtype=np.int64)
    np.maximum.at(
        last_day, occasion_customer[repeat_calibration], occasion_offset[repeat_calibration]
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_spend = np.where(x > 0, cents_total / 100.0 / x, np.nan)
    in_holdout = ~in_calibration

    return {
        "first_day": first_day,
        "lambda": purchase_rate,
        "dropout": dropout,
        "nu": spend_rate,
        "dropout_time": dropout_days / _DAYS_PER_WEEK,
        "alive": dropout_days > calibration_span,
        "x": x,
        "t_x": last_day / _DAYS_PER_WEEK,
        "T": calibration_span / _DAYS_PER_WEEK,
        "x_holdout": np.bincount(occasion_customer[in_holdout], minlength=n),
        "mean_spend": mean_spend,
        "first_amount": cents[~is_repeat] / 100.0,
        "spend_holdout": np.bincount(
            occasion_customer[in_holdout], weights=cents[in_holdout], minlength=n
        )
        / 100.0,
        "events_calibration": events_calibration,
        "events_holdout": events_holdout,
        "occasion_customer": occasion_customer,
        "occasion_day": first_day[occasion_customer] + occasion_offset,
        "occasion_amount": cents / 100.0,
    }
