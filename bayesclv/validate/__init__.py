"""Checking fits: convergence diagnostics, predictive checks, model comparison."""

from bayesclv.models.convergence import Convergence, diagnose, warn_if_unconverged

__all__ = ["Convergence", "diagnose", "warn_if_unconverged"]
