"""The hierarchical purchase-frequency and dropout models, built in one place.

Three families share one builder; each differs only in its parameterisation and likelihood:

* **Pareto/NBD** (Schmittlein, Morrison & Colombo 1987): while alive a customer buys at
  Poisson rate λ ~ Gamma(r, α); lifetimes are exponential with rate μ ~ Gamma(s, β).
  Sampled on (log r, log r/α, log s, log s/β).
* **BG/NBD** (Fader, Hardie & Lee 2005): λ ~ Gamma(r, α); after each repeat purchase the
  customer drops out with probability p ~ Beta(a, b). Sampled on
  (log r, log r/α, logit a/(a+b), log(a+b)).
* **MBG/NBD** (Batislam, Denizel & Filiztekin 2007): as BG/NBD, with one more dropout
  chance right after the first purchase. Sampled on the BG/NBD's coordinates.

(r, α), (s, β) and (a, b) are strongly correlated in the posterior, their means (r/α, s/β,
a/(a+b)) much less: sampling on means and shapes roughly halves the leapfrog steps per draw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayesclv.data import CustomerSummary
from bayesclv.distinct import distinct
from bayesclv.maths import families
from bayesclv.maths.families import Family
from bayesclv.models.covariates import CovariateTerms
from bayesclv.models.hierarchy import (
    Centring,
    check_prior_names,
    segment_parameters,
)
from bayesclv.models.paretonbd_op import pareto_nbd_timing
from bayesclv.models.priors import default_prior
from bayesclv.spec import PriorSpec

Tensors = dict[str, pt.TensorVariable]


@dataclass(frozen=True)
class FrequencyFamily:
    """One frequency/dropout family as a model: its sampled parameters over its formulas.

    Attributes
    ----------
    maths
        The family's formulas (:mod:`bayesclv.maths.families`): natural parameter names,
        log-likelihood and its count and timing parts, P(alive), expectations.
    unconstrained
        Names of the sampled, pooled parameters (what priors in a spec refer to).
    to_natural
        Maps the unconstrained tensors to the natural ones.
    fused_timing
        Optional: the weighted sum of ``timing_loglik`` over rows as one Op with its own
        gradient, ``f(*natural per segment, segment, x, t_x, T, weight)`` returning the
        total first; the model uses it instead of the graph of ``timing_loglik``.
    """

    maths: Family
    unconstrained: tuple[str, ...]
    to_natural: Callable[[Tensors], Tensors]
    fused_timing: Callable[..., list[pt.TensorVariable]] | None = None

    @property
    def name(self) -> str:
        """``"pareto_nbd"``, ``"bg_nbd"`` or ``"mbg_nbd"``."""
        return self.maths.name

    @property
    def natural(self) -> tuple[str, ...]:
        """The paper's parameter names, stored per segment in the posterior."""
        return self.maths.natural

    @property
    def loglik(self) -> Callable[..., pt.TensorVariable]:
        """Per-row log-likelihood ``f(*natural, x, t_x, T)``."""
        return self.maths.loglik

    @property
    def count_loglik(self) -> Callable[..., pt.TensorVariable]:
        """The part of the log-likelihood that depends on the history only through x."""
        return self.maths.count_loglik

    @property
    def timing_loglik(self) -> Callable[..., pt.TensorVariable]:
        """The rest of the log-likelihood, ``f(*natural, x, t_x, T)``."""
        return self.maths.timing_loglik


def _pareto_nbd_natural(u: Tensors) -> Tensors:
    return {
        "r": pt.exp(u["log_r"]),
        "alpha": pt.exp(u["log_r"] - u["log_rate"]),
        "s": pt.exp(u["log_s"]),
        "beta": pt.exp(u["log_s"] - u["log_dropout"]),
    }


def _beta_dropout_natural(u: Tensors) -> Tensors:
    """(r, α, a, b) of BG/NBD and MBG/NBD from log r, log r/α, logit a/(a+b), log(a+b)."""
    kappa = pt.exp(u["log_kappa"])
    mean_p = pt.sigmoid(u["logit_p"])
    return {
        "r": pt.exp(u["log_r"]),
        "alpha": pt.exp(u["log_r"] - u["log_rate"]),
        "a": mean_p * kappa,
        "b": (1.0 - mean_p) * kappa,
    }


PARETO_NBD = FrequencyFamily(
    maths=families.PARETO_NBD,
    unconstrained=("log_r", "log_rate", "log_s", "log_dropout"),
    to_natural=_pareto_nbd_natural,
    fused_timing=pareto_nbd_timing,
)
BG_NBD = FrequencyFamily(
    maths=families.BG_NBD,
    unconstrained=("log_r", "log_rate", "logit_p", "log_kappa"),
    to_natural=_beta_dropout_natural,
)
MBG_NBD = FrequencyFamily(
    maths=families.MBG_NBD,
    unconstrained=("log_r", "log_rate", "logit_p", "log_kappa"),
    to_natural=_beta_dropout_natural,
)
FAMILIES: dict[str, FrequencyFamily] = {f.name: f for f in (PARETO_NBD, BG_NBD, MBG_NBD)}


def build_frequency_model(
    family: FrequencyFamily,
    summary: CustomerSummary,
    priors: PriorSpec,
    *,
    centring: Centring | None = None,
    pooled: bool = True,
    covariates: CovariateTerms | None = None,
) -> pm.Model:
    """The PyMC model of a frequency/dropout family with parameters per segment.

    Parameters
    ----------
    family
        :data:`PARETO_NBD`, :data:`BG_NBD` or :data:`MBG_NBD`.
    summary
        Customer summaries; the likelihood runs over its compressed unique
        (segment, x, t_x, T) rows, weighted by their counts, with the special functions
        (the family's ``count_loglik``) over the distinct (segment, x) pairs only.
    priors
        Overrides of the default priors (names in ``family.unconstrained``) and tau's scale.
    centring
        λ per unconstrained parameter and segment (:mod:`bayesclv.models.hierarchy`);
        None samples every segment non-centred.
    pooled
        False fits every segment on its own with the population prior (the pilot model of
        :func:`bayesclv.models.centring.choose_centring`).
    covariates
        Covariates acting on the purchase and dropout processes
        (:mod:`bayesclv.models.covariates`), or None. Left out when ``pooled`` is False.

    Returns
    -------
    pm.Model
        Deterministics ``family.natural`` with dim ``segment`` (rates per time unit of the
        summary; with covariates, those of the baseline customer), the coefficients
        ``purchase_coef``/``dropout_coef`` (dims ``purchase_term``/``dropout_term``) where
        covariates act, and a potential ``loglik``.
    """
    check_prior_names(priors, family.unconstrained, "priors")
    defaults = {name: default_prior(name, summary.time_unit) for name in family.unconstrained}
    n_segments = len(summary.segments)
    if not pooled:
        covariates = None  # the pilot's segments must not share a parameter
    processes = ("purchase", "dropout")
    coords = {"segment": list(summary.segments)}
    if covariates is not None:
        coords |= covariates.coords(processes)
    with pm.Model(coords=coords) as model:
        u = segment_parameters(defaults, priors, n_segments, centring, pooled=pooled)
        natural = {
            name: pm.Deterministic(name, value, dims="segment")
            for name, value in family.to_natural(u).items()
        }
        if covariates is None or not covariates.processes(processes):
            pm.Potential("loglik", frequency_loglik(family, summary, natural))
        else:
            cells = covariates.cells(summary, summary.segment_codes, processes)
            per_cell = family.maths.covariate_parameters(
                [natural[name][cells.segment] for name in family.natural],
                covariates.shift("purchase", cells), covariates.shift("dropout", cells))
            pm.Potential("loglik", frequency_loglik(
                family, summary, dict(zip(family.natural, per_cell, strict=True)),
                groups=cells.of_customer))
    return model


def frequency_loglik(
    family: FrequencyFamily, summary: CustomerSummary, natural: Tensors, *,
    groups: np.ndarray | None = None,
) -> pt.TensorVariable:
    """The family's log-likelihood summed over the compressed rows, as a scalar tensor.

    Parameters
    ----------
    family
        The family.
    summary
        The customers.
    natural
        The family's parameters, one value per segment (or per group).
    groups
        Each customer's index into ``natural``'s values (covariate cells); default: the
        segment codes.
    """
    if groups is None:
        rows = summary.compress().rows
        seg = rows["segment"].to_numpy(np.int64)
        x = rows["x"].to_numpy(np.float64)
        counts = rows["count"].to_numpy(np.float64)
        t_x, T = rows["t_x"].to_numpy(np.float64), rows["T"].to_numpy(np.float64)
    else:
        frame = summary.frame
        keys = distinct(groups, frame["x"], frame["t_x"], frame["T"])
        seg = keys.codes(0)
        x, t_x, T = keys.columns[1:]
        counts = keys.counts.astype(np.float64)
    # the special functions depend on the history only through x: evaluate them once
    # per distinct (segment, x), weighted by its number of customers
    keys = distinct(seg, x)
    key_seg = keys.codes(0)
    count_part = family.count_loglik(
        *(natural[name][key_seg] for name in family.natural), keys.columns[1]
    )
    if family.fused_timing is not None:
        params = (natural[name] for name in family.natural)
        timing = family.fused_timing(*params, seg, x, t_x, T, counts)[0]
    else:
        # one segment: scalar parameters broadcast, with no gather (and no scatter in the
        # gradient) over the rows
        per_row = 0 if len(summary.segments) == 1 and groups is None else seg
        timing = pt.dot(counts, family.timing_loglik(
            *(natural[name][per_row] for name in family.natural), x, t_x, T
        ))
    customers_per_key = np.bincount(keys.inverse, weights=counts, minlength=len(keys))
    return pt.dot(customers_per_key, count_part) + timing
