"""MBG/NBD closed forms (Batislam, Denizel & Filiztekin 2007; Wagner & Hoppe 2008 erratum).

The "modified" BG/NBD: while alive a customer buys as Poisson(λ), λ ~ Gamma(shape r,
rate α); right after the first purchase (time 0) **and** after each repeat purchase they
drop out with probability p, p ~ Beta(a, b). Unlike the BG/NBD, a customer with no repeat
purchase may be gone, so P(alive) < 1 at x = 0. Time is in one unit throughout (weeks in
the tests); α has units of that time unit.

Given λ and p, a history of x repeat purchases, the last at t_x, observed to T is either
alive (survived x + 1 dropout chances, λ^x e^(−λT) (1−p)^(x+1)) or gone right after its
last purchase (λ^x e^(−λ t_x) p (1−p)^x). Mixing over p and λ:

    L = B(a, b+x+1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
      + B(a+1, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x)).

Given alive at T, λ ~ Gamma(r+x, α+T) and p ~ Beta(a, b+x+1), and the next dropout chance
comes after the next purchase: **a customer alive at T buys on as a BG/NBD customer** with
those parameters. The expectations below are built on that.

Per customer: ``x`` repeat purchases, ``t_x`` time of the last purchase since the
first, ``T`` time from the first purchase to the end of calibration.
Everything broadcasts: parameters may carry a segment or draws axis.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from bayesclv.maths.backend import NUMPY_OPS, ops_for
from bayesclv.maths.bgnbd import bgnbd_expected_purchases

__all__ = [
    "mbgnbd_loglik",
    "mbgnbd_count_loglik",
    "mbgnbd_timing_loglik",
    "mbgnbd_p_alive",
    "mbgnbd_alive_parameters",
    "mbgnbd_expected_purchases",
    "mbgnbd_conditional_expected_purchases",
]


def mbgnbd_loglik(r: Any, alpha: Any, a: Any, b: Any, x: Any, t_x: Any, T: Any) -> Any:
    """Log-likelihood of one customer's (x, t_x, T) under the MBG/NBD model.

    Works on NumPy arrays (SciPy special functions, float64) and on PyTensor
    variables (inside a PyMC model). It is the sum of :func:`mbgnbd_count_loglik`
    and :func:`mbgnbd_timing_loglik`.

    Parameters
    ----------
    r, alpha : array_like or TensorVariable
        Shape and rate of the Gamma purchase-rate heterogeneity (alpha in time units).
    a, b : array_like or TensorVariable
        Beta parameters of the dropout probability.
    x : array_like or TensorVariable
        Number of repeat purchases in calibration.
    t_x, T : array_like or TensorVariable
        Time of the last purchase and length of calibration, both since the first
        purchase, in time units; ``0 <= t_x <= T``.

    Returns
    -------
    ndarray or TensorVariable
        Per-row log-likelihood, broadcast over all arguments.
    """
    return mbgnbd_count_loglik(r, alpha, a, b, x) + mbgnbd_timing_loglik(
        r, alpha, a, b, x, t_x, T
    )


def mbgnbd_count_loglik(r: Any, alpha: Any, a: Any, b: Any, x: Any) -> Any:
    """The part of the MBG/NBD log-likelihood that depends on the history only through x.

    log Γ(r+x) − log Γ(r) + r log α + log B(a, b+x+1) − log B(a, b): all the special
    functions of the likelihood (the log-probability of surviving x + 1 dropout chances
    and of the x purchases' rate). A model evaluates it once per distinct (segment, x).

    Parameters
    ----------
    r, alpha, a, b : array_like or TensorVariable
        MBG/NBD parameters (alpha in time units).
    x : array_like or TensorVariable
        Number of repeat purchases in calibration.

    Returns
    -------
    ndarray or TensorVariable
        Broadcast over all arguments.
    """
    ops = ops_for(r, alpha, a, b, x)
    r, alpha, a, b, x = (ops.asarray(v) for v in (r, alpha, a, b, x))
    return (ops.gammaln(r + x) - ops.gammaln(r) + r * ops.log(alpha)
            + ops.betaln(a, b + x + 1.0) - ops.betaln(a, b))


def mbgnbd_timing_loglik(r: Any, alpha: Any, a: Any, b: Any, x: Any, t_x: Any, T: Any) -> Any:
    """The rest of the MBG/NBD log-likelihood: the part that depends on t_x and T.

    −(r+x) log(α+T) + log(1 + odds), where ``odds`` are the odds of having dropped out
    right after the last purchase (the first one at x = 0), using
    B(a+1, b+x) = B(a, b+x+1) · a/(b+x). Unlike the BG/NBD's, the odds are positive at
    x = 0 too, so no row needs masking.

    Parameters
    ----------
    r, alpha, a, b : array_like or TensorVariable
        MBG/NBD parameters (alpha in time units).
    x, t_x, T : array_like or TensorVariable
        Repeat purchases, time of last purchase and calibration length (time units).

    Returns
    -------
    ndarray or TensorVariable
        Broadcast over all arguments.
    """
    ops = ops_for(r, alpha, a, b, x, t_x, T)
    r, alpha, a, b, x, t_x, T = (ops.asarray(v) for v in (r, alpha, a, b, x, t_x, T))
    return (ops.softplus(_log_dropout_odds(r, alpha, a, b, x, t_x, T, ops))
            - (r + x) * ops.log(alpha + T))


def _log_dropout_odds(r: Any, alpha: Any, a: Any, b: Any, x: Any, t_x: Any, T: Any,
                      ops: Any) -> Any:
    """log[a/(b+x) · ((α+T)/(α+t_x))^(r+x)]: log odds of gone against alive at T."""
    return ops.log(a) - ops.log(b + x) + (r + x) * ops.log1p((T - t_x) / (alpha + t_x))


def mbgnbd_p_alive(r: ArrayLike, alpha: ArrayLike, a: ArrayLike, b: ArrayLike,
                   x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Probability that a customer with history (x, t_x, T) is still alive at T.

    1 / (1 + a/(b+x) ((α+T)/(α+t_x))^(r+x)); at x = 0 (so t_x = 0) it is below 1 even at
    T = 0, where it is b/(a+b), the chance of surviving the first purchase.

    Parameters
    ----------
    r, alpha, a, b : array_like
        MBG/NBD parameters (alpha in time units); may carry a draws axis.
    x, t_x, T : array_like
        Repeat purchases, time of last purchase and calibration length (time units).

    Returns
    -------
    ndarray
        P(alive at T | x, t_x, T), float64, broadcast over all arguments.
    """
    args = (np.asarray(v, dtype=float) for v in (r, alpha, a, b, x, t_x, T))
    return special.expit(-_log_dropout_odds(*args, NUMPY_OPS))


def mbgnbd_alive_parameters(r: ArrayLike, alpha: ArrayLike, a: ArrayLike, b: ArrayLike,
                            x: ArrayLike, T: ArrayLike) -> list[np.ndarray]:
    """The BG/NBD parameters a customer alive at T buys on with after T.

    Alive at T means x purchases in T and x + 1 dropout chances survived, so
    λ | alive ~ Gamma(r + x, α + T) and p | alive ~ Beta(a, b + x + 1); the next chance
    comes after the next purchase, as in the BG/NBD.

    Parameters
    ----------
    r, alpha, a, b : array_like
        MBG/NBD parameters (alpha in time units); may carry a draws axis.
    x, T : array_like
        Repeat purchases and calibration length (time units).

    Returns
    -------
    list of ndarray
        ``[r + x, α + T, a, b + x + 1]``: BG/NBD's (r, α, a, b) from T on.
    """
    x = np.asarray(x, dtype=float)
    return [np.asarray(r) + x, np.asarray(alpha) + T, np.asarray(a), np.asarray(b) + x + 1.0]


def mbgnbd_conditional_expected_purchases(r: ArrayLike, alpha: ArrayLike, a: ArrayLike,
                                          b: ArrayLike, x: ArrayLike, t_x: ArrayLike,
                                          T: ArrayLike, t: ArrayLike) -> np.ndarray:
    """Expected purchases in (T, T + t] given the history.

    P(alive) × the BG/NBD's E[X(t)] at :func:`mbgnbd_alive_parameters`, i.e.

        (a+b+x)/(a−1) [1 − ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x+1; a+b+x; t/(α+T+t))]
        / (1 + a/(b+x) ((α+T)/(α+t_x))^(r+x)),

    from the conditional posterior in the module docstring; the 2F1 is evaluated after
    Euler's transformation (:func:`bayesclv.maths.bgnbd_conditional_expected_purchases`).
    ``a = 1`` is a removable singularity that is not special-cased.

    Parameters
    ----------
    r, alpha, a, b : array_like
        MBG/NBD parameters (alpha in time units); may carry a draws axis.
    x, t_x, T : array_like
        Calibration history (time units).
    t : array_like
        Length of the prediction window after T, in time units.

    Returns
    -------
    ndarray
        E[X(T, T+t] | x, t_x, T], float64.
    """
    if_alive = bgnbd_expected_purchases(*mbgnbd_alive_parameters(r, alpha, a, b, x, T), t)
    return if_alive * mbgnbd_p_alive(r, alpha, a, b, x, t_x, T)


def mbgnbd_expected_purchases(r: ArrayLike, alpha: ArrayLike, a: ArrayLike, b: ArrayLike,
                              t: ArrayLike) -> np.ndarray:
    """Unconditional expected repeat purchases in (0, t] for a new customer.

    E[X(t)] = b/(a−1) [1 − (α/(α+t))^r 2F1(r, b+1; a+b; t/(α+t))]: the customer survives
    the first purchase with probability b/(a+b) and then buys as a BG/NBD customer with
    p ~ Beta(a, b+1), so it is b/(a+b) times the BG/NBD's E[X(t)] at (r, α, a, b+1) (the
    conditional expectation with no history, x = t_x = T = 0).

    Parameters
    ----------
    r, alpha, a, b : array_like
        MBG/NBD parameters (alpha in time units).
    t : array_like
        Time since the first purchase, in time units.

    Returns
    -------
    ndarray
        E[X(t)], float64.
    """
    return mbgnbd_conditional_expected_purchases(r, alpha, a, b, 0.0, 0.0, 0.0, t)
