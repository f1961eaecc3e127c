"""Exception and warning types raised by bayesclv.

Every message says what was wrong, where (column, row, customer, field or value)
and, where it helps, what to do about it.
"""


class BayesCLVError(Exception):
    """Base class of all bayesclv errors."""


class DataError(BayesCLVError, ValueError):
    """A transaction log or customer summary that cannot be used as given."""


class SpecError(BayesCLVError, ValueError):
    """A model specification (``models/*.toml`` or a ``ModelSpec``) with a bad field."""


class OutputError(BayesCLVError, OSError):
    """An output that cannot be written, or would replace a file without being told to."""


class ConvergenceWarning(UserWarning):
    """A fit whose diagnostics (R-hat, ESS, divergences, BFMI) fail their thresholds."""
