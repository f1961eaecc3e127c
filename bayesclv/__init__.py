"""bayesclv: Bayesian customer lifetime value with hierarchical models per segment."""

from bayesclv.errors import BayesCLVError, ConvergenceWarning, DataError, SpecError

__all__ = ["BayesCLVError", "ConvergenceWarning", "DataError", "SpecError"]
__version__ = "0.1.0"
