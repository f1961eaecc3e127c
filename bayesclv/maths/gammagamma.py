"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV").

A customer's transaction values are Gamma(shape p, rate ν), ν ~ Gamma(shape q,
rate γ) across customers; γ is in currency units. Fitted on customers with at
least one repeat purchase (n >= 1), on the mean ``zbar`` of their n repeat
transaction values.
"""

from __future__ import annotations

from typing import Any

from bayesclv.maths.backend import ops_for

__all__ = [
    "gammagamma_conditional_mean_spend",
    "gammagamma_count_loglik",
    "gammagamma_loglik",
    "gammagamma_spend_loglik",
    "gammagamma_treated_loglik",
]


def gammagamma_loglik(p: Any, q: Any, gamma: Any, n_spend: Any, mean_spend: Any) -> Any:
    """Log-density of a customer's mean spend given n transactions.

    log f(zbar | n) = lnΓ(pn+q) - lnΓ(pn) - lnΓ(q) + q log γ + (pn-1) log zbar
    + pn log n - (pn+q) log(γ + n zbar). Works on NumPy arrays and PyTensor variables.
    Written so that it stays accurate for any q (lnΓ(pn+q) − lnΓ(q) and
    q log γ − q log(γ + n zbar) are computed without cancelling large terms): as q → ∞
    with q/γ = ν fixed it tends to the Gamma(pn, rate nν) density of the mean of n
    transactions.

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
    return (gammagamma_count_loglik(p, q, n_spend)
            + gammagamma_spend_loglik(p, q, gamma, n_spend, mean_spend))


def gammagamma_count_loglik(p: Any, q: Any, n_spend: Any) -> Any:
    """The part of the Gamma-Gamma log-density that depends on the data only through n.

    lnΓ(pn+q) − lnΓ(q) − lnΓ(pn) + pn log n: every special function of the density. A model
    evaluates it once per distinct (segment, n) instead of once per customer.
    """
    ops = ops_for(p, q, n_spend)
    p, q, n = (ops.asarray(v) for v in (p, q, n_spend))
    pn = p * n
    return _log_rising(q, pn, ops) - ops.gammaln(pn) + pn * ops.log(n)


def gammagamma_spend_loglik(p: Any, q: Any, gamma: Any, n_spend: Any, mean_spend: Any) -> Any:
    """The rest: (pn−1) log zbar − pn log γ − (pn+q) log1p(n zbar/γ), one log1p per customer.

    Equal to q log γ + (pn−1) log zbar − (pn+q) log(γ + n zbar), written without the two
    large terms that cancel when γ is large.
    """
    ops = ops_for(p, q, gamma, n_spend, mean_spend)
    p, q, gamma, n, zbar = (ops.asarray(v) for v in (p, q, gamma, n_spend, mean_spend))
    pn = p * n
    return ((pn - 1.0) * ops.log(zbar) - pn * ops.log(gamma)
            - (pn + q) * ops.log1p(n * zbar / gamma))


def gammagamma_treated_loglik(p: Any, q: Any, gamma: Any, log_f: Any, n_before: Any,
                              total_before: Any, n_after: Any, total_after: Any) -> Any:
    """Log-density of a customer's spend before and after an action that scaled it by f.

    Transaction values are Gamma(p, ν) before the action and Gamma(p, ν/f) after it (mean
    scaled by f), ν ~ Gamma(q, γ). The sums S₁ of n₁ values before and S₂ of n₂ after have,
    mixed over ν, the density

        Γ(pn+q)/(Γ(q) Γ(pn₁) Γ(pn₂)) γ^q S₁^(pn₁−1) S₂^(pn₂−1) f^(−pn₂) / (γ + S₁ + S₂/f)^(pn+q)

    with n = n₁ + n₂ (a factor with n_k = 0 is absent). Written, as
    :func:`gammagamma_spend_loglik`, without the large cancelling terms when γ or q is
    large. Works on NumPy arrays and PyTensor variables.

    Parameters
    ----------
    p, q, gamma : array_like or TensorVariable
        Spend parameters (gamma in currency units).
    log_f : array_like or TensorVariable
        Logarithm of the factor f on the mean spend per transaction after the action.
    n_before, total_before : array_like or TensorVariable
        Number and sum (currency, > 0 when n > 0) of the repeat transaction values before.
    n_after, total_after : array_like or TensorVariable
        The same after the action; n_before + n_after >= 1.

    Returns
    -------
    ndarray or TensorVariable
        Per-row log-density of (S₁, S₂) (per currency unit squared where both n > 0).
    """
    ops = ops_for(p, q, gamma, log_f, n_before, total_before, n_after, total_after)
    p, q, gamma, log_f, n1, s1, n2, s2 = (ops.asarray(v) for v in (
        p, q, gamma, log_f, n_before, total_before, n_after, total_after))
    pn = p * (n1 + n2)

    def part(n: Any, total: Any) -> Any:
        has = n > 0
        pn_k = ops.where(has, p * n, 1.0)
        return ops.where(has, (pn_k - 1.0) * ops.log(ops.where(has, total, 1.0))
                         - ops.gammaln(pn_k), 0.0)

    return (_log_rising(q, pn, ops) + part(n1, s1) + part(n2, s2) - p * n2 * log_f
            - pn * ops.log(gamma) - (pn + q) * ops.log1p((s1 + s2 * ops.exp(-log_f)) / gamma))


#: Above this q, lnΓ(q + a) − lnΓ(q) is taken from Stirling's series (see _log_rising).
LARGE_Q = 1e5


def _log_rising(q: Any, a: Any, ops: Any) -> Any:
    """lnΓ(q + a) − lnΓ(q), also for huge q.

    The plain difference of two lnΓ of size q log q loses every digit once q log q ≫ 1e16
    (q = 1e86 gives noise of ±1e72: a sampler that strays there sees a spurious mode and
    sticks). Above LARGE_Q Stirling's series gives the difference directly:
    (q + a − ½) log1p(a/q) + a log q − a + 1/(12(q+a)) − 1/(12q), whose next term is
    below 1e−17 there.
    """
    plain = ops.gammaln(q + a) - ops.gammaln(q)
    large = q > LARGE_Q
    q_big = ops.where(large, q, LARGE_Q)
    stirling = ((q_big + a - 0.5) * ops.log1p(a / q_big) + a * ops.log(q_big) - a
                + 1.0 / (12.0 * (q_big + a)) - 1.0 / (12.0 * q_big))
    return ops.where(large, stirling, plain)


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
