"""Segment-level parameters partially pooled toward a population level.

Every model family is written on an unconstrained scale (logs and logits of its natural
parameters). For each unconstrained parameter θ and segment g::

    θ_g = m + τ · z_g,   m ~ Normal(mu, sigma),   τ ~ HalfNormal(tau_sigma),   z_g ~ Normal(0, 1)

(non-centred: the sampler sees m, τ and z, which keeps the geometry benign when τ → 0).
With a single segment there is nothing to pool: θ is m alone and the model is the classic
one with that prior.
"""

from __future__ import annotations

import pymc as pm
import pytensor.tensor as pt

from bayesclv.errors import SpecError
from bayesclv.spec import NormalPrior, PriorSpec


def pooled_parameter(
    name: str, default: NormalPrior, priors: PriorSpec, n_segments: int
) -> pt.TensorVariable:
    """Declare an unconstrained parameter with one value per segment in the current model.

    Parameters
    ----------
    name
        Name of the unconstrained parameter (e.g. ``"log_r"``); the population location is
        ``{name}_pop``, the between-segment scale ``{name}_tau``, the offsets ``{name}_z``.
    default
        Prior of the population location when ``priors`` does not override it.
    priors
        The family's prior settings from the spec.
    n_segments
        Number of segments (the model must have a ``segment`` coordinate of this length).

    Returns
    -------
    TensorVariable
        A deterministic ``name`` with dim ``segment``.
    """
    prior = priors.location.get(name, default)
    location = pm.Normal(f"{name}_pop", mu=prior.mu, sigma=prior.sigma)
    if n_segments == 1:
        return pm.Deterministic(name, pt.stack([location]), dims="segment")
    scale = pm.HalfNormal(f"{name}_tau", sigma=priors.tau_sigma)
    offset = pm.Normal(f"{name}_z", mu=0.0, sigma=1.0, dims="segment")
    return pm.Deterministic(name, location + scale * offset, dims="segment")


def check_prior_names(priors: PriorSpec, allowed: tuple[str, ...], section: str) -> None:
    """Raise a SpecError when the spec sets a prior the family does not have."""
    for key in priors.location:
        if key not in allowed:
            raise SpecError(
                f"unknown prior '{section}.{key}' for this family; "
                f"its parameters are {', '.join(allowed)}"
            )
