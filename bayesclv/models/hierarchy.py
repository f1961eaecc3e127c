"""Segment-level parameters partially pooled toward a population level.

Every model family is written on an unconstrained scale (logs and logits of its natural
parameters). For each unconstrained parameter θ and segment g the model is::

    θ_g ~ Normal(m, τ),   m ~ Normal(mu, sigma),   τ ~ HalfNormal(tau_sigma)

What the sampler sees is a choice of coordinates, not of model. Segment g's θ_g is sampled
through a *partially centred* variable (Gorinova, Moore & Hoffman 2020)::

    θ̃_g ~ Normal(λ_g m, τ^λ_g),   θ_g = m + τ^(1−λ_g) (θ̃_g − λ_g m)

λ_g = 0 is the non-centred form (θ̃ = z, a standard normal offset): right when the data say
little about θ_g and τ may be near 0 (a funnel otherwise). λ_g = 1 is the centred form
(θ̃ = θ): right when the data pin θ_g down, where the non-centred form couples m, τ and
every offset. Large and small segments, informative and vague parameters all sit in one
model, so λ is chosen per parameter *and* segment by :mod:`bayesclv.models.centring`.
With a single segment there is nothing to pool: θ is m alone, the classic model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayesclv.errors import SpecError
from bayesclv.spec import NormalPrior, PriorSpec

Centring = Mapping[str, np.ndarray]
"""λ per unconstrained parameter name: an array with one value in [0, 1] per segment."""


def segment_parameters(
    defaults: Mapping[str, NormalPrior],
    priors: PriorSpec,
    n_segments: int,
    centring: Centring | None = None,
    *,
    pooled: bool = True,
) -> dict[str, pt.TensorVariable]:
    """Declare every unconstrained parameter of a family, pooled across segments.

    Parameters
    ----------
    defaults
        Each unconstrained parameter's default population prior, in the family's order.
    priors
        The family's prior settings from the spec (overrides and tau's scale).
    n_segments
        Number of segments (the model must have a ``segment`` coordinate of this length).
    centring
        λ per parameter and segment (see the module docstring); parameters it does not
        name are non-centred (λ = 0).
    pooled
        False declares every segment on its own instead (:func:`unpooled_parameters`).

    Returns
    -------
    dict of TensorVariable
        For each name a deterministic with dim ``segment``. The sampled variables are
        ``{name}_pop`` (m), ``{name}_tau`` (τ) and ``{name}_z`` (θ̃) for each name.
    """
    if not pooled:
        return unpooled_parameters(defaults, priors)
    centring = centring or {}
    return {
        name: pooled_parameter(
            name, priors.location.get(name, default), priors.tau_sigma, n_segments,
            centring.get(name),
        )
        for name, default in defaults.items()
    }


def pooled_parameter(
    name: str,
    prior: NormalPrior,
    tau_sigma: float,
    n_segments: int,
    centring: np.ndarray | None = None,
) -> pt.TensorVariable:
    """Declare one unconstrained parameter with one value per segment in the current model.

    Parameters
    ----------
    name
        Name of the unconstrained parameter (e.g. ``"log_r"``); the population location is
        ``{name}_pop``, the between-segment scale ``{name}_tau``, the partially centred
        segment values ``{name}_z``.
    prior
        Prior of the population location.
    tau_sigma
        Scale of τ's half-normal prior.
    n_segments
        Number of segments.
    centring
        λ_g per segment in [0, 1]; None is the non-centred form (λ = 0).

    Returns
    -------
    TensorVariable
        A deterministic ``name`` with dim ``segment``.
    """
    location = pm.Normal(f"{name}_pop", mu=prior.mu, sigma=prior.sigma)
    if n_segments == 1:
        return pm.Deterministic(name, pt.stack([location]), dims="segment")
    scale = pm.HalfNormal(f"{name}_tau", sigma=tau_sigma)
    lam = np.zeros(n_segments) if centring is None else np.asarray(centring, dtype=float)
    if lam.shape != (n_segments,) or not np.all((lam >= 0.0) & (lam <= 1.0)):
        raise ValueError(f"centring of {name} must be {n_segments} values in [0, 1]")
    raw = pm.Normal(f"{name}_z", mu=lam * location, sigma=scale**lam, dims="segment")
    return pm.Deterministic(
        name, location + scale ** (1.0 - lam) * (raw - lam * location), dims="segment"
    )


def unpooled_parameters(
    defaults: Mapping[str, NormalPrior], priors: PriorSpec
) -> dict[str, pt.TensorVariable]:
    """Each segment's parameters on their own, with the population prior (no pooling).

    The model of :func:`bayesclv.models.centring.choose_centring`'s pilot: every segment is
    fitted apart, so each one's posterior shows what its own data say.

    Returns
    -------
    dict of TensorVariable
        For each name a free variable ``name`` with dim ``segment``.
    """
    return {
        name: pm.Normal(name, mu=prior.mu, sigma=prior.sigma, dims="segment")
        for name, prior in (
            (name, priors.location.get(name, default)) for name, default in defaults.items()
        )
    }


def check_prior_names(priors: PriorSpec, allowed: Sequence[str], section: str) -> None:
    """Raise a SpecError when the spec sets a prior the family does not have."""
    for key in priors.location:
        if key not in allowed:
            raise SpecError(
                f"unknown prior '{section}.{key}' for this family; "
                f"its parameters are {', '.join(allowed)}"
            )
