"""The hierarchical Gamma-Gamma spend model (Fader, Hardie & Lee 2005, JMR), built in one place.

A customer's transaction values are Gamma(p, ν) with ν ~ Gamma(q, γ) across customers. The
model is fitted on customers with at least one repeat purchase of positive amount, through
the likelihood of their mean repeat spend.

Sampled and pooled on (log p, log q, log pγ/q). pγ/q = p/E[ν] is the mean spend per
transaction of a customer with the average ν: in currency units, sharply identified, and
the quantity an analyst expects segments to differ in. The mean of ν itself (q/γ) is not a
good coordinate: a segment's mean spend pins only p/ν, so log p and log(q/γ) move together
(posterior correlation ≈ 0.99 on CDNOW) and NUTS needs 4× the leapfrog steps.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from bayesclv.data import CustomerSummary
from bayesclv.distinct import distinct
from bayesclv.errors import DataError
from bayesclv.maths.gammagamma import gammagamma_count_loglik, gammagamma_spend_loglik
from bayesclv.models.covariates import CovariateTerms
from bayesclv.models.hierarchy import (
    Centring,
    check_prior_names,
    segment_parameters,
)
from bayesclv.models.priors import default_prior
from bayesclv.spec import NormalPrior, PriorSpec

UNCONSTRAINED = ("log_p", "log_q", "log_spend")
NATURAL = ("p", "q", "gamma")


def spend_scale_prior(summary: CustomerSummary) -> NormalPrior:
    """Default prior of log(pγ/q): centred at log(median mean spend), sd 2.

    pγ/q is the mean spend per transaction of a customer with the average ν, so the median
    of the customers' mean repeat spend is its natural centre; sd 2 on the log scale leaves
    a factor of ~50 either way, enough for any currency unit.
    """
    spenders = summary.frame.loc[summary.frame["n_spend"] > 0, "mean_spend"]
    return NormalPrior(mu=math.log(float(spenders.median())), sigma=2.0)


def build_gamma_gamma(
    summary: CustomerSummary,
    priors: PriorSpec,
    *,
    centring: Centring | None = None,
    pooled: bool = True,
    covariates: CovariateTerms | None = None,
) -> pm.Model:
    """The PyMC model of Gamma-Gamma spend with parameters per segment.

    Parameters
    ----------
    summary
        Customer summaries; customers with ``n_spend > 0`` enter the likelihood.
    priors
        Overrides of the default priors (``log_p``, ``log_q``, ``log_spend``) and tau's
        scale.
    centring
        λ per unconstrained parameter and segment (:mod:`bayesclv.models.hierarchy`);
        None samples every segment non-centred.
    pooled
        False fits every segment on its own with the population prior (the pilot model of
        :func:`bayesclv.models.centring.choose_centring`).
    covariates
        Covariates acting on the mean spend (:mod:`bayesclv.models.covariates`), or None.
        Left out when ``pooled`` is False.

    Returns
    -------
    pm.Model
        Deterministics ``p, q, gamma`` with dim ``segment`` (γ in currency units; with
        covariates, the baseline customer's), the coefficients ``spend_coef`` (dim
        ``spend_term``) where covariates act on spend, and a potential ``loglik``.

    Raises
    ------
    DataError
        If no customer has a repeat purchase with positive amount.
    """
    check_prior_names(priors, UNCONSTRAINED, "spend_priors")
    frame = summary.frame
    spenders = frame[frame["n_spend"] > 0]
    if spenders.empty:
        raise DataError(
            "no customer has a repeat purchase with a positive amount: the spend model "
            "(Gamma-Gamma) has nothing to fit; set model.spend = false, and value.per_purchase "
            "(the revenue of one purchase) for CLV in money"
        )
    defaults = {
        "log_p": default_prior("log_p"),
        "log_q": default_prior("log_q"),
        "log_spend": spend_scale_prior(summary),
    }
    n_segments = len(summary.segments)
    if not pooled:
        covariates = None  # the pilot's segments must not share a parameter
    active = () if covariates is None else covariates.processes(("spend",))
    coords = {"segment": list(summary.segments)}
    if active:
        coords |= covariates.coords(active)
    with pm.Model(coords=coords) as model:
        u = segment_parameters(defaults, priors, n_segments, centring, pooled=pooled)
        p = pm.Deterministic("p", pt.exp(u["log_p"]), dims="segment")
        q = pm.Deterministic("q", pt.exp(u["log_q"]), dims="segment")
        gamma = pm.Deterministic(
            "gamma", pt.exp(u["log_spend"] + u["log_q"] - u["log_p"]), dims="segment"
        )
        if not active:
            pm.Potential("loglik", spend_loglik(spenders, p, q, gamma))
        else:
            is_spender = (frame["n_spend"] > 0).to_numpy()
            cells = covariates.cells(summary, summary.segment_codes, active)
            groups = cells.of_customer[is_spender]
            g = cells.segment
            scaled = gamma[g] * pt.exp(covariates.shift("spend", cells))
            pm.Potential("loglik", spend_loglik(spenders, p[g], q[g], scaled, groups=groups))
    return model


def spend_loglik(spenders: pd.DataFrame, p: pt.TensorVariable, q: pt.TensorVariable,
                 gamma: pt.TensorVariable, *, groups: np.ndarray | None = None
                 ) -> pt.TensorVariable:
    """The Gamma-Gamma log-likelihood summed over spenders, as a scalar tensor.

    Its special functions depend on a customer only through n: they are evaluated once per
    distinct (segment, n), weighted by its number of customers; per customer only one
    log1p remains. ``groups`` gives each spender's index into the parameters (covariate
    cells; default: the segment codes).
    """
    seg = (spenders["segment"].cat.codes.to_numpy(np.int64) if groups is None
           else np.asarray(groups, dtype=np.int64))
    n = spenders["n_spend"].to_numpy(np.float64)
    keys = distinct(seg, n)
    key_seg = keys.codes(0)
    count_part = gammagamma_count_loglik(p[key_seg], q[key_seg], keys.columns[1])
    spend_part = gammagamma_spend_loglik(
        p[seg], q[seg], gamma[seg], n, spenders["mean_spend"].to_numpy(np.float64))
    return pt.dot(keys.counts.astype(np.float64), count_part) + pt.sum(spend_part)
