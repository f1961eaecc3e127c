"""The Pareto/NBD likelihood of a customer whose rates an action changed part-way through.

From time τ on (the start of the day the action reached the customer, in time units since
the first purchase) the purchase rate is f_λ λ and the dropout rate f_μ μ. Time enters the
model only through the *effective exposures*

    E_λ(t) = min(t, τ) + f_λ (t − τ)⁺,     E_μ(t) = min(t, τ) + f_μ (t − τ)⁺,

the expected purchases and the cumulative dropout hazard by t for λ = μ = 1. Given λ and μ,
a history (x repeat purchases, x_post of them at or after τ, the last at t_x, observed to
T) has likelihood λ^x f_λ^x_post [e^(−λ E_λ(T) − μ E_μ(T)) + ∫_{t_x}^T μ h(ω)
e^(−λ E_λ(ω) − μ E_μ(ω)) dω], h = 1 before τ and f_μ after. Mixing over the Gamma
heterogeneity keeps the closed form of the untreated model (``docs/maths.md``,
"Treatment"): after τ, α + E_λ(ω) = f_λ (A + ω − τ) with A = (α + τ)/f_λ and likewise
β + E_μ(ω) = f_μ (B + ω − τ) with B = (β + τ)/f_μ, so the part of the history after τ is
the untreated timing likelihood at (r, A, s, B) on the clock that starts at τ, scaled by
f_λ^−(r+x) f_μ^−s; before τ only the dead term over (t_x, τ) remains, unchanged. Both
parts use the untreated formulas (the same Gauss–Legendre rule in a PyMC graph, the same
kernel in NumPy), so the accuracy bounds of :mod:`bayesclv.maths.paretonbd` carry over.
"""

from __future__ import annotations

from typing import Any

from bayesclv.maths.backend import ops_for
from bayesclv.maths.paretonbd import paretonbd_dead_loglik, paretonbd_timing_loglik

__all__ = ["paretonbd_treated_timing_loglik"]


def paretonbd_treated_timing_loglik(r: Any, alpha: Any, s: Any, beta: Any,
                                    log_f_purchase: Any, log_f_dropout: Any, x: Any,
                                    x_post: Any, t_x: Any, T: Any, tau: Any) -> Any:
    """Timing part of the Pareto/NBD log-likelihood of a treated customer.

    Add :func:`bayesclv.maths.paretonbd_count_loglik` (unchanged by the treatment) for the
    whole log-likelihood. With both factors 1 it equals
    :func:`bayesclv.maths.paretonbd_timing_loglik` for every τ.

    Parameters
    ----------
    r, alpha, s, beta : array_like or TensorVariable
        Pareto/NBD parameters (alpha, beta in time units).
    log_f_purchase, log_f_dropout : array_like or TensorVariable
        Logarithms of the factors f_λ, f_μ that multiply the purchase and dropout rates
        from τ on.
    x : array_like or TensorVariable
        Repeat purchases in (0, T].
    x_post : array_like or TensorVariable
        How many of them happened at or after τ (0 ≤ x_post ≤ x).
    t_x, T : array_like or TensorVariable
        Time of the last repeat purchase (0 without one) and length of the observation,
        since the first purchase (time units); ``0 <= t_x <= T``.
    tau : array_like or TensorVariable
        Time the action started to act, since the first purchase; ``0 <= tau <= T``, and
        ``tau <= t_x`` whenever ``x_post > 0``.

    Returns
    -------
    ndarray or TensorVariable
        Per-row log-likelihood, broadcast over all arguments.
    """
    ops = ops_for(r, alpha, s, beta, log_f_purchase, log_f_dropout, x, x_post, t_x, T, tau)
    r, alpha, s, beta, log_fl, log_fm, x, x_post, t_x, T, tau = (
        ops.asarray(v) for v in (r, alpha, s, beta, log_f_purchase, log_f_dropout, x, x_post,
                                 t_x, T, tau))
    since = ops.where(t_x > tau, t_x - tau, 0.0)
    after = (paretonbd_timing_loglik(r, (alpha + tau) * ops.exp(-log_fl), s,
                                     (beta + tau) * ops.exp(-log_fm), x, since, T - tau)
             - (r + x) * log_fl - s * log_fm)
    has_before = t_x < tau
    # the dead term over (t_x, τ) where that interval is not empty; elsewhere a finite
    # stand-in, masked below, keeps the gradient finite
    before = paretonbd_dead_loglik(r, alpha, s, beta, x, ops.where(has_before, t_x, 0.0),
                                   ops.where(has_before, tau, 1.0))
    return x_post * log_fl + ops.where(has_before, ops.logaddexp(after, before), after)
