"""Independent Pareto/NBD likelihoods for the tests: adaptive quadrature and 2F1.

Kept out of the package: they are test oracles, not used by bayesclv.
"""

import numpy as np
from scipy import integrate, special


def loglik_quad(r, alpha, s, beta, x, t_x, T):
    """log L with I computed by scipy.integrate.quad in y = log(min(α,β) + τ)."""
    head = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    log_alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    if T <= t_x:
        return head + log_alive
    a0 = min(alpha, beta)
    y0, y1 = np.log(a0 + t_x), np.log(a0 + T)

    def phi(y):
        e_y = np.exp(y)
        return -(r + x) * np.log(alpha - a0 + e_y) - (s + 1) * np.log(beta - a0 + e_y) + y

    edges = np.linspace(y0, y1, 41)
    scale = max(phi(np.linspace(y0, y1, 4001)))
    total = sum(
        integrate.quad(lambda y: np.exp(phi(y) - scale), lo, hi, epsabs=0, epsrel=1e-13,
                       limit=200)[0]
        for lo, hi in zip(edges[:-1], edges[1:], strict=True)
    )
    if total == 0.0:  # interval too short to register in double precision
        return head + log_alive
    return head + np.logaddexp(log_alive, np.log(s) + scale + np.log(total))


def loglik_hyp2f1(r, alpha, s, beta, x, t_x, T):
    """log L from Fader & Hardie (2005 note), eqs. for α >= β and α < β, in log space."""
    k = r + s + x
    if alpha >= beta:
        b2, big = s + 1, alpha
    else:
        b2, big = r + x, beta
    z0, z1 = abs(alpha - beta) / (big + t_x), abs(alpha - beta) / (big + T)
    a0 = np.log(special.hyp2f1(k, b2, k + 1, z0)) - k * np.log(big + t_x)
    a1 = np.log(special.hyp2f1(k, b2, k + 1, z1)) - k * np.log(big + T)
    log_a = a0 + np.log(-np.expm1(a1 - a0))
    head = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    log_alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    return head + np.logaddexp(log_alive, np.log(s) - np.log(k) + log_a)


def treated_timing_quad(r, alpha, s, beta, f_l, f_m, x, x_post, t_x, T, tau):
    """Timing log L of a customer whose rates are × f_l, f_m from τ on: the individual-level
    likelihood mixed over dropout times by adaptive quadrature (a break at τ), in log space
    (heavy buyers underflow otherwise)."""
    def exposure(t, f):
        return min(t, tau) + f * max(t - tau, 0.0)

    def log_dead(w):
        hazard = 1.0 if w < tau else f_m
        return (np.log(hazard) - (r + x) * np.log(alpha + exposure(w, f_l))
                - (s + 1) * np.log(beta + exposure(w, f_m)))

    log_alive = (-(r + x) * np.log(alpha + exposure(T, f_l))
                 - s * np.log(beta + exposure(T, f_m)))
    head = x_post * np.log(f_l)
    if not T > t_x:
        return head + log_alive
    # the integrand falls on each side of τ, so its largest value is at t_x or at τ
    scale = max(log_dead(w) for w in (t_x, max(t_x, tau)))
    points = [tau] if t_x < tau < T else None
    integral, _ = integrate.quad(lambda w: np.exp(log_dead(w) - scale), t_x, T, points=points,
                                 epsabs=0, epsrel=1e-12, limit=200)
    return head + np.logaddexp(log_alive, np.log(s) + scale + np.log(integral))
