"""Learning an action's effect from a past experiment (treated vs control customers).

:func:`learn_effect` takes one :class:`~bayesclv.actions.Action`, one process and a table
with one row per customer of a past, randomised experiment (treated or control, and the
outcome seen afterwards). A small PyMC model updates the action's prior on that process;
the posterior draws become the action's new :class:`~bayesclv.actions.Effect`.

The four models (details, assumptions and an example: ``docs/experiments.md``):

* ``purchase_rate`` — purchase counts, Negative Binomial with mean
  exp(b0 + log f · treated) · exposure; the effect is f − 1;
* ``dropout_rate`` — retained 0/1 under proportional hazards: P(retained | treated)
  = P(retained | control) ** f; the effect is f − 1;
* ``spend`` — average spend per purchase, Gamma with mean exp(b0 + log f · treated) and a
  common shape; the effect is f − 1;
* ``reactivation`` — reactivated 0/1 among lapsed customers: P(treated) = π0 + ρ (1 − π0);
  the effect is ρ.

The likelihoods are evaluated on sufficient statistics (per-arm counts and sums, or distinct
(treated, exposure, count) cells with their number of customers); they are exact, and make
a fit on thousands of customers as cheap as one on a handful.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from scipy import special

from bayesclv.actions import PROCESSES, Z_90, Action, Effect
from bayesclv.errors import DataError, SpecError
from bayesclv.maths.backend import ops_for
from bayesclv.models.convergence import Convergence, diagnose, warn_if_unconverged
from bayesclv.models.sampling import sample_nuts
from bayesclv.spec import SamplerSpec

__all__ = ["DEFAULT_PRIORS", "DEFAULT_OUTCOMES", "LearnedEffect", "learn_effect"]

DEFAULT_OUTCOMES: dict[str, str] = {
    "purchase_rate": "purchases",
    "dropout_rate": "retained",
    "spend": "spend",
    "reactivation": "reactivated",
}
"""Outcome column read for each process when ``outcome`` is not given."""

DEFAULT_PRIORS: dict[str, tuple[float, float]] = {
    "purchase_rate": (-0.5, 1.0),
    "dropout_rate": (-0.5, 1.0),
    "spend": (-0.5, 1.0),
    "reactivation": (0.01, 0.5),
}
"""90 % ranges used when the action states no prior on the process: wide on purpose."""

ARMS = ("control", "treated")


@dataclass(frozen=True)
class LearnedEffect:
    """An action's effect on one process, updated by an experiment.

    Attributes
    ----------
    action
        The action with ``effect`` in place of its prior on the process (every other effect,
        cost and eligibility unchanged; segment overrides of this process are dropped).
    effect
        The learned effect: posterior draws of the relative change (or of the reactivation
        probability), with its 90 % range.
    prior
        The effect before the experiment (the action's, or the wide default of
        :data:`DEFAULT_PRIORS` with ``source = "default prior"``).
    posterior
        The fit: groups ``posterior`` (``effect`` and the model's parameters),
        ``sample_stats``, and the data it saw (``observed_data``/``constant_data``).
    convergence
        R-hat, ESS, divergences and E-BFMI of the fit.
    groups
        Per arm (``control``, ``treated``): number of customers and the observed mean outcome
        (purchases per exposure unit, share retained, mean spend, share reactivated).
    outcome
        The outcome column the effect was learned from.
    """

    action: Action
    effect: Effect
    prior: Effect
    posterior: xr.DataTree
    convergence: Convergence
    groups: pd.DataFrame
    outcome: str

    def summary(self) -> pd.DataFrame:
        """One row: prior vs posterior of the effect, and the experiment behind it.

        Returns
        -------
        pandas.DataFrame
            Columns ``action, process, outcome, n_treated, n_control, mean_treated,
            mean_control, prior_source, prior_mean, prior_eti_90%_low, prior_eti_90%_high,
            posterior_mean, posterior_eti_90%_low, posterior_eti_90%_high, converged``.
            Effects are relative changes (0.25 = +25 %) or, for ``reactivation``, a
            probability; intervals are equal-tailed (5 % and 95 % quantiles). Summaries of
            several experiments concatenate with ``pd.concat``.
        """
        prior_mean, prior_low, prior_high = _prior_moments(self.prior)
        samples = self.effect.samples
        return pd.DataFrame([{
            "action": self.action.name,
            "process": self.effect.process,
            "outcome": self.outcome,
            "n_treated": int(self.groups.loc["treated", "customers"]),
            "n_control": int(self.groups.loc["control", "customers"]),
            "mean_treated": float(self.groups.loc["treated", "mean"]),
            "mean_control": float(self.groups.loc["control", "mean"]),
            "prior_source": self.prior.source,
            "prior_mean": prior_mean,
            "prior_eti_90%_low": prior_low,
            "prior_eti_90%_high": prior_high,
            "posterior_mean": float(np.mean(samples)) if samples is not None else np.nan,
            "posterior_eti_90%_low": self.effect.low,
            "posterior_eti_90%_high": self.effect.high,
            "converged": self.convergence.ok,
        }])


def learn_effect(action: Action, process: str, experiment: pd.DataFrame, *,
                 treated: str = "treated", outcome: str | None = None,
                 exposure: str | None = None, draws: int = 1000, tune: int = 1000,
                 chains: int = 2, seed: int = 0, progress: bool = False) -> LearnedEffect:
    """Update an action's effect on one process from a past randomised experiment.

    Parameters
    ----------
    action
        The action tested. Its effect on ``process`` is the prior (the normal on the
        log-factor or logit scale matching its 90 % range, also when it was itself learned
        before); without one, the wide default of :data:`DEFAULT_PRIORS` is used.
    process
        ``"purchase_rate"``, ``"dropout_rate"``, ``"spend"`` or ``"reactivation"``.
    experiment
        One row per customer of the experiment (index: customer labels).
    treated
        Column telling treated (1/True) from control (0/False) customers.
    outcome
        Outcome column; default per process: ``purchases`` (whole purchases in the
        follow-up window), ``retained`` (0/1 still active at the window's end), ``spend``
        (average spend per purchase, currency, > 0; customers without purchases left out),
        ``reactivated`` (0/1, among customers who had lapsed).
    exposure
        ``purchase_rate`` only: column of each customer's follow-up length (> 0, any time
        unit; the rate is then per that unit). Default: every customer observed for 1.
    draws, tune, chains
        Kept draws and tuning steps per chain, and the number of chains (PyMC's NUTS).
    seed
        Random seed: the same seed and data give the same draws.
    progress
        Show PyMC's progress bar and messages.

    Returns
    -------
    LearnedEffect
        The updated action, the learned and the prior effect, the fit and its diagnostics.

    Raises
    ------
    SpecError
        Unknown process, a prior that is a known value (nothing to learn), or bad sampler
        settings.
    DataError
        A missing column (with the closest name), a treated column not 0/1 or bool, no
        treated or no control customers, a missing, non-numeric or out-of-range outcome or
        exposure (naming the column, row and value).

    Warns
    -----
    ConvergenceWarning
        When the fit fails a convergence check (``result.convergence.problems``).
    """
    if process not in PROCESSES:
        close = difflib.get_close_matches(str(process), PROCESSES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise SpecError(f"unknown process {process!r}{hint} (processes: {', '.join(PROCESSES)})")
    if not isinstance(action, Action):
        raise SpecError(f"action must be an Action, got {type(action).__name__}")
    prior = effect_prior(action, process)
    sampler = _sampler(draws=draws, tune=tune, chains=chains, seed=seed)
    outcome = DEFAULT_OUTCOMES[process] if outcome is None else outcome
    if exposure is not None and process != "purchase_rate":
        raise DataError(f"exposure={exposure!r} only applies to process 'purchase_rate', "
                        f"not {process!r}; leave it out")
    arm, y, length = _validated(experiment, process, treated, outcome, exposure)

    model = MODELS[process](arm, y, length, prior.normal())
    with quiet_pymc(not progress):
        tree = sample_nuts(model, sampler, progress=progress)
    convergence = diagnose(tree["posterior"].to_dataset(), tree["sample_stats"].to_dataset(),
                           [rv.name for rv in model.free_RVs])
    warn_if_unconverged(convergence, f"learning the {process} effect of {action.name!r}")

    groups = _groups(arm, y, length)
    samples = tree["posterior"]["effect"].values.ravel()
    if prior.is_probability:
        # expit saturates to exactly 0 or 1 only for |logit| > ~37; Effect needs 0 < ρ < 1.
        samples = np.clip(samples, 1e-12, 1.0 - 1e-12)
    source = (f"experiment: {outcome!r} of {groups.loc['treated', 'customers']} treated vs "
              f"{groups.loc['control', 'customers']} control customers")
    effect = Effect.from_samples(process, samples, source=source)
    return LearnedEffect(action=action.with_effect(effect), effect=effect, prior=prior,
                         posterior=tree, convergence=convergence, groups=groups,
                         outcome=outcome)


# --- models ---------------------------------------------------------------------------------
# Each builder takes the validated arrays (arm 0/1, outcome, exposure) and the prior
# (mean, sd) of the unconstrained effect, and returns the pm.Model. Every model has a
# deterministic ``effect``: the relative change f − 1, or ρ.

Normal = tuple[float, float]


def gamma_loglik_from_sums(shape: Any, mean: Any, n: Any, total: Any, total_log: Any) -> Any:
    """Log-likelihood of ``n`` Gamma(shape k, mean m) values from their sums.

    Σ log f(y) = n (k log(k/m) − lnΓ(k)) + (k − 1) Σ log y − (k/m) Σ y, exact. Works on
    NumPy arrays and PyTensor variables.

    Parameters
    ----------
    shape, mean
        Gamma shape k > 0 (no unit) and mean m > 0 (the values' unit, e.g. currency).
    n, total, total_log
        Number of values, their sum Σ y and the sum of their logs Σ log y.
    """
    ops = ops_for(shape, mean, n, total, total_log)
    k, m = ops.asarray(shape), ops.asarray(mean)
    rate = k / m
    return n * (k * ops.log(rate) - ops.gammaln(k)) + (k - 1.0) * total_log - rate * total


def negbin_loglik(dispersion: Any, log_mean: Any, count: Any, customers: Any,
                  count_values: Any, count_customers: Any) -> Any:
    """Summed Negative Binomial log-likelihood of customers grouped in cells.

    log NB(y | μ, φ) = lnΓ(y + φ) − lnΓ(φ) − lnΓ(y + 1) + φ log φ + y log μ − (φ + y) log(φ + μ),
    with variance μ + μ²/φ. The lnΓ terms depend on y alone, so they are summed once per
    distinct count: the costly special functions run a few dozen times, not once per
    customer. Exact; works on NumPy arrays and PyTensor variables.

    Parameters
    ----------
    dispersion
        φ > 0, the shape of the Gamma heterogeneity behind the counts (no unit).
    log_mean, count, customers
        Per cell: log of the expected count μ, the count y, and how many customers have it.
    count_values, count_customers
        The distinct counts among the cells, and the number of customers with each.

    Returns
    -------
    float or TensorVariable
        Σ customers · log NB(count | μ, φ).
    """
    ops = ops_for(dispersion, log_mean, count, customers)
    phi = ops.asarray(dispersion)
    log_phi = ops.log(phi)
    shared = (count_customers * (ops.gammaln(count_values + phi) - ops.gammaln(phi)
                                 - ops.gammaln(count_values + 1.0))).sum()
    per_cell = customers * (phi * log_phi + count * log_mean
                            - (phi + count) * ops.logaddexp(log_phi, log_mean))
    return shared + per_cell.sum()


def count_cells(arm: np.ndarray, count: np.ndarray, exposure: np.ndarray) -> pd.DataFrame:
    """Distinct (treated, exposure, count) rows with their number of customers.

    Customers in the same cell have the same likelihood term, so the likelihood is
    Σ customers · log p(count | cell): exact, and often far fewer terms than customers.
    """
    frame = pd.DataFrame({"treated": arm, "exposure": exposure, "count": count})
    cells = frame.value_counts(sort=False).rename("customers").reset_index()
    return cells.sort_values(["treated", "exposure", "count"], ignore_index=True)


def _purchase_model(arm: np.ndarray, y: np.ndarray, exposure: np.ndarray,
                    prior: Normal) -> pm.Model:
    cells = count_cells(arm, y, exposure)
    values, at = np.unique(cells["count"].to_numpy(), return_inverse=True)
    per_value = np.bincount(at, weights=cells["customers"].to_numpy(float))
    control = arm == 0
    # Centre the baseline on the control group's rate (+0.5 keeps log finite at zero sales).
    centre = np.log((y[control].sum() + 0.5) / exposure[control].sum())
    with pm.Model(coords={"cell": np.arange(len(cells)), "count_value": values}) as model:
        data = {name: pm.Data(f"cell_{name}", cells[name].to_numpy(float), dims="cell")
                for name in ("treated", "exposure", "count", "customers")}
        log_rate = pm.Normal("log_rate_control", centre, 1.0)
        log_factor = pm.Normal("log_factor", *prior)
        dispersion = pm.LogNormal("dispersion", 0.0, 2.0)
        log_mean = log_rate + log_factor * data["treated"] + pm.math.log(data["exposure"])
        pm.Potential("purchases_loglik", negbin_loglik(
            dispersion, log_mean, data["count"], data["customers"],
            values.astype(float), pm.Data("count_value_customers", per_value,
                                          dims="count_value")))
        pm.Deterministic("effect", pm.math.exp(log_factor) - 1.0)
    return model


def _dropout_model(arm: np.ndarray, y: np.ndarray, exposure: np.ndarray,
                   prior: Normal) -> pm.Model:
    n, k = _arm_totals(arm, y)
    with pm.Model(coords={"arm": list(ARMS)}) as model:
        retained_control = pm.Beta("retained_control", 1.0, 1.0)
        log_factor = pm.Normal("log_factor", *prior)
        factor = pm.math.exp(log_factor)
        # Proportional hazards: S_treated = exp(−f·H) = S_control ** f (a cloglog link).
        p = pm.Deterministic("p_retained", pm.math.stack(
            [retained_control, retained_control ** factor]), dims="arm")
        customers = pm.Data("customers", n, dims="arm")
        pm.Binomial("retained", n=customers, p=p, observed=k.astype(np.int64), dims="arm")
        pm.Deterministic("effect", factor - 1.0)
    return model


def _spend_model(arm: np.ndarray, y: np.ndarray, exposure: np.ndarray,
                 prior: Normal) -> pm.Model:
    n, total = _arm_totals(arm, y)
    _, total_log = _arm_totals(arm, np.log(y))
    centre = np.log(total[0] / n[0])
    with pm.Model(coords={"arm": list(ARMS)}) as model:
        stats = {name: pm.Data(name, value, dims="arm") for name, value in
                 (("customers", n), ("spend_sum", total), ("log_spend_sum", total_log))}
        log_spend = pm.Normal("log_spend_control", centre, 1.0)
        log_factor = pm.Normal("log_factor", *prior)
        shape = pm.LogNormal("shape", 0.0, 2.5)
        mean = pm.Deterministic("mean_spend", pm.math.exp(
            log_spend + log_factor * np.array([0.0, 1.0])), dims="arm")
        pm.Potential("spend_loglik", gamma_loglik_from_sums(
            shape, mean, stats["customers"], stats["spend_sum"], stats["log_spend_sum"]).sum())
        pm.Deterministic("effect", pm.math.exp(log_factor) - 1.0)
    return model


def _reactivation_model(arm: np.ndarray, y: np.ndarray, exposure: np.ndarray,
                        prior: Normal) -> pm.Model:
    n, k = _arm_totals(arm, y)
    with pm.Model(coords={"arm": list(ARMS)}) as model:
        control = pm.Beta("reactivated_control", 1.0, 1.0)
        logit_rho = pm.Normal("logit_effect", *prior)
        rho = pm.math.sigmoid(logit_rho)
        # The action reactivates a share ρ of those who would not have come back anyway.
        p = pm.Deterministic("p_reactivated", pm.math.stack(
            [control, control + rho * (1.0 - control)]), dims="arm")
        customers = pm.Data("customers", n, dims="arm")
        pm.Binomial("reactivated", n=customers, p=p, observed=k.astype(np.int64), dims="arm")
        pm.Deterministic("effect", rho)
    return model


MODELS: dict[str, Callable[..., pm.Model]] = {
    "purchase_rate": _purchase_model,
    "dropout_rate": _dropout_model,
    "spend": _spend_model,
    "reactivation": _reactivation_model,
}


def _arm_totals(arm: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(customers, Σ values) per arm, control first."""
    n = np.array([np.sum(arm == a) for a in (0, 1)], dtype=np.int64)
    return n, np.array([values[arm == a].sum() for a in (0, 1)], dtype=np.float64)


# --- prior, sampler, data -------------------------------------------------------------------


def effect_prior(action: Action, process: str) -> Effect:
    """The action's effect on a process as a prior to learn from (or the wide default)."""
    current = {e.process: e for e in action.effects}.get(process)
    if current is None:
        return Effect(process, *DEFAULT_PRIORS[process], source="default prior")
    if current.low == current.high:
        raise SpecError(
            f"action {action.name!r} states its {process} effect as a known value "
            f"({current.low}); there is nothing to learn: give it a 90 % range [low, high]"
        )
    return current


def _prior_moments(prior: Effect) -> tuple[float, float, float]:
    """Mean and 90 % interval of the effect under the normal prior the model used."""
    mean, sd = prior.normal()
    nodes, weights = np.polynomial.hermite_e.hermegauss(64)
    z = mean + sd * nodes
    back = special.expit if prior.is_probability else np.expm1
    expected = float(np.sum(weights * back(z)) / np.sum(weights))
    return expected, float(back(mean - Z_90 * sd)), float(back(mean + Z_90 * sd))


def _sampler(**settings: int) -> SamplerSpec:
    minimum = {"draws": 1, "tune": 0, "chains": 1, "seed": 0}
    for name, value in settings.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or (
                value < minimum[name]):
            raise SpecError(f"{name} must be a whole number >= {minimum[name]}, got {value!r}")
    # PyMC's NUTS, not nutpie: these models have 2-3 parameters and likelihoods on
    # sufficient statistics, so compiling dominates. Measured on 2 cores, 3,000 customers,
    # 2 chains × (1000 + 1000) steps: PyMC 1.0 s (reactivation) and 2.3 s (purchase rate with
    # per-customer exposure); nutpie 3.0 s and 6.2 s, most of it compiling.
    return SamplerSpec(chains=int(settings["chains"]), tune=int(settings["tune"]),
                       draws=int(settings["draws"]), seed=int(settings["seed"]),
                       backend="pymc")


@contextmanager
def quiet_pymc(enabled: bool) -> Iterator[None]:
    """Silence PyMC's informational log lines ("Initializing NUTS…") for a quiet fit."""
    logger = logging.getLogger("pymc")
    level = logger.level
    if enabled:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _validated(experiment: pd.DataFrame, process: str, treated: str, outcome: str,
               exposure: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(arm 0/1, outcome, exposure) as arrays, or a DataError naming column, row and value."""
    if not isinstance(experiment, pd.DataFrame):
        raise DataError(f"experiment must be a pandas DataFrame with one row per customer, "
                        f"got {type(experiment).__name__}")
    roles = {"treated": treated, "outcome": outcome, "exposure": exposure}
    for role, column in roles.items():
        if column is not None and column not in experiment.columns:
            names = [str(c) for c in experiment.columns]
            close = difflib.get_close_matches(str(column), names, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise DataError(f"{role} column {column!r} is not in the experiment{hint} "
                            f"(columns: {', '.join(map(repr, names))})")

    arm = _numeric(experiment, treated)
    _refuse(experiment, treated, ~np.isin(arm, (0.0, 1.0)), "is not 0/1 or True/False",
            "mark treated customers 1 (True) and control customers 0 (False)")
    for label, code in (("treated", 1.0), ("control", 0.0)):
        if not np.any(arm == code):
            raise DataError(f"column {treated!r} has no {label} customers: an experiment needs "
                            "both treated and control customers")

    y = _numeric(experiment, outcome)
    if process == "purchase_rate":
        _refuse(experiment, outcome, y < 0, "is negative", "purchase counts must be >= 0")
        _refuse(experiment, outcome, y != np.round(y), "is not a whole number",
                "give each customer's number of purchases")
    elif process == "spend":
        _refuse(experiment, outcome, y <= 0, "is not positive",
                "spend per purchase must be > 0; leave out customers without purchases")
    else:
        _refuse(experiment, outcome, ~np.isin(y, (0.0, 1.0)), "is not 0/1 or True/False",
                f"{outcome!r} must say whether each customer {_process_verb(process)}")

    length = np.ones(len(experiment))
    if exposure is not None:
        length = _numeric(experiment, exposure)
        _refuse(experiment, exposure, length <= 0, "is not positive",
                "exposure is each customer's follow-up length, > 0")
    return arm.astype(np.int64), y, length


def _process_verb(process: str) -> str:
    """What a 1 means in a binary outcome column."""
    return "was retained" if process == "dropout_rate" else "was reactivated"


def _numeric(experiment: pd.DataFrame, column: str) -> np.ndarray:
    raw = experiment[column]
    _refuse(experiment, column, raw.isna().to_numpy(), "is missing", "drop or fill the row")
    if pd.api.types.is_bool_dtype(raw):
        return raw.to_numpy(dtype=np.float64)
    coerced = pd.to_numeric(raw, errors="coerce")
    _refuse(experiment, column, coerced.isna().to_numpy(), "is not a number")
    values = coerced.to_numpy(dtype=np.float64)
    _refuse(experiment, column, ~np.isfinite(values), "is not a finite number")
    return values


def _refuse(experiment: pd.DataFrame, column: str, bad: np.ndarray, problem: str,
            advice: str = "") -> None:
    """Raise a DataError naming the column, the first bad row (index label) and its value."""
    bad = np.asarray(bad, dtype=bool)
    if not bad.any():
        return
    first = int(np.flatnonzero(bad)[0])
    value = experiment[column].iloc[first]
    if isinstance(value, np.generic):
        value = value.item()
    others = int(bad.sum()) - 1
    more = f" (and {others} more row(s))" if others else ""
    raise DataError(
        f"column {column!r}: the value {value!r} at row {experiment.index[first]!r} "
        f"{problem}{more}" + (f"; {advice}" if advice else "")
    )


def _groups(arm: np.ndarray, y: np.ndarray, exposure: np.ndarray) -> pd.DataFrame:
    """Customers and mean outcome per arm (a rate per exposure unit for counts)."""
    rows = {name: {"customers": int(np.sum(arm == code)),
                   "mean": float(y[arm == code].sum() / exposure[arm == code].sum())}
            for code, name in enumerate(ARMS)}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("arm")
