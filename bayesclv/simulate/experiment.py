"""A simulated randomised retention experiment on a Pareto/NBD customer base, with its truth.

The story (time in days; a customer's clock starts at the end of their first purchase day,
as in :mod:`bayesclv.simulate.customers`):

* customers make a first purchase on a uniformly random day of the acquisition window,
  then buy and drop out as the Pareto/NBD of their segment says (λ ~ Gamma(r, α),
  μ ~ Gamma(s, β) per week; every purchase occasion's amount ~ Gamma(p, ν),
  ν ~ Gamma(q, γ));
* on the experiment day (the first day after ``history_weeks``) the customers who bought
  in the last ``active_weeks`` are eligible; a random ``treated_share`` of them is treated;
* from the start of that day a treated customer's purchase rate is f_λ λ and dropout rate
  f_μ μ (the customer's remaining lifetime is exponential at f_μ μ if still alive:
  exponential lifetimes are memoryless), and each purchase's amount is Gamma(p, ν/f_z):
  the mean spend per purchase scaled by f_z;
* everyone is observed for ``follow_up_weeks`` more.

The transaction log holds at most one row per customer and day (same-day purchases are one
occasion); the assignment table is the form experiments arrive in: ``customer_id``,
``treated`` and ``treated_on`` (empty for controls).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from bayesclv.errors import SpecError
from bayesclv.simulate.customers import HierarchicalTruth, Seed
from bayesclv.units import DAYS_PER_UNIT

__all__ = ["SimulatedExperiment", "simulate_experiment"]

DAYS_PER_WEEK = int(DAYS_PER_UNIT["weeks"])


@dataclass(frozen=True, eq=False)
class SimulatedExperiment:
    """A simulated experiment: its transaction log, its assignment table and the truth.

    Attributes
    ----------
    transactions
        One row per purchase occasion: ``customer_id`` (str), ``date`` (datetime64),
        ``amount`` (dollars, ≥ 0.01), ``segment`` (str); sorted by customer and date.
    assignment
        One row per eligible customer: ``customer_id``, ``treated`` (bool), ``treated_on``
        (the experiment day for treated customers, NaT for controls).
    customers
        Dim ``customer``: the truth per customer (``lambda``, ``mu`` per week, ``nu``,
        ``first_date``, ``eligible``, ``treated``, ``dropout_time`` in weeks after the
        first purchase, possibly ``inf``), coordinate ``segment``.
    truth
        The segment parameters the customers were drawn from.
    purchase_factor, dropout_factor, spend_factor
        The true f_λ, f_μ and f_z of the treatment.
    treated_on
        The experiment day.
    end
        The last observed day.
    """

    transactions: pd.DataFrame
    assignment: pd.DataFrame
    customers: xr.Dataset
    truth: HierarchicalTruth
    purchase_factor: float
    dropout_factor: float
    spend_factor: float
    treated_on: pd.Timestamp
    end: pd.Timestamp


def simulate_experiment(truth: HierarchicalTruth, sizes: int | list[int], *,
                        purchase_factor: float = 1.0, dropout_factor: float = 1.0,
                        spend_factor: float = 1.0, history_weeks: int = 26,
                        follow_up_weeks: int = 26,
                        acquisition_weeks: int = 13, active_weeks: int = 13,
                        treated_share: float = 0.5,
                        start_date: str | pd.Timestamp = "2024-01-01",
                        seed: Seed = None) -> SimulatedExperiment:
    """Simulate customers, a randomised action on the recently active ones, and what followed.

    Parameters
    ----------
    truth
        Pareto/NBD segment parameters (weeks, dollars).
    sizes
        Customers per segment: one count for all, or one per segment in the truth's order.
    purchase_factor, dropout_factor
        What the action multiplies the purchase and dropout rates by (> 0).
    spend_factor
        What the action multiplies the mean spend per purchase by (> 0).
    history_weeks
        Weeks from ``start_date`` to the experiment day (≥ ``acquisition_weeks``).
    follow_up_weeks
        Weeks observed from the experiment day on (≥ 1).
    acquisition_weeks
        First purchases fall on a uniformly random day of the first this-many weeks.
    active_weeks
        Eligible: customers with a purchase occasion in the last this-many weeks before the
        experiment day.
    treated_share
        Chance that an eligible customer is treated, in (0, 1).
    start_date
        First day of the acquisition window.
    seed
        Same seed, same experiment.

    Returns
    -------
    SimulatedExperiment

    Raises
    ------
    SpecError
        A family other than Pareto/NBD, sizes that do not match the segments, factors that
        are not positive, or periods out of range.
    """
    if truth.family != "pareto_nbd":
        raise SpecError(f"simulate_experiment needs a Pareto/NBD truth, got {truth.family!r}")
    names = truth.segment_names
    counts = [sizes] * len(names) if isinstance(sizes, (int, np.integer)) else list(sizes)
    if len(counts) != len(names) or any(int(c) < 1 for c in counts):
        raise SpecError(f"sizes must be one positive count per segment {names}, got {sizes!r}")
    for name, value in (("purchase_factor", purchase_factor),
                        ("dropout_factor", dropout_factor), ("spend_factor", spend_factor)):
        if not (np.isfinite(value) and value > 0):
            raise SpecError(f"{name} must be a finite number > 0, got {value!r}")
    if not 0.0 < treated_share < 1.0:
        raise SpecError(f"treated_share must be in (0, 1), got {treated_share!r}")
    if not (1 <= acquisition_weeks <= history_weeks and follow_up_weeks >= 1
            and 1 <= active_weeks <= history_weeks):
        raise SpecError("need 1 <= acquisition_weeks <= history_weeks, follow_up_weeks >= 1 "
                        "and 1 <= active_weeks <= history_weeks")

    rng = np.random.default_rng(seed)
    segment = np.repeat(np.asarray(names, dtype=object), counts)
    params = {name: np.repeat(truth.segments[name].to_numpy(), counts)
              for name in ("r", "alpha", "s", "beta", "p", "q", "gamma")}
    n = segment.size
    day_x = history_weeks * DAYS_PER_WEEK  # the experiment day, counted from start_date
    last = day_x + follow_up_weeks * DAYS_PER_WEEK - 1
    first = rng.integers(0, acquisition_weeks * DAYS_PER_WEEK, size=n)
    lam = rng.gamma(params["r"], 1.0 / params["alpha"]) / DAYS_PER_WEEK  # per day
    mu = rng.gamma(params["s"], 1.0 / params["beta"]) / DAYS_PER_WEEK
    nu = rng.gamma(params["q"], 1.0 / params["gamma"])

    # before the experiment: the clock runs to the start of the experiment day
    tau = (day_x - first - 1).astype(float)
    with np.errstate(divide="ignore"):
        life = rng.standard_exponential(n) / mu
    who, when = _events(rng, lam, np.zeros(n), np.minimum(life, tau))
    recent = np.zeros(n, dtype=bool)
    recent[who[first[who] + np.ceil(when) >= day_x - active_weeks * DAYS_PER_WEEK]] = True
    eligible = recent | (first >= day_x - active_weeks * DAYS_PER_WEEK)
    treated = eligible & (rng.random(n) < treated_share)

    # after: a treated customer alive at τ lives on at f_μ μ (memoryless), buys at f_λ λ
    alive_at_tau = life > tau
    rest = np.where(treated, (life - tau) / dropout_factor, life - tau)
    life = np.where(alive_at_tau, tau + rest, life)
    rate = np.where(treated, purchase_factor * lam, lam)
    window = (last - first).astype(float)
    start = np.where(alive_at_tau, tau, window)
    who_2, when_2 = _events(rng, rate, start, np.minimum(life, window))

    customer, day = _occasions(np.concatenate([who, who_2]),
                               np.concatenate([np.ceil(when), np.ceil(when_2)]), first)
    scaled = np.where(treated[customer] & (day >= day_x), spend_factor, 1.0)
    amount = np.maximum(np.rint(100.0 * scaled * rng.gamma(params["p"][customer],
                                                           1.0 / nu[customer])), 1.0) / 100.0
    width = max(6, len(str(n)))
    ids = np.asarray([f"C{i:0{width}d}" for i in range(1, n + 1)], dtype=object)
    start_day = pd.Timestamp(start_date).normalize()
    experiment_day = start_day + pd.Timedelta(days=day_x)
    transactions = pd.DataFrame({
        "customer_id": ids[customer],
        "date": (start_day + pd.to_timedelta(day, unit="D")).astype("datetime64[us]"),
        "amount": amount,
        "segment": segment[customer],
    })
    assignment = pd.DataFrame({
        "customer_id": ids[eligible],
        "treated": treated[eligible],
        "treated_on": pd.Series(np.where(treated[eligible], experiment_day, pd.NaT),
                                dtype="datetime64[us]"),
    })
    customers = xr.Dataset(
        {
            "lambda": ("customer", lam * DAYS_PER_WEEK, {"description": "purchases per week"}),
            "mu": ("customer", mu * DAYS_PER_WEEK, {"description": "dropouts per week"}),
            "nu": ("customer", nu, {"description": "Gamma-Gamma rate (per dollar)"}),
            "first_date": ("customer", (start_day + pd.to_timedelta(first, unit="D"))
                           .to_numpy().astype("datetime64[us]")),
            "eligible": ("customer", eligible),
            "treated": ("customer", treated),
            "dropout_time": ("customer", life / DAYS_PER_WEEK,
                             {"description": "weeks after the first purchase"}),
        },
        coords={"customer": ids, "segment": ("customer", segment)},
    )
    return SimulatedExperiment(
        transactions=transactions, assignment=assignment, customers=customers, truth=truth,
        purchase_factor=float(purchase_factor), dropout_factor=float(dropout_factor),
        spend_factor=float(spend_factor), treated_on=experiment_day,
        end=start_day + pd.Timedelta(days=int(last)))


def _events(rng: np.random.Generator, rate: np.ndarray, start: np.ndarray,
            end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Poisson(rate) events on each customer's clock over (start, end] (empty if end ≤ start)."""
    span = np.maximum(end - start, 0.0)
    counts = rng.poisson(rate * span)
    who = np.repeat(np.arange(rate.size), counts)
    # 1 - U lies in (0, 1]: an event never falls on the interval's open end
    return who, start[who] + (1.0 - rng.random(who.size)) * span[who]


def _occasions(who: np.ndarray, day_on_clock: np.ndarray,
               first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every customer's first purchase plus their distinct event days, sorted (days since start)."""
    n = first.size
    customer = np.concatenate([np.arange(n), who])
    day = np.concatenate([first, first[who] + day_on_clock.astype(np.int64)])
    stride = int(day.max()) + 1
    keys = np.unique(customer.astype(np.int64) * stride + day)
    return keys // stride, keys % stride
