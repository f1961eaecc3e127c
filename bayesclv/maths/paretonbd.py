"""Pareto/NBD closed forms (Schmittlein, Morrison & Colombo 1987; Fader & Hardie 2005 note).

While alive a customer buys as Poisson(λ), λ ~ Gamma(shape r, rate α); the
lifetime is Exponential(μ), μ ~ Gamma(shape s, rate β). Time is in one unit
throughout; α and β have units of that time unit.

The likelihood of (x, t_x, T) is

    L = Γ(r+x)/Γ(r) α^r β^s [ (α+T)^-(r+x) (β+T)^-s + s I ],
    I = ∫_{t_x}^{T} (α+τ)^-(r+x) (β+τ)^-(s+1) dτ,

the first term for "alive at T", the second for "died between t_x and T".
Instead of the 2F1 form of I we use a fixed Gauss-Legendre rule after a change
of variable that absorbs the dominant power law exactly (see ``docs/maths.md``
for the derivation and the measured accuracy). Fixed nodes make the rule a
plain elementwise graph: cheap, vectorised, with exact gradients.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from bayesclv.maths.backend import ops_for
from bayesclv.maths.paretonbd_kernel import GL_GRADING, GL_NODES, log_dead_term

__all__ = [
    "GL_NODES",
    "GL_GRADING",
    "paretonbd_loglik",
    "paretonbd_count_loglik",
    "paretonbd_timing_loglik",
    "paretonbd_dead_loglik",
    "paretonbd_p_alive",
    "paretonbd_expected_purchases",
    "paretonbd_conditional_expected_purchases",
]

_XI, _OMEGA = np.polynomial.legendre.leggauss(GL_NODES)
_LOWER = (1.0 - _XI) / 2.0  # weights of the two interval ends in each node
_UPPER = (1.0 + _XI) / 2.0
_LOG_OMEGA = np.log(_OMEGA)


def _log_terms(r: Any, alpha: Any, s: Any, beta: Any, x: Any, t_x: Any, T: Any,
               ops: Any) -> tuple[Any, Any, Any]:
    """Return (log alive term, log dead term, has-dead-term mask), without the constant.

    The dead term is log(s I); it is only meaningful where the mask (t_x < T)
    holds, and is finite with finite gradients everywhere else.
    """
    k = r + x + s
    # Absorb exactly the factor with the larger exponent: the leftover ratio,
    # raised to the smaller exponent, is bounded and slowly varying.
    use_alpha = s + 1.0 <= r + x
    a1 = ops.where(use_alpha, alpha, beta)
    a2 = ops.where(use_alpha, beta, alpha)
    e = ops.where(use_alpha, s + 1.0, r + x)

    # w = (a1+τ)^-k; v = w / w(t_x) runs over [exp(-Δ), 1].
    delta = k * ops.log1p((T - t_x) / (a1 + t_x))
    has_dead = delta > 0.0
    delta_safe = ops.where(has_dead, delta, 1.0)
    # v = z^m: the grading removes the near-singular behaviour at v -> 0 that
    # appears when Δ is large (heavy buyers, long T - t_x).
    m = float(GL_GRADING)
    log_z_lo = -delta_safe / m
    # Nodes z = z_lo (1-ξ)/2 + (1+ξ)/2 lie in [z_lo, 1] with z_lo > 0: one log per node,
    # no log-sum-exp needed (this is the hot loop of every Pareto/NBD gradient).
    log_z = ops.log(ops.exp(log_z_lo)[..., None] * _LOWER + _UPPER)  # node axis last
    # (a1+τ)/(a1+t_x) = v^(-1/k) = exp(-m log z / k)
    inv_a1_tau = ops.exp(m * log_z / k[..., None]) / (a1 + t_x)[..., None]
    log_g = -e[..., None] * ops.log1p((a2 - a1)[..., None] * inv_a1_tau)
    log_sum = ops.logsumexp(_LOG_OMEGA + (m - 1.0) * log_z + log_g, axis=-1)
    log_integral = (-k * ops.log(a1 + t_x) + np.log(m / 2.0) - ops.log(k)
                    + ops.log1mexp(log_z_lo) + log_sum)

    log_alive = -(r + x) * ops.log(alpha + T) - s * ops.log(beta + T)
    log_dead = ops.log(s) + log_integral
    return log_alive, log_dead, has_dead


def _broadcast_args(ops: Any, *args: Any) -> list[Any]:
    """The arguments as broadcast PyTensor variables (NumPy goes through the kernel)."""
    import pytensor.tensor as pt

    return list(pt.broadcast_arrays(*(ops.asarray(v) for v in args)))


def paretonbd_loglik(r: Any, alpha: Any, s: Any, beta: Any, x: Any, t_x: Any, T: Any) -> Any:
    """Log-likelihood of one customer's (x, t_x, T) under the Pareto/NBD model.

    Works on NumPy arrays (float64) and on PyTensor variables (inside a PyMC
    model). t_x = T (including T = 0) is handled exactly, with finite gradients. It is
    the sum of :func:`paretonbd_count_loglik` and :func:`paretonbd_timing_loglik`.

    Parameters
    ----------
    r, alpha : array_like or TensorVariable
        Shape and rate of the Gamma purchase-rate heterogeneity (alpha in time units).
    s, beta : array_like or TensorVariable
        Shape and rate of the Gamma dropout-rate heterogeneity (beta in time units).
    x : array_like or TensorVariable
        Number of repeat purchases in calibration.
    t_x, T : array_like or TensorVariable
        Time of the last purchase and length of calibration, both since the first
        purchase, in time units; ``0 <= t_x <= T``.

    Returns
    -------
    ndarray or TensorVariable
        Per-row log-likelihood, broadcast over all arguments. Relative error of
        the likelihood below 1e-8 while α and β are within a factor 3 of each other
        (CDNOW's posterior), 2e-7 within a factor 10 (docs/maths.md).
    """
    return paretonbd_count_loglik(r, alpha, s, beta, x) + paretonbd_timing_loglik(
        r, alpha, s, beta, x, t_x, T
    )


def paretonbd_count_loglik(r: Any, alpha: Any, s: Any, beta: Any, x: Any) -> Any:
    """The part of the Pareto/NBD log-likelihood that depends on the history only through x.

    log Γ(r+x) − log Γ(r) + r log α + s log β. A model evaluates it once per distinct
    (segment, x) instead of once per customer (see :func:`bayesclv.models.frequency`).

    Parameters
    ----------
    r, alpha, s, beta : array_like or TensorVariable
        Pareto/NBD parameters (alpha, beta in time units).
    x : array_like or TensorVariable
        Number of repeat purchases in calibration.

    Returns
    -------
    ndarray or TensorVariable
        Broadcast over all arguments.
    """
    ops = ops_for(r, alpha, s, beta, x)
    r, alpha, s, beta, x = (ops.asarray(v) for v in (r, alpha, s, beta, x))
    return ops.gammaln(r + x) - ops.gammaln(r) + r * ops.log(alpha) + s * ops.log(beta)


def paretonbd_timing_loglik(r: Any, alpha: Any, s: Any, beta: Any, x: Any, t_x: Any,
                            T: Any) -> Any:
    """The rest of the Pareto/NBD log-likelihood: log[(α+T)^-(r+x) (β+T)^-s + s I].

    Parameters
    ----------
    r, alpha, s, beta : array_like or TensorVariable
        Pareto/NBD parameters (alpha, beta in time units).
    x, t_x, T : array_like or TensorVariable
        Repeat purchases, time of last purchase and calibration length (time units).

    Returns
    -------
    ndarray or TensorVariable
        Broadcast over all arguments.
    """
    ops = ops_for(r, alpha, s, beta, x, t_x, T)
    if ops.name == "numpy":
        return np.logaddexp(_log_alive(r, alpha, s, beta, x, T), _log_dead(r, alpha, s, beta,
                                                                           x, t_x, T))
    args = _broadcast_args(ops, r, alpha, s, beta, x, t_x, T)
    log_alive, log_dead, has_dead = _log_terms(*args, ops=ops)
    return ops.where(has_dead, ops.logaddexp(log_alive, log_dead), log_alive)


def paretonbd_dead_loglik(r: Any, alpha: Any, s: Any, beta: Any, x: Any, t_x: Any,
                          T: Any) -> Any:
    """The "dropped out between t_x and T" term alone: log(s I), I as in the module docstring.

    Parameters
    ----------
    r, alpha, s, beta : array_like or TensorVariable
        Pareto/NBD parameters (alpha, beta in time units).
    x : array_like or TensorVariable
        Repeat purchases (the exponent r + x).
    t_x, T : array_like or TensorVariable
        Ends of the interval of the dropout time, ``t_x <= T`` (time units).

    Returns
    -------
    ndarray or TensorVariable
        Broadcast over all arguments; −inf where ``t_x == T`` (an empty interval), with
        zero gradient there.
    """
    ops = ops_for(r, alpha, s, beta, x, t_x, T)
    if ops.name == "numpy":
        return _log_dead(r, alpha, s, beta, x, t_x, T)
    _, log_dead, has_dead = _log_terms(*_broadcast_args(ops, r, alpha, s, beta, x, t_x, T),
                                       ops=ops)
    return ops.where(has_dead, log_dead, -np.inf)


def paretonbd_p_alive(r: ArrayLike, alpha: ArrayLike, s: ArrayLike, beta: ArrayLike,
                      x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Probability that a customer with history (x, t_x, T) is still alive at T.

    Parameters
    ----------
    r, alpha, s, beta : array_like
        Pareto/NBD parameters (alpha, beta in time units); may carry a draws axis.
    x, t_x, T : array_like
        Repeat purchases, time of last purchase and calibration length (time units).

    Returns
    -------
    ndarray
        P(alive at T | x, t_x, T) = alive term / (alive term + dead term), float64.
    """
    return special.expit(_log_alive(r, alpha, s, beta, x, T)
                         - _log_dead(r, alpha, s, beta, x, t_x, T))


def _log_alive(r: ArrayLike, alpha: ArrayLike, s: ArrayLike, beta: ArrayLike, x: ArrayLike,
               T: ArrayLike) -> np.ndarray:
    """log[(α+T)^−(r+x) (β+T)^−s], NumPy."""
    r, alpha, s, beta, x, T = (np.asarray(v, dtype=np.float64)
                               for v in (r, alpha, s, beta, x, T))
    return -(r + x) * np.log(alpha + T) - s * np.log(beta + T)


def _log_dead(r: ArrayLike, alpha: ArrayLike, s: ArrayLike, beta: ArrayLike, x: ArrayLike,
              t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """log(s I) by the numba kernel (−inf where t_x = T), NumPy: one value per element.

    The kernel's series is exact to ~1e-14 where it applies (α, β within a factor ~3 of
    each other and most histories), and falls back to the same Gauss–Legendre rule as the
    PyTensor graph elsewhere. Unlike the graph it keeps no node axis in memory, so scoring
    many draws × rows needs only the output's size.
    """
    return log_dead_term(*(np.asarray(v, dtype=np.float64)
                           for v in (r, alpha, s, beta, x, t_x, T)))


def _expected_while_alive(r: ArrayLike, alpha: ArrayLike, s: ArrayLike, beta: ArrayLike,
                          t: ArrayLike) -> np.ndarray:
    """r β / (α (s-1)) [1 - (β/(β+t))^(s-1)], continuous through s = 1.

    Written as (r β/α) ℓ exprel(-(s-1) ℓ) with ℓ = log(1 + t/β): the s = 1 limit
    r β/α log(1 + t/β) needs no special case. exprel(z) = expm1(z)/z (1 at z = 0), exact to
    rounding for every z because expm1 is; it is computed so rather than by
    ``scipy.special.exprel`` (10× slower per element), as the CLV tables evaluate it once
    per draw, history and future period.
    """
    ell = np.log1p(np.asarray(t, dtype=np.float64) / beta)
    z = np.asarray(-(np.asarray(s) - 1.0) * ell)
    rel = np.ones_like(z)
    np.divide(np.expm1(z), z, out=rel, where=z != 0.0)
    return np.asarray(r) * beta / alpha * ell * rel


def paretonbd_conditional_expected_purchases(r: ArrayLike, alpha: ArrayLike, s: ArrayLike,
                                             beta: ArrayLike, x: ArrayLike, t_x: ArrayLike,
                                             T: ArrayLike, t: ArrayLike) -> np.ndarray:
    """Expected purchases in (T, T + t] given the history.

    E = (r+x)(β+T) / ((α+T)(s-1)) [1 - ((β+T)/(β+T+t))^(s-1)] P(alive),
    with the s = 1 limit (r+x)/(α+T) (β+T) log(1 + t/(β+T)) P(alive).

    Parameters
    ----------
    r, alpha, s, beta : array_like
        Pareto/NBD parameters (alpha, beta in time units); may carry a draws axis.
    x, t_x, T : array_like
        Calibration history (time units).
    t : array_like
        Length of the prediction window after T, in time units.

    Returns
    -------
    ndarray
        E[X(T, T+t] | x, t_x, T], float64.
    """
    return (_expected_while_alive(np.asarray(r) + x, np.asarray(alpha) + T, s,
                                  np.asarray(beta) + T, t)
            * paretonbd_p_alive(r, alpha, s, beta, x, t_x, T))


def paretonbd_expected_purchases(r: ArrayLike, alpha: ArrayLike, s: ArrayLike,
                                 beta: ArrayLike, t: ArrayLike) -> np.ndarray:
    """Unconditional expected repeat purchases in (0, t] for a new customer.

    E[X(t)] = r β / (α (s-1)) [1 - (β/(β+t))^(s-1)], and r β/α log(1 + t/β) at s = 1.

    Parameters
    ----------
    r, alpha, s, beta : array_like
        Pareto/NBD parameters (alpha, beta in time units).
    t : array_like
        Time since the first purchase, in time units.

    Returns
    -------
    ndarray
        E[X(t)], float64.
    """
    return _expected_while_alive(r, alpha, s, beta, t)
