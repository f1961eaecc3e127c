"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV").

A customer's transaction values are Gamma(shape p, rate ν), ν ~ Gamma(shape q,
rate γ) across customers; γ is in currency units. Fitted on customers with at
least one repeat purchase (n >= 1), on the mean ``zbar`` of their n repeat
transaction values.
"""

from __future__ import annotations

from typing import Any

from bayesclv.maths.backend import ops_for

__all__ = ["gammagamma_loglik", "gammagamma_conditional_mean_spend"]


def gammagamma_loglik(p: Any, q: Any, gamma: Any, n_spend: Any, mean_spend: Any) -> Any:
    """Log-density of a customer's mean spend given n transactions.

    log f(zbar | n) = lnΓ(pn+q) - lnΓ(pn) - lnΓ(q) + q log γ + (pn-1) log zbar
    + pn log n - (pn+q) log(γ + n zbar). Works on NumPy arrays and PyTensor variables.

    Parameters
    ----------
    p, q, gamma : array_like or TensorVariable
        Spend parameters (gamma in currency units).
    n_spend : array_like or TensorVariable
        Number of transactions averaged, n >= 1 (rows with n = 0 carry no spend
        information and must be left out).
    mean_spend : array_like or TensorVariable
        Their mean value zbar > 0, in currency units.

    Returns
    -------
    ndarray or TensorVariable
        Per-row log-density of zbar (per currency unit).
    """
    ops = ops_for(p, q, gamma, n_spend, mean_spend)
    p, q, gamma, n, zbar = (ops.asarray(v) for v in (p, q, gamma, n_spend, mean_spend))
    pn = p * n
    return (ops.gammaln(pn + q) - ops.gammaln(pn) - ops.gammaln(q) + q * ops.log(gamma)
            + (pn - 1.0) * ops.log(zbar) + pn * ops.log(n) - (pn + q) * ops.log(gamma + n * zbar))


def gammagamma_conditional_mean_spend(p: Any, q: Any, gamma: Any, n_spend: Any,
                                      mean_spend: Any) -> Any:
    """Expected value of a customer's future transaction given their history.

    E[Z | n, zbar] = p (γ + n zbar) / (pn + q - 1); with n = 0 this is the prior
    mean p γ / (q - 1). Requires q > 1 (otherwise the prior mean spend is
    infinite). Works on NumPy arrays and PyTensor variables.

    Parameters
    ----------
    p, q, gamma : array_like or TensorVariable
        Spend parameters (gamma in currency units); q > 1.
    n_spend : array_like or TensorVariable
        Number of transactions behind ``mean_spend`` (0 allowed).
    mean_spend : array_like or TensorVariable
        Their mean value, in currency units (ignored when n = 0).

    Returns
    -------
    ndarray or TensorVariable
        Expected spend per transaction, in currency units.
    """
    return p * (gamma + n_spend * mean_spend) / (p * n_spend + q - 1.0)
