"""Checking fits: convergence diagnostics, predictive checks, holdout, model comparison."""

from bayesclv.models.convergence import Convergence, diagnose, warn_if_unconverged
from bayesclv.validate.holdout import HoldoutReport, holdout_report
from bayesclv.validate.loo import Loo, compare, loo
from bayesclv.validate.ppc import predictive_check

__all__ = [
    "Convergence",
    "HoldoutReport",
    "Loo",
    "compare",
    "diagnose",
    "holdout_report",
    "loo",
    "predictive_check",
    "warn_if_unconverged",
]
