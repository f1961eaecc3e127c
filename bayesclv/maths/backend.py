"""Array-namespace shim: one formula, evaluated by NumPy/SciPy or by PyTensor.

The closed-form likelihoods are written once against the small set of
operations below. :func:`ops_for` looks at the arguments: if any of them is a
PyTensor variable the formula builds a graph (usable inside a PyMC model, with
gradients), otherwise it is evaluated eagerly in float64 with SciPy's special
functions.
"""

from __future__ import annotations

import sys
from functools import cache
from types import SimpleNamespace
from typing import Any

import numpy as np
from scipy import special

__all__ = ["NUMPY_OPS", "ops_for", "is_tensor"]


def _np_log1mexp(x: Any) -> np.ndarray:
    """``log(1 - exp(x))`` for ``x <= 0``, accurate on both sides of ``-log 2``."""
    x = np.asarray(x, dtype=float)
    # Machler (2012): expm1 near 0, log1p far from 0.
    near = x > -np.log(2.0)
    with np.errstate(divide="ignore"):
        return np.where(near, np.log(-np.expm1(np.where(near, x, -1.0))),
                        np.log1p(-np.exp(np.where(near, -1.0, x))))


def _np_softplus(x: Any) -> np.ndarray:
    """``log(1 + exp(x))`` without overflow."""
    return np.logaddexp(0.0, x)


def _np_logsumexp(x: Any, axis: int) -> np.ndarray:
    return special.logsumexp(x, axis=axis)


def _np_asarray(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=float)


NUMPY_OPS = SimpleNamespace(
    name="numpy",
    asarray=_np_asarray,
    gammaln=special.gammaln,
    betaln=special.betaln,
    log=np.log,
    log1p=np.log1p,
    exp=np.exp,
    expm1=np.expm1,
    logaddexp=np.logaddexp,
    softplus=_np_softplus,
    log1mexp=_np_log1mexp,
    logsumexp=_np_logsumexp,
    where=np.where,
)


@cache
def _pytensor_ops() -> SimpleNamespace:
    import pytensor.tensor as pt

    def betaln(a: Any, b: Any) -> Any:
        # PyTensor has no betaln op; this combination has exact gradients.
        return pt.gammaln(a) + pt.gammaln(b) - pt.gammaln(a + b)

    def asarray(x: Any) -> Any:
        return pt.as_tensor_variable(x if not isinstance(x, float | int) else float(x))

    def logsumexp(x: Any, axis: int) -> Any:
        return pt.logsumexp(x, axis=axis)

    return SimpleNamespace(
        name="pytensor",
        asarray=asarray,
        gammaln=pt.gammaln,
        betaln=betaln,
        log=pt.log,
        log1p=pt.log1p,
        exp=pt.exp,
        expm1=pt.expm1,
        logaddexp=pt.logaddexp,
        softplus=pt.softplus,
        log1mexp=pt.log1mexp,
        logsumexp=logsumexp,
        where=pt.where,
    )


def is_tensor(x: Any) -> bool:
    """True if ``x`` is a PyTensor variable (without importing PyTensor otherwise)."""
    if "pytensor" not in sys.modules:
        return False
    from pytensor.graph.basic import Variable

    return isinstance(x, Variable)


def ops_for(*args: Any) -> SimpleNamespace:
    """Return the namespace of operations matching the argument types.

    Parameters
    ----------
    *args
        The arguments of a formula: numbers, NumPy arrays or PyTensor variables.

    Returns
    -------
    types.SimpleNamespace
        ``asarray, gammaln, betaln, log, log1p, exp, expm1, logaddexp, softplus, log1mexp,
        logsumexp(x, axis), where``: PyTensor ops if any argument is a PyTensor
        variable, NumPy/SciPy functions otherwise.
    """
    if any(is_tensor(a) for a in args):
        return _pytensor_ops()
    return NUMPY_OPS
