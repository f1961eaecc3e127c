"""Customers with static covariates, drawn from a known truth with known coefficients.

Covariates take values from a finite list (a categorical covariate's levels, or the few
values of a numeric one such as an age band), so every (segment, covariate values)
combination is a sub-segment whose parameters are the segment's, changed exactly as the
models change them (:mod:`bayesclv.models.covariates`): the purchase, dropout and spend
shifts are sums of coefficient × term, where a numeric covariate's term is its value
standardised by the population's mean and sd of the values drawn, and a categorical one's
are 0/1 indicators against the reference level (the first level listed). The simulation is
:func:`bayesclv.simulate.simulate_customers` over those sub-segments, relabelled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import product

import numpy as np
import pandas as pd

from bayesclv.errors import SpecError
from bayesclv.maths.families import family as family_record
from bayesclv.simulate.customers import HierarchicalTruth, Seed, SimulatedWorld, simulate_customers

__all__ = ["CovariateWorld", "simulate_with_covariates"]

#: Separates a segment's name from its covariate values in sub-segment names.
_JOIN = "\x1f"


@dataclass(frozen=True)
class CovariateWorld:
    """A simulated customer base with covariates, and its truth.

    Attributes
    ----------
    world
        The simulation; its transactions carry one column per covariate, its ``segment``
        is the original segment, and ``customers`` has the covariates as coordinates.
    covariates
        One row per customer (indexed by customer id): the covariate values.
    terms
        The true coefficient of every term, per process: ``{"purchase": {"channel[web]":
        0.4, "age": -0.2}, ...}`` (terms named as the models name them).
    """

    world: SimulatedWorld
    covariates: pd.DataFrame
    terms: Mapping[str, Mapping[str, float]]


def simulate_with_covariates(
    truth: HierarchicalTruth,
    sizes: int | Sequence[int],
    values: Mapping[str, Sequence[object]],
    coefficients: Mapping[str, Mapping[str, float]],
    *,
    shares: Mapping[str, Sequence[float]] | None = None,
    seed: Seed = None,
    **settings: object,
) -> CovariateWorld:
    """Simulate customers whose covariates change their parameters by known coefficients.

    Parameters
    ----------
    truth
        The segments' baseline parameters (a customer at the reference level of every
        categorical covariate and the mean of every numeric one).
    sizes
        Customers per segment (one count for all, or one per segment).
    values
        Per covariate, its possible values: numbers (a numeric covariate) or text (a
        categorical one, the first level the reference).
    coefficients
        Per process (``"purchase"``, ``"dropout"``, ``"spend"``), the true coefficient of
        each term: ``name`` for a numeric covariate (per sd of the values drawn),
        ``name[level]`` for a categorical one. Terms left out have coefficient 0.
    shares
        Per covariate, the probability of each value (default: equal).
    seed
        Same seed, same world.
    **settings
        Passed to :func:`~bayesclv.simulate.simulate_customers` (``calibration_weeks``,
        ``holdout_weeks``, ``start_date``, ``acquisition_weeks``).

    Returns
    -------
    CovariateWorld

    Raises
    ------
    SpecError
        For an unknown process or term, or shares that do not fit the values.
    """
    rng = np.random.default_rng(seed)
    names = list(values)
    segment_names = truth.segment_names
    counts = [sizes] * len(segment_names) if isinstance(sizes, int) else list(sizes)
    if len(counts) != len(segment_names):
        raise SpecError(f"sizes has {len(counts)} entries for {len(segment_names)} segments")
    draws = {name: _draw(rng, name, values[name], (shares or {}).get(name), sum(counts))
             for name in names}
    terms = _terms(values, draws)
    known = {term for columns in terms.values() for term in columns}
    for process, table in coefficients.items():
        if process not in ("purchase", "dropout", "spend"):
            raise SpecError(f"unknown process {process!r}; use purchase, dropout or spend")
        unknown = sorted(set(table) - known)
        if unknown:
            raise SpecError(f"unknown term {unknown[0]!r}; the terms are {sorted(known)}")

    combos = list(product(*(range(len(values[name])) for name in names)))
    segment_of = np.repeat(np.arange(len(segment_names)), counts)
    combo_of = np.zeros(segment_of.size, dtype=np.int64)
    for name in names:
        combo_of = combo_of * len(values[name]) + draws[name]
    sub_names, sub_sizes, rows = [], [], []
    for g, segment in enumerate(segment_names):
        for c, combo in enumerate(combos):
            size = int(np.sum((segment_of == g) & (combo_of == c)))
            if size == 0:
                continue
            sub_names.append(_JOIN.join([segment, *(str(values[n][i]) for n, i in
                                                     zip(names, combo, strict=True))]))
            sub_sizes.append(size)
            rows.append(_shifted(truth, segment, names, combo, terms, coefficients))
    sub_truth = HierarchicalTruth.from_frame(
        truth.family, pd.DataFrame(rows, index=sub_names))
    world = simulate_customers(sub_truth, sub_sizes, seed=rng, **settings)
    relabelled, table = _relabelled(world, truth, names)
    truths = {process: {term: float(coefficients.get(process, {}).get(term, 0.0))
                        for name in names for term in terms[name]}
              for process in ("purchase", "dropout", "spend")}
    return CovariateWorld(world=relabelled, covariates=table, terms=truths)


def _draw(rng: np.random.Generator, name: str, options: Sequence[object],
          share: Sequence[float] | None, n: int) -> np.ndarray:
    if len(options) < 2:
        raise SpecError(f"covariate {name!r} needs at least two values")
    p = None if share is None else np.asarray(share, dtype=float)
    if p is not None and (p.shape != (len(options),) or not np.isclose(p.sum(), 1.0)
                          or np.any(p < 0)):
        raise SpecError(f"shares of {name!r} must be {len(options)} probabilities summing to 1")
    return rng.choice(len(options), size=n, p=p)


def _terms(values: Mapping[str, Sequence[object]], draws: Mapping[str, np.ndarray]
           ) -> dict[str, dict[str, object]]:
    """Per covariate, each term's name → how to compute it from a value index."""
    out: dict[str, dict[str, object]] = {}
    for name, options in values.items():
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in options):
            drawn = np.asarray(options, dtype=float)[draws[name]]
            mean, sd = float(drawn.mean()), float(drawn.std())
            out[name] = {name: lambda i, o=options, m=mean, s=sd: (float(o[i]) - m) / s}
        else:
            out[name] = {f"{name}[{level}]": lambda i, k=k: float(i == k)
                         for k, level in enumerate(options) if k > 0}
    return out


def _shifted(truth: HierarchicalTruth, segment: str, names: list[str], combo: tuple[int, ...],
             terms: Mapping[str, Mapping[str, object]],
             coefficients: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """A sub-segment's parameters: the segment's, shifted by its covariate terms."""
    params = {name: float(truth.segments[name].sel(segment=segment))
              for name in truth.parameter_names}
    shift = {process: sum(coefficients.get(process, {}).get(term, 0.0) * compute(i)
                          for name, i in zip(names, combo, strict=True)
                          for term, compute in terms[name].items())
             for process in ("purchase", "dropout", "spend")}
    record = family_record(truth.family)
    natural = record.covariate_parameters([params[n] for n in record.natural],
                                          shift["purchase"], shift["dropout"])
    params.update(zip(record.natural, map(float, natural), strict=True))
    params["gamma"] *= float(np.exp(shift["spend"]))
    return params


def _relabelled(world: SimulatedWorld, truth: HierarchicalTruth, names: list[str]
                ) -> tuple[SimulatedWorld, pd.DataFrame]:
    """Split sub-segment labels back into the segment and one column per covariate."""
    parts = world.customers["segment"].to_numpy().astype(str)
    split = np.array([label.split(_JOIN) for label in parts], dtype=object)
    table = pd.DataFrame({name: split[:, 1 + k] for k, name in enumerate(names)},
                         index=pd.Index(world.customers["customer"].to_numpy(), name="customer_id"))
    for name in names:
        numbers = pd.to_numeric(table[name], errors="coerce")
        if numbers.notna().all():
            table[name] = numbers
    customers = world.customers.assign_coords(
        segment=("customer", split[:, 0]),
        **{name: ("customer", table[name].to_numpy()) for name in names})
    transactions = world.transactions.copy()
    by_customer = table.reindex(transactions["customer_id"].to_numpy())
    transactions["segment"] = split[:, 0][
        pd.Index(world.customers["customer"].to_numpy()).get_indexer(transactions["customer_id"])]
    for name in names:
        transactions[name] = by_customer[name].to_numpy()
    relabelled = SimulatedWorld(transactions=transactions, customers=customers, truth=truth,
                                calibration_end=world.calibration_end,
                                holdout_end=world.holdout_end)
    return relabelled, table
