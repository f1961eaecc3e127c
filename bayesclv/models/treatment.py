"""The hierarchical Pareto/NBD with a treatment: what an action did to purchasing and dropout.

An experiment's customers are fitted on their whole history. Control customers and
customers outside the experiment follow the Pareto/NBD of :mod:`bayesclv.models.frequency`
(same parameters, priors and pooling, same fused likelihood). A treated customer's
purchase rate is multiplied by f_λ and dropout rate by f_μ from the day the action reached
them (:func:`bayesclv.maths.paretonbd_treated_timing_loglik`): the history before pins the
customer's own rates down, the history after identifies the factors. log f_λ and log f_μ
are pooled across segments like every other parameter, with the action's prior as the
population prior.

BG/NBD is not offered: its dropout happens at purchase occasions with a probability p per
purchase, so "p changed from τ on" leaves the Beta mixing of p over the purchases after τ
without a closed form in (a, b) for x_post > 0 — see ``docs/experiments.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayesclv.data import CustomerSummary
from bayesclv.distinct import distinct
from bayesclv.maths.paretonbd_treatment import paretonbd_treated_timing_loglik
from bayesclv.models.frequency import PARETO_NBD, frequency_loglik
from bayesclv.models.hierarchy import check_prior_names, pooled_parameter, segment_parameters
from bayesclv.models.priors import default_prior
from bayesclv.spec import NormalPrior, PriorSpec

__all__ = ["EFFECT_PARAMETERS", "TreatedHistories", "build_treatment_model"]

EFFECT_PARAMETERS: dict[str, str] = {
    "purchase_rate": "log_f_purchase",
    "dropout_rate": "log_f_dropout",
}
"""Process → name of the sampled log-factor (per segment, pooled as ``{name}_pop`` etc.)."""


@dataclass(frozen=True)
class TreatedHistories:
    """Customers' histories with the day an action reached the treated ones.

    Attributes
    ----------
    summary
        Every customer's (x, t_x, T) over the whole observation, and segment.
    treated
        One bool per customer of ``summary``, in its order.
    tau
        Time from each treated customer's first purchase to the start of the day the action
        reached them, in the summary's time unit, in [0, T]; NaN for the others.
    x_post
        Repeat purchases of each treated customer at or after τ (0 for the others).
    """

    summary: CustomerSummary
    treated: np.ndarray
    tau: np.ndarray
    x_post: np.ndarray

    def __post_init__(self) -> None:
        n = self.summary.n_customers
        for name in ("treated", "tau", "x_post"):
            if np.shape(getattr(self, name)) != (n,):
                raise ValueError(f"{name} must have one value per customer ({n})")
        treated = np.asarray(self.treated, dtype=bool)
        frame = self.summary.frame
        tau, x_post = np.asarray(self.tau, float)[treated], np.asarray(self.x_post)[treated]
        x, t_x, T = (frame[c].to_numpy(float)[treated] for c in ("x", "t_x", "T"))
        if not (np.all((tau >= 0) & (tau <= T)) and np.all((x_post >= 0) & (x_post <= x))
                and np.all((x_post == 0) | (tau <= t_x))):
            raise ValueError("treated histories need 0 <= tau <= T, 0 <= x_post <= x, and "
                             "tau <= t_x when x_post > 0")


def build_treatment_model(histories: TreatedHistories, priors: PriorSpec,
                          effect_priors: dict[str, NormalPrior], *,
                          effect_tau_sigma: float = 0.2) -> pm.Model:
    """The PyMC model of a Pareto/NBD experiment: segment parameters and treatment factors.

    Parameters
    ----------
    histories
        The customers, who was treated and when.
    priors
        The Pareto/NBD priors (names of ``PARETO_NBD.unconstrained``) and tau's scale.
    effect_priors
        Population prior of log f for ``"purchase_rate"`` and ``"dropout_rate"``.
    effect_tau_sigma
        Scale of the half-normal prior on the between-segment spread of log f (unused with
        one segment): 0.2 lets segments' factors differ by ~±20 %.

    Returns
    -------
    pm.Model
        Deterministics ``r, alpha, s, beta`` and ``log_f_purchase, log_f_dropout`` with dim
        ``segment``, and a potential ``loglik``.
    """
    family = PARETO_NBD
    check_prior_names(priors, family.unconstrained, "priors")
    summary = histories.summary
    defaults = {name: default_prior(name, summary.time_unit) for name in family.unconstrained}
    n_segments = len(summary.segments)
    treated = np.asarray(histories.treated, dtype=bool)
    with pm.Model(coords={"segment": list(summary.segments)}) as model:
        u = segment_parameters(defaults, priors, n_segments)
        natural = {name: pm.Deterministic(name, value, dims="segment")
                   for name, value in family.to_natural(u).items()}
        log_f = {process: pooled_parameter(name, effect_priors[process], effect_tau_sigma,
                                           n_segments)
                 for process, name in EFFECT_PARAMETERS.items()}
        total = _treated_loglik(histories, natural, log_f)
        if not treated.all():
            total = total + frequency_loglik(family, summary.subset(~treated), natural)
        pm.Potential("loglik", total)
    return model


def _treated_loglik(histories: TreatedHistories, natural: dict[str, pt.TensorVariable],
                    log_f: dict[str, pt.TensorVariable]) -> pt.TensorVariable:
    """Σ over treated customers, once per distinct (segment, x, x_post, t_x, T, τ)."""
    treated = np.asarray(histories.treated, dtype=bool)
    frame = histories.summary.frame
    keys = distinct(histories.summary.segment_codes[treated], frame["x"].to_numpy()[treated],
                    np.asarray(histories.x_post)[treated], frame["t_x"].to_numpy()[treated],
                    frame["T"].to_numpy()[treated], np.asarray(histories.tau)[treated])
    seg = keys.codes(0)
    x, x_post, t_x, T, tau = keys.columns[1:]
    r, alpha, s, beta = (natural[name][seg] for name in PARETO_NBD.natural)
    per_row = (PARETO_NBD.count_loglik(r, alpha, s, beta, x)
               + paretonbd_treated_timing_loglik(
                   r, alpha, s, beta, log_f["purchase_rate"][seg], log_f["dropout_rate"][seg],
                   x, x_post, t_x, T, tau))
    return pt.dot(keys.counts.astype(np.float64), per_row)
