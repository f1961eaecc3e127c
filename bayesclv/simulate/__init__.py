"""Synthetic customers and experiments drawn from a known truth.

:mod:`bayesclv.simulate.customers` draws a customer base from a hierarchical truth (the
tests' interval coverage and shrinkage checks, rehearsals on a base whose parameters are
known); :mod:`bayesclv.simulate.experiment` runs a randomised retention action on one and
records what followed (the experiment learner's checks).
"""

from bayesclv.simulate.customers import (
    DEFAULT_POPULATION,
    DEFAULT_TAU,
    FAMILY_PARAMETERS,
    SPEND_PARAMETERS,
    Family,
    HierarchicalTruth,
    Seed,
    SimulatedWorld,
    draw_truth,
    simulate_customers,
)
from bayesclv.simulate.experiment import SimulatedExperiment, simulate_experiment

__all__ = [
    "DEFAULT_POPULATION",
    "DEFAULT_TAU",
    "FAMILY_PARAMETERS",
    "SPEND_PARAMETERS",
    "Family",
    "HierarchicalTruth",
    "Seed",
    "SimulatedExperiment",
    "SimulatedWorld",
    "draw_truth",
    "simulate_customers",
    "simulate_experiment",
]
