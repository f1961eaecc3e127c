"""The hierarchical Pareto/NBD with a treatment: what an action did to purchasing and dropout.

An experiment's customers are fitted on their whole history. Control customers and
customers outside the experiment follow the Pareto/NBD of :mod:`bayesclv.models.frequency`
(same parameters, priors and pooling, same fused likelihood). A treated customer's
purchase rate is multiplied by f_λ and dropout rate by f_μ from the day the action reached
them (:func:`bayesclv.maths.paretonbd_treated_timing_loglik`, summed by a fused Op of
:mod:`bayesclv.models.paretonbd_op` on the same row kernel): the history before pins the
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
from bayesclv.errors import DataError
from bayesclv.maths.gammagamma import gammagamma_treated_loglik
from bayesclv.models.frequency import PARETO_NBD, frequency_loglik
from bayesclv.models.hierarchy import check_prior_names, pooled_parameter, segment_parameters
from bayesclv.models.paretonbd_op import pareto_nbd_treated_timing
from bayesclv.models.priors import default_prior
from bayesclv.models.spend import UNCONSTRAINED as SPEND_PARAMETERS
from bayesclv.models.spend import spend_loglik, spend_scale_prior
from bayesclv.spec import NormalPrior, PriorSpec

__all__ = ["EFFECT_PARAMETERS", "SPEND_EFFECT", "TreatedHistories", "build_spend_treatment_model",
           "build_treatment_model"]

EFFECT_PARAMETERS: dict[str, str] = {
    "purchase_rate": "log_f_purchase",
    "dropout_rate": "log_f_dropout",
}
"""Process → name of the sampled log-factor (per segment, pooled as ``{name}_pop`` etc.)."""
SPEND_EFFECT = "log_f_spend"
"""Name of the sampled log-factor of the mean spend per purchase in the spend model."""


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
    n_spend_post, spend_post
        Of each treated customer's ``n_spend`` repeat purchases with a positive amount, how
        many were at or after τ and their total (currency); 0 for the others. None when
        the spend is not modelled.
    """

    summary: CustomerSummary
    treated: np.ndarray
    tau: np.ndarray
    x_post: np.ndarray
    n_spend_post: np.ndarray | None = None
    spend_post: np.ndarray | None = None

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
        if (self.n_spend_post is None) != (self.spend_post is None):
            raise ValueError("give both n_spend_post and spend_post, or neither")
        if self.n_spend_post is not None:
            n_all = frame["n_spend"].to_numpy()
            n_post, total = np.asarray(self.n_spend_post), np.asarray(self.spend_post)
            if not (np.all((n_post >= 0) & (n_post <= n_all)) and np.all(
                    (total > 0) == (n_post > 0)) and np.all(n_post[~treated] == 0)):
                raise ValueError("n_spend_post must be in [0, n_spend] (0 for the untreated), "
                                 "with spend_post > 0 exactly where it is positive")


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
    """Σ over treated customers, once per distinct (segment, x, x_post, t_x, T, τ).

    The count part is evaluated once per distinct (segment, x); the timing part goes
    through the fused Op of :func:`bayesclv.models.paretonbd_op.pareto_nbd_treated_timing`.
    """
    treated = np.asarray(histories.treated, dtype=bool)
    frame = histories.summary.frame
    keys = distinct(histories.summary.segment_codes[treated], frame["x"].to_numpy()[treated],
                    np.asarray(histories.x_post)[treated], frame["t_x"].to_numpy()[treated],
                    frame["T"].to_numpy()[treated], np.asarray(histories.tau)[treated])
    seg = keys.codes(0)
    x, x_post, t_x, T, tau = keys.columns[1:]
    counts = keys.counts.astype(np.float64)
    params = [natural[name] for name in PARETO_NBD.natural]
    by_x = distinct(seg, x)
    count_part = PARETO_NBD.count_loglik(*(p[by_x.codes(0)] for p in params), by_x.columns[1])
    customers_per_x = np.bincount(by_x.inverse, weights=counts, minlength=len(by_x))
    timing = pareto_nbd_treated_timing(*params, log_f["purchase_rate"], log_f["dropout_rate"],
                                       seg, x, x_post, t_x, T, tau, counts)[0]
    return pt.dot(customers_per_x, count_part) + timing


def build_spend_treatment_model(histories: TreatedHistories, priors: PriorSpec,
                                effect_prior: NormalPrior, *,
                                effect_tau_sigma: float = 0.2) -> pm.Model:
    """The Gamma-Gamma spend model with a factor f_z on the mean spend per purchase after τ.

    Untreated customers with a repeat purchase of positive amount enter through the
    Gamma-Gamma likelihood of their mean spend (:mod:`bayesclv.models.spend`); a treated
    customer through the joint density of the sums before and after τ
    (:func:`bayesclv.maths.gammagamma.gammagamma_treated_loglik`). The spend model shares
    no parameter with the frequency model, so it is fitted apart: the pair is exact.

    Parameters
    ----------
    histories
        With ``n_spend_post`` and ``spend_post``.
    priors
        The spend priors (``log_p``, ``log_q``, ``log_spend``) and tau's scale.
    effect_prior
        Population prior of log f_z.
    effect_tau_sigma
        Scale of the half-normal prior on the between-segment spread of log f_z.

    Returns
    -------
    pm.Model
        Deterministics ``p, q, gamma`` and ``log_f_spend`` with dim ``segment``, and a
        potential ``loglik``.

    Raises
    ------
    DataError
        No treated customer bought with a positive amount after the action.
    """
    if histories.n_spend_post is None:
        raise ValueError("the histories carry no spend after the action")
    check_prior_names(priors, SPEND_PARAMETERS, "spend_priors")
    summary = histories.summary
    frame = summary.frame
    treated = np.asarray(histories.treated, dtype=bool)
    n_post = np.asarray(histories.n_spend_post, dtype=float)
    if not np.any(n_post > 0):
        raise DataError("no treated customer bought with a positive amount after the action: "
                        "there is no spend effect to learn (leave the spend out)")
    defaults = {"log_p": default_prior("log_p"), "log_q": default_prior("log_q"),
                "log_spend": spend_scale_prior(summary)}
    n_all = frame["n_spend"].to_numpy(float)
    total_all = np.where(n_all > 0, n_all * frame["mean_spend"].fillna(0.0).to_numpy(float), 0.0)
    mine = treated & (n_all > 0)
    others = ~treated & (n_all > 0)
    seg = summary.segment_codes[mine]
    n_pre = (n_all - n_post)[mine]
    total_post = np.asarray(histories.spend_post, dtype=float)[mine]
    total_pre = np.where(n_pre > 0, total_all[mine] - total_post, 0.0)
    with pm.Model(coords={"segment": list(summary.segments)}) as model:
        u = segment_parameters(defaults, priors, len(summary.segments))
        p = pm.Deterministic("p", pt.exp(u["log_p"]), dims="segment")
        q = pm.Deterministic("q", pt.exp(u["log_q"]), dims="segment")
        gamma = pm.Deterministic("gamma", pt.exp(u["log_spend"] + u["log_q"] - u["log_p"]),
                                 dims="segment")
        log_f = pooled_parameter(SPEND_EFFECT, effect_prior, effect_tau_sigma,
                                 len(summary.segments))
        total = pt.sum(gammagamma_treated_loglik(p[seg], q[seg], gamma[seg], log_f[seg], n_pre,
                                                 total_pre, n_post[mine], total_post))
        if others.any():
            total = total + spend_loglik(frame[others], p, q, gamma)
        pm.Potential("loglik", total)
    return model
