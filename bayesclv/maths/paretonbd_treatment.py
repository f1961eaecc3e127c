"""The Pareto/NBD likelihood when the purchase and dropout rates change over a customer's life.

The rates are multiplied by piecewise-constant factors: from b_k (time since the first
purchase) to b_(k+1) the purchase rate is f_λk λ and the dropout rate f_μk μ. Time enters the
model only through the *effective exposures*

    E_λ(t) = Σ_k f_λk |[b_k, b_(k+1)) ∩ [0, t)|,      E_μ(t) likewise with f_μk,

the expected purchases and the cumulative dropout hazard by t for λ = μ = 1. An action that
reached a customer at τ is two pieces, (1, 1) before τ and (f_λ, f_μ) after; a seasonal
profile or a trend in calendar time is one piece per calendar period, mapped to each
customer's clock.

Given λ and μ, a history (x repeat purchases, x_k of them in piece k, the last at t_x,
observed to T) has likelihood λ^x Π f_λk^x_k [e^(−λ E_λ(T) − μ E_μ(T)) + ∫_{t_x}^T μ h(ω)
e^(−λ E_λ(ω) − μ E_μ(ω)) dω], h(ω) = f_μk on piece k. Mixing over the Gamma heterogeneity
keeps the closed form of the untreated model (``docs/maths.md``, "Treatment"): on piece k,
α + E_λ(ω) = f_λk (A_k + ω − b_k) with A_k = (α + E_λ(b_k))/f_λk and likewise β + E_μ(ω)
= f_μk (B_k + ω − b_k), so the dead term of piece k is the untreated one at (r, A_k, s, B_k)
on the clock that starts at b_k, scaled by f_λk^−(r+x) f_μk^−s. Each piece uses the
untreated formula (the same Gauss–Legendre rule in a PyMC graph, the same kernel in NumPy;
the treatment model sums the two-piece case with the fused Op of
:mod:`bayesclv.models.paretonbd_op` on that kernel), so the accuracy bounds of
:mod:`bayesclv.maths.paretonbd` carry over.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bayesclv.maths.backend import ops_for
from bayesclv.maths.paretonbd import paretonbd_dead_loglik

__all__ = ["paretonbd_piecewise_timing_loglik", "paretonbd_treated_timing_loglik"]


def paretonbd_piecewise_timing_loglik(r: Any, alpha: Any, s: Any, beta: Any,
                                      starts: Sequence[Any], log_f_purchase: Sequence[Any],
                                      log_f_dropout: Sequence[Any], x_in: Sequence[Any],
                                      x: Any, t_x: Any, T: Any) -> Any:
    """Timing part of the Pareto/NBD log-likelihood under piecewise-constant rate factors.

    Add :func:`bayesclv.maths.paretonbd_count_loglik` (unchanged by the factors) for the
    whole log-likelihood. With every factor 1 it equals
    :func:`bayesclv.maths.paretonbd_timing_loglik` whatever the pieces.

    Parameters
    ----------
    r, alpha, s, beta : array_like or TensorVariable
        Pareto/NBD parameters (alpha, beta in time units).
    starts : sequence of K array_like or TensorVariable
        Start of each piece on the customer's clock (time units since the first purchase):
        ``starts[0]`` must be 0 and they must not decrease; piece k ends where piece k + 1
        starts, the last one never. Pieces may start after T (they then do not count).
    log_f_purchase, log_f_dropout : sequence of K array_like or TensorVariable
        Logarithms of the factors on the purchase and dropout rates in each piece.
    x_in : sequence of K array_like or TensorVariable
        Repeat purchases in each piece (summing to x).
    x : array_like or TensorVariable
        Repeat purchases in (0, T].
    t_x, T : array_like or TensorVariable
        Time of the last repeat purchase (0 without one) and length of the observation,
        since the first purchase (time units); ``0 <= t_x <= T``.

    Returns
    -------
    ndarray or TensorVariable
        Per-row log-likelihood, broadcast over all arguments.
    """
    pieces = len(starts)
    if not pieces == len(log_f_purchase) == len(log_f_dropout) == len(x_in):
        raise ValueError("starts, log_f_purchase, log_f_dropout and x_in need one entry per "
                         "piece")
    ops = ops_for(r, alpha, s, beta, x, t_x, T, *starts, *log_f_purchase, *log_f_dropout, *x_in)
    r, alpha, s, beta, x, t_x, T = (ops.asarray(v) for v in (r, alpha, s, beta, x, t_x, T))
    exposure_purchase, exposure_dropout = 0.0, 0.0  # at the start of the current piece
    total = -np.inf
    purchases = 0.0
    for k in range(pieces):
        start = ops.asarray(starts[k])
        log_fl, log_fm = ops.asarray(log_f_purchase[k]), ops.asarray(log_f_dropout[k])
        end = ops.asarray(starts[k + 1]) if k + 1 < pieces else None
        # the observed part of the piece, [start, stop), and of the dropout interval in it
        stop = T if end is None else ops.where(end < T, end, T)
        stop = ops.where(stop > start, stop, start)
        low = ops.where(t_x > start, ops.where(t_x < stop, t_x, stop), start)
        has_dead = low < stop
        size_a = (alpha + exposure_purchase) * ops.exp(-log_fl)
        size_b = (beta + exposure_dropout) * ops.exp(-log_fm)
        dead = (paretonbd_dead_loglik(r, size_a, s, size_b, x,
                                      ops.where(has_dead, low - start, 0.0),
                                      ops.where(has_dead, stop - start, 1.0))
                - (r + x) * log_fl - s * log_fm)
        total = ops.where(has_dead, ops.logaddexp(total, dead), total) if k else ops.where(
            has_dead, dead, -np.inf)
        exposure_purchase = exposure_purchase + ops.exp(log_fl) * (stop - start)
        exposure_dropout = exposure_dropout + ops.exp(log_fm) * (stop - start)
        purchases = purchases + ops.asarray(x_in[k]) * log_fl
    alive = -(r + x) * ops.log(alpha + exposure_purchase) - s * ops.log(beta + exposure_dropout)
    return purchases + ops.logaddexp(alive, total)


def paretonbd_treated_timing_loglik(r: Any, alpha: Any, s: Any, beta: Any,
                                    log_f_purchase: Any, log_f_dropout: Any, x: Any,
                                    x_post: Any, t_x: Any, T: Any, tau: Any) -> Any:
    """Timing part of the Pareto/NBD log-likelihood of a customer an action reached at τ.

    Two pieces of :func:`paretonbd_piecewise_timing_loglik`: factors 1 before τ, f_λ and f_μ
    from τ on. With both factors 1 it equals :func:`bayesclv.maths.paretonbd_timing_loglik`
    for every τ.

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
    return paretonbd_piecewise_timing_loglik(
        r, alpha, s, beta, starts=(0.0, tau), log_f_purchase=(0.0, log_f_purchase),
        log_f_dropout=(0.0, log_f_dropout), x_in=(x - x_post, x_post), x=x, t_x=t_x, T=T)
