"""Learning what an action did from the transaction log of an experiment.

In a non-contractual business nobody observes dropout, so an experiment's outcome cannot be
a "retained" flag. :func:`learn_effect_from_log` fits the Pareto/NBD with a treatment
(:mod:`bayesclv.models.treatment`) on every customer's whole history: the purchases before
the action pin each customer's own rates down, those after identify what the action
multiplied the purchase and dropout rates by. The two learned effects come back as
:class:`~bayesclv.actions.Effect` draws with one joint label, so
:func:`~bayesclv.decision.action_values` draws them together and keeps their correlation.
Model, assumptions and a simulated check: ``docs/experiments.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from bayesclv.actions import Action, Effect
from bayesclv.data import ColumnMap, CustomerSummary, summarise
from bayesclv.data.pandas_engine import parse_dates
from bayesclv.data.validate import DEFAULT_TIMEZONE, parse_day
from bayesclv.decision.experiment import _prior_moments, effect_prior, quiet_pymc
from bayesclv.errors import DataError, SpecError
from bayesclv.models.convergence import Convergence, diagnose, warn_if_unconverged
from bayesclv.models.sampling import sample_nuts
from bayesclv.models.treatment import (
    EFFECT_PARAMETERS,
    SPEND_EFFECT,
    TreatedHistories,
    build_spend_treatment_model,
    build_treatment_model,
)
from bayesclv.spec import NormalPrior, PriorSpec, SamplerSpec
from bayesclv.units import DAYS_PER_UNIT

__all__ = ["ASSIGNMENT_COLUMNS", "LearnedTreatment", "learn_effect_from_log",
           "treated_histories"]

ASSIGNMENT_COLUMNS = ("customer_id", "treated", "treated_on")
"""Columns of an assignment table: who was in the experiment, in which arm, and when."""

HDI_PROB = 0.9


@dataclass(frozen=True)
class LearnedTreatment:
    """An action's effects on purchasing and dropout, learned from an experiment's log.

    Attributes
    ----------
    action
        The action with the learned effects in place of its priors (population level; with
        several segments, each segment's own effects as segment overrides). The
        ``purchase_rate`` and ``dropout_rate`` effects share one ``joint`` label.
    effects
        Process → learned effect (population level): ``purchase_rate``, ``dropout_rate``
        and, when the spend was modelled, ``spend``.
    priors
        Process → the effect before the experiment.
    segment_effects
        Segment → process → learned effect (empty with one segment).
    posterior
        The frequency/dropout fit: groups ``posterior`` and ``sample_stats``.
    convergence
        R-hat, ESS, divergences and E-BFMI of that fit.
    spend_posterior, spend_convergence
        The same for the spend fit (None without it).
    groups
        Per arm (``treated``, ``control``, ``not in the experiment``): customers and their
        mean repeat purchases over the whole observation.
    """

    action: Action
    effects: dict[str, Effect]
    priors: dict[str, Effect]
    segment_effects: dict[str, dict[str, Effect]]
    posterior: xr.DataTree
    convergence: Convergence
    groups: pd.DataFrame
    spend_posterior: xr.DataTree | None = None
    spend_convergence: Convergence | None = None

    def summary(self) -> pd.DataFrame:
        """One row per process (and segment): the learned effect beside its prior.

        Returns
        -------
        pandas.DataFrame
            Columns ``segment`` (``"all"`` for the population level), ``process``,
            ``mean``, ``low``, ``high`` (the 90 % HDI of the relative change: −0.40 is a
            40 % cut), ``prior_mean``, ``prior_low``, ``prior_high`` (the prior's 90 %
            interval), ``converged`` (of the fit the effect comes from).
        """
        rows = [("all", process, effect) for process, effect in self.effects.items()]
        rows += [(segment, process, effect)
                 for segment, effects in self.segment_effects.items()
                 for process, effect in effects.items()]
        out = []
        for segment, process, effect in rows:
            low, high = az.hdi(np.asarray(effect.samples), prob=HDI_PROB)
            prior_mean, prior_low, prior_high = _prior_moments(self.priors[process])
            out.append({"segment": segment, "process": process,
                        "mean": float(np.mean(effect.samples)), "low": float(low),
                        "high": float(high), "prior_mean": prior_mean,
                        "prior_low": prior_low, "prior_high": prior_high,
                        "converged": (self.spend_convergence if process == "spend"
                                      else self.convergence).ok})
        return pd.DataFrame(out)


def learn_effect_from_log(action: Action, log: object, assignment: pd.DataFrame, *,
                          end: object, columns: ColumnMap = ColumnMap(),  # noqa: B008
                          time_unit: str = "weeks", timezone: str = DEFAULT_TIMEZONE,
                          spend: bool = True,
                          priors: PriorSpec = PriorSpec(),  # noqa: B008
                          spend_priors: PriorSpec = PriorSpec(),  # noqa: B008
                          effect_tau_sigma: float = 0.2, draws: int = 1000, tune: int = 1000,
                          chains: int = 2, seed: int = 0, target_accept: float = 0.9,
                          progress: bool = False) -> LearnedTreatment:
    """Learn an action's effects on purchasing, dropout and spend from an experiment's log.

    Parameters
    ----------
    action
        The action tested. Its ``purchase_rate``, ``dropout_rate`` (and ``spend``) effects
        are the priors (a normal on log f matching each 90 % range); a process without one
        gets the wide default of :data:`bayesclv.decision.experiment.DEFAULT_PRIORS`.
    log
        The transaction log of every customer (before and after the action), in any form
        :func:`bayesclv.data.summarise` reads, in ``columns``' names.
    assignment
        One row per customer of the experiment: ``customer_id``, ``treated`` (1/True or
        0/False) and ``treated_on`` (the day the action reached a treated customer; empty
        for controls). Customers of the log outside it are fitted as untreated.
    end
        Last day observed (inclusive): the log covers every purchase up to it, and a
        purchase after it is an error (a sign of a bad extract).
    columns
        Which log columns hold customer, date, amount and segment. With a segment column
        the parameters and both factors are partially pooled across segments.
    time_unit
        ``"weeks"`` or ``"days"``: the unit of the model's rates.
    timezone
        The zone in which an instant (a zone-aware timestamp, a date with a UTC offset) in
        the log or the assignment falls on its day; naive dates are taken as written.
    spend
        Also learn the factor on the mean spend per purchase (a Gamma-Gamma fit of the
        spend before and after the action, paired with the frequency fit).
    priors, spend_priors
        Pareto/NBD and Gamma-Gamma priors and the between-segment scales.
    effect_tau_sigma
        Scale of the half-normal prior on the between-segment spread of log f.
    draws, tune, chains, seed, target_accept
        NUTS settings.
    progress
        Show the sampler's progress bar.

    Returns
    -------
    LearnedTreatment

    Raises
    ------
    DataError
        A bad log (as :func:`bayesclv.data.summarise` says), a bad assignment table (a
        missing column, a duplicate or unknown customer, a treated flag that is not 0/1, a
        treated customer without a date or a control with one, a date before the
        customer's first purchase or after ``end``), no treated or no control customers.
    SpecError
        A prior that is a known value, bad sampler settings.

    Warns
    -----
    ConvergenceWarning
        When the fit fails a convergence check.
    """
    if not isinstance(action, Action):
        raise SpecError(f"action must be an Action, got {type(action).__name__}")
    if spend and columns.amount is None:
        raise SpecError("spend=True needs the log's amounts, but columns.amount is None; "
                        "pass spend=False to learn the purchase and dropout effects only")
    processes = (*EFFECT_PARAMETERS, "spend") if spend else tuple(EFFECT_PARAMETERS)
    priors_by_process = {process: effect_prior(action, process) for process in processes}
    # the default backend (nutpie): these models have thousands of rows, unlike the
    # outcome-table models that learn_effect sends to PyMC's NUTS; SamplerSpec checks them
    sampler = SamplerSpec(chains=chains, tune=tune, draws=draws, seed=seed,
                          target_accept=target_accept)
    histories, arm = treated_histories(log, assignment, end=end, columns=columns,
                                       time_unit=time_unit, timezone=timezone)
    model = build_treatment_model(
        histories, priors,
        {process: NormalPrior(*priors_by_process[process].normal())
         for process in EFFECT_PARAMETERS},
        effect_tau_sigma=effect_tau_sigma)
    tree, convergence = _sample(model, sampler, progress,
                                f"learning the effects of {action.name!r} from the log")
    posterior = tree["posterior"].to_dataset()
    spend_tree = spend_convergence = None
    if spend:
        spend_model = build_spend_treatment_model(
            histories, spend_priors, NormalPrior(*priors_by_process["spend"].normal()),
            effect_tau_sigma=effect_tau_sigma)
        spend_tree, spend_convergence = _sample(
            spend_model, sampler, progress,
            f"learning the spend effect of {action.name!r} from the log")

    groups = _groups(histories.summary, arm)
    source = (f"experiment log: {groups.loc['treated', 'customers']} treated vs "
              f"{groups.loc['control', 'customers']} control customers")
    segments = list(histories.summary.segments)

    def learned(process: str, segment: int | None) -> Effect:
        draws, name, joint = (
            (spend_tree["posterior"].to_dataset(), SPEND_EFFECT, None) if process == "spend"
            else (posterior, EFFECT_PARAMETERS[process], f"{action.name}: {source}"))
        log_f = draws[f"{name}_pop"] if segment is None else draws[name].isel(segment=segment)
        return Effect.from_samples(process, np.expm1(log_f.values.ravel()), source=source,
                                   joint=joint)

    effects = {process: learned(process, None) for process in processes}
    updated = action
    for effect in effects.values():
        updated = updated.with_effect(effect)
    segment_effects: dict[str, dict[str, Effect]] = {}
    if len(segments) > 1:
        for g, label in enumerate(segments):
            segment_effects[label] = {p: learned(p, g) for p in processes}
            for effect in segment_effects[label].values():
                updated = updated.with_effect(effect, segment=label)
    return LearnedTreatment(action=updated, effects=effects, priors=priors_by_process,
                            segment_effects=segment_effects, posterior=tree,
                            convergence=convergence, groups=groups, spend_posterior=spend_tree,
                            spend_convergence=spend_convergence)


def _sample(model: pm.Model, sampler: SamplerSpec, progress: bool,
            what: str) -> tuple[xr.DataTree, Convergence]:
    """Sample a model and diagnose it, warning loudly when it fails a check."""
    with quiet_pymc(not progress):
        tree = sample_nuts(model, sampler, progress=progress)
    convergence = diagnose(tree["posterior"].to_dataset(), tree["sample_stats"].to_dataset(),
                           [rv.name for rv in model.free_RVs])
    warn_if_unconverged(convergence, what)
    return tree, convergence


def treated_histories(log: object, assignment: pd.DataFrame, *, end: object,
                      columns: ColumnMap = ColumnMap(),  # noqa: B008
                      time_unit: str = "weeks", timezone: str = DEFAULT_TIMEZONE
                      ) -> tuple[TreatedHistories, np.ndarray]:
    """Every customer's history, with when the action reached the treated ones.

    Parameters
    ----------
    log, assignment, end, columns, time_unit, timezone
        As for :func:`learn_effect_from_log`.

    Returns
    -------
    (TreatedHistories, ndarray)
        The histories, and each customer's arm: 1 treated, 0 control, −1 not in the
        experiment. τ is the time from the first purchase to the start of the day the
        action reached the customer (0 when that is the first purchase's day); purchases
        on that day count as after it.
    """
    end_day = parse_day(end, "end")
    summary = summarise(log, calibration_end=end_day, observation_end=end_day, columns=columns,
                        time_unit=time_unit, timezone=timezone)
    table = _assignment(assignment, summary, end_day, timezone)
    ids = summary.frame.index.astype(str)
    arm = np.full(len(ids), -1)
    position = ids.get_indexer(table.index)
    arm[position] = table["treated"].to_numpy(int)
    treated = arm == 1
    unit = DAYS_PER_UNIT[time_unit]
    first = pd.DatetimeIndex(summary.frame["first_purchase"])
    on = pd.DatetimeIndex(np.full(len(ids), np.datetime64("NaT"), dtype="datetime64[ns]"))
    on = on.where(~treated, pd.DatetimeIndex(table["treated_on"].reindex(ids)))
    late = treated & (on < first)
    if late.any():
        i = int(np.flatnonzero(late)[0])
        raise DataError(f"assignment: customer {ids[i]!r} is treated on {on[i].date()}, "
                        f"before their first purchase on {first[i].date()}; an experiment "
                        "acts on existing customers")
    tau = np.where(treated, np.maximum((on - first).days.to_numpy(float) - 1.0, 0.0) / unit,
                   np.nan)
    frame = summary.frame
    x = frame["x"].to_numpy(int)
    n_spend = frame["n_spend"].to_numpy(int)
    spend = np.where(n_spend > 0, n_spend * frame["mean_spend"].fillna(0.0).to_numpy(), 0.0)
    # after the action: everything for a customer acquired on its day, else the whole
    # history minus a summary that ends the day before
    x_post = np.where(treated, x, 0)
    n_spend_post = np.where(treated, n_spend, 0)
    spend_post = np.where(treated, spend, 0.0)
    for day in pd.DatetimeIndex(on[treated]).unique():
        before = treated & (on == day) & (first < day)
        if not before.any():
            continue
        upto = summarise(log, calibration_end=day - pd.Timedelta(days=1), holdout_end=end_day,
                         observation_end=end_day, columns=columns, time_unit=time_unit,
                         timezone=timezone).frame.reindex(ids[before])
        x_post[before] = upto["x_holdout"].to_numpy(int)
        n_pre = upto["n_spend"].to_numpy(int)
        n_spend_post[before] = n_spend[before] - n_pre
        spend_post[before] = spend[before] - np.where(
            n_pre > 0, n_pre * upto["mean_spend"].fillna(0.0).to_numpy(), 0.0)
    # where nothing was bought after, the difference of two sums is rounding noise
    spend_post = np.where(n_spend_post > 0, spend_post, 0.0)
    return TreatedHistories(summary=summary, treated=treated, tau=tau, x_post=x_post,
                            n_spend_post=n_spend_post, spend_post=spend_post), arm


def _assignment(assignment: pd.DataFrame, summary: CustomerSummary, end: pd.Timestamp,
                timezone: str) -> pd.DataFrame:
    """The assignment table indexed by customer id, checked, or a DataError naming the row."""
    if not isinstance(assignment, pd.DataFrame):
        raise DataError(f"assignment must be a pandas DataFrame, got {type(assignment).__name__}")
    missing = [c for c in ASSIGNMENT_COLUMNS if c not in assignment.columns]
    if missing:
        raise DataError(f"assignment: column {missing[0]!r} not found; it needs "
                        f"{', '.join(ASSIGNMENT_COLUMNS)} (available: "
                        f"{', '.join(map(repr, assignment.columns))})")
    ids = assignment["customer_id"].astype(str).str.strip()
    duplicated = ids.duplicated()
    if duplicated.any():
        raise DataError(f"assignment: customer {ids[duplicated].iloc[0]!r} appears more than "
                        "once; give one row per customer")
    known = summary.frame.index.astype(str)
    unknown = ~ids.isin(known)
    if unknown.any():
        raise DataError(f"assignment: customer {ids[unknown].iloc[0]!r} has no purchase in the "
                        f"log up to {end.date()}")
    flag = assignment["treated"]
    text = flag.astype(str).str.strip().str.lower()
    treated = text.map({"1": True, "true": True, "0": False, "false": False,
                        "1.0": True, "0.0": False})
    if treated.isna().any():
        row = int(np.flatnonzero(treated.isna().to_numpy())[0])
        raise DataError(f"assignment: column 'treated' row {row} ({ids.iloc[row]!r}) is "
                        f"{flag.iloc[row]!r}; use 1/True for treated, 0/False for control")
    treated = treated.astype(bool).to_numpy()
    raw = assignment["treated_on"]
    blank = raw.isna() | raw.astype(str).str.strip().isin(["", "NaT", "nan", "None"])
    on = parse_dates(raw, "treated_on", timezone)
    unreadable = on.isna() & ~blank
    problems = [
        (unreadable.to_numpy(), "is not a date (use YYYY-MM-DD)"),
        (treated & blank.to_numpy(), "is empty for a treated customer; give the day the "
                                     "action reached them"),
        (~treated & ~blank.to_numpy(), "is given for a control customer; leave it empty"),
        (treated & (on > end).to_numpy(), f"is after the last observed day {end.date()}"),
    ]
    for bad, what in problems:
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(f"assignment: column 'treated_on' row {row} ({ids.iloc[row]!r}) = "
                            f"{raw.iloc[row]!r} {what}")
    if treated.all() or not treated.any():
        arm = "control" if treated.all() else "treated"
        raise DataError(f"assignment: no {arm} customers; an experiment needs both arms")
    return pd.DataFrame({"treated": treated, "treated_on": on.dt.normalize().to_numpy()},
                        index=pd.Index(ids.to_numpy(), name="customer_id"))


def _groups(summary: CustomerSummary, arm: np.ndarray) -> pd.DataFrame:
    x = summary.frame["x"].to_numpy(float)
    labels = {1: "treated", 0: "control", -1: "not in the experiment"}
    return pd.DataFrame(
        {"customers": [int(np.sum(arm == k)) for k in labels],
         "mean_repeat_purchases": [float(x[arm == k].mean()) if np.any(arm == k) else np.nan
                                   for k in labels]},
        index=pd.Index(list(labels.values()), name="arm"))
