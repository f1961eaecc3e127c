"""Pareto/NBD dead term, row by row, in numba: a positive series, else quadrature.

The Pareto/NBD likelihood of (x, t_x, T) is Γ(r+x)/Γ(r) α^r β^s [(α+T)^−(r+x) (β+T)^−s + s I]
with I = ∫_{t_x}^{T} (α+τ)^−(r+x) (β+τ)^−(s+1) dτ (docs/maths.md). These kernels give
log(s I) and its partial derivatives in (r, α, s, β) for one row; the fused Op of
:mod:`bayesclv.models.paretonbd_op` sums them over rows for NUTS, and
:func:`log_dead_term` is a NumPy ufunc of them for scoring (no node axis in memory).
**The dead term by a series** (most rows). With a₁ = max(α, β), a₂ = min(α, β), e the
exponent of the a₂ factor (s+1 if a₁ = α, else r+x), k = r+x+s, B = a₁+t_x, w = (a₁−a₂)/B
∈ [0, 1) and ρ = B/(a₁+T), expanding (a₂+τ)^(−e) = (a₁+τ)^(−e) Σ (e)_n/n! (δ/(a₁+τ))^n and
integrating term by term gives

    I = B^(−k) S,   S = Σ_n P_n w^n c_n / (k+n),   P_n = (e)_n/n!,   c_n = 1 − ρ^(k+n),

every term positive (no cancellation), c_0 = −expm1(k log ρ) and c_(n+1) = (1−ρ) + ρ c_n
with 1−ρ = (T−t_x)/(a₁+T) exact, so t_x ≈ T loses nothing. The ratio of consecutive terms
of S and of ∂S/∂w = Σ n P_n w^(n−1) c_n/(k+n) beyond term n is at most
R = w · max(1, (e+n+1)/(n+1)) (because (1−ρ^j)/j falls with j), so the sum stops when the
next term of ∂S/∂w is below SERIES_TOL · (1−R) · S. Partials, with ψ_n = Σ_(j<n) 1/(e+j):

    ∂S/∂e = Σ t_n ψ_n,   ∂S/∂k = −Σ [u_n ρ^(k+n) log ρ + t_n/(k+n)],
    ∂S/∂ρ = −Σ P_n w^n ρ^(k+n−1),   (t_n the terms, u_n = t_n / c_n)
    d log(sI) = dk (−log B + S_k/S) + de S_e/S + ds/s
                + da₁ (−k/B + S_w/S (a₂+t_x)/B² + S_ρ/S (T−t_x)/(a₁+T)²) − da₂ S_w/(S B)

For CDNOW's posterior (α ≈ β, w < 0.1) it needs ~5–20 terms of a few flops each, against
16 nodes × 4 transcendentals for the quadrature; the gradient is ~2.7 × cheaper.

**The dead term by quadrature** (rows where w > SERIES_MAX_RATIO, or the series has not
converged in SERIES_MAX_TERMS terms: α and β far apart with heavy buyers). The same graded
Gauss–Legendre rule as the maths module (m = GL_GRADING, k = r+x+s, B = a₁+t_x with a₁ the
base of the larger exponent, q = (T−t_x)/B, Δ = k log1p q, y = −Δ/m, nodes
z_i = e^y L_i + U_i, u_i = z_i^(m/k)/B, c = a₂ − a₁, v_i = c u_i,
term_i = log ω_i + (m−1) log z_i − e log1p v_i, S = logsumexp term, p_i = softmax term):

    d log z_i = g_i dy,  g_i = e^y L_i / z_i
    dS = C_y dy + C_k dk + C_a₁ da₁ + C_e de + C_c dc, with h_i = e u_i / (1 + v_i) and
      C_y = Σ p_i g_i ((m−1) − h_i c m/k),   C_k = Σ p_i h_i c m log z_i / k²,
      C_a₁ = Σ p_i h_i c / B,   C_e = −Σ p_i log1p v_i,   C_c = −Σ p_i h_i
    log dead = log s − k log B + log(m/2) − log k + log1mexp(y) + S
    dy = −(log1p(q)/m) dk + k q / ((1+q) B m) da₁

and which of (α, β) is a₁ and which exponent is e follow the same branch as the formula.
The series is exact to ~1e-14 where it is used; the quadrature keeps the accuracy bounds of
docs/maths.md, so the Op is never less accurate than the maths module's formula.

**Treated customers** (:func:`treated_timing_row`, docs/maths.md "Treatment"): rates × f_λ,
f_μ from τ on. After τ the history is an untreated one at A = (α+τ)/f_λ, B = (β+τ)/f_μ on
the clock that starts at τ, so :func:`timing_row` there, scaled by f_λ^−(r+x) f_μ^−s, plus
the untreated dead term over (t_x, τ) when t_x < τ; the chain rule through A and B gives
the partials in α, β, log f_λ and log f_μ.
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: Number of Gauss-Legendre nodes; chosen from the accuracy sweep in docs/maths.md.
GL_NODES = 16
#: Grading power m of the substitution v = z^m (clusters nodes where v -> 0).
GL_GRADING = 4

_XI, _OMEGA = np.polynomial.legendre.leggauss(GL_NODES)
_LOWER = (1.0 - _XI) / 2.0
_UPPER = (1.0 + _XI) / 2.0
_LOG_OMEGA = np.log(_OMEGA)

#: The series is used when w = |α−β|/(max(α,β)+t_x) is at most this (else quadrature).
SERIES_MAX_RATIO = 0.5
#: Terms before a row falls back to quadrature (heavy buyers with α and β far apart).
SERIES_MAX_TERMS = 80
#: Stop when the bound on every remaining term is below this, relative to the sum.
SERIES_TOL = 1e-14
_INV_NATURAL = 1.0 / np.arange(1.0, SERIES_MAX_TERMS + 1.0)


@numba.njit(cache=True, error_model="numpy")
def dead_term_series(r, alpha, s, beta, x, t_x, T):  # noqa: PLR0913
    """log(s I) and its partials in (r, α, s, β) by the binomial series; ok=False if slow.

    Returns (ok, log dead, d/dr, d/dα, d/ds, d/dβ). See the module docstring.
    """
    return series_given_log_base(r, alpha, s, beta, x, t_x, T,
                                 math.log(max(alpha, beta) + t_x))


@numba.njit(cache=True, error_model="numpy")
def series_given_log_base(r, alpha, s, beta, x, t_x, T, log_b):  # noqa: PLR0913
    """:func:`dead_term_series` given log B = log(max(α, β) + t_x), shared by many rows."""
    k = r + x + s
    alpha_big = alpha >= beta
    if alpha_big:
        a1, a2, e = alpha, beta, s + 1.0
    else:
        a1, a2, e = beta, alpha, r + x
    b = a1 + t_x
    w = (a1 - a2) / b
    if w > SERIES_MAX_RATIO or e * w > 0.25 * SERIES_MAX_TERMS:
        # slow convergence (the largest term sits near n ≈ e w / (1 − w)): quadrature
        return False, 0.0, 0.0, 0.0, 0.0, 0.0
    one_m_rho = (T - t_x) / (a1 + T)
    rho = 1.0 - one_m_rho
    log_rho = -math.log1p((T - t_x) / b)
    rho_kn = math.exp(k * log_rho)
    # 1 − ρ^k loses nothing to cancellation while ρ^k ≤ 1/2; expm1 only near ρ^k = 1
    c = 1.0 - rho_kn if rho_kn <= 0.5 else -math.expm1(k * log_rho)
    p_n = 1.0  # (e)_n / n!
    dp_n = 0.0  # ∂p_n/∂e = p_n ψ_n
    w_pow = 1.0  # w^n
    w_pow_m1 = 0.0  # w^(n-1), 0 for n = 0
    s_0 = s_e = s_k = s_rho = s_w = 0.0
    inv = 1.0 / k  # 1/(k+n)
    ok = False
    # one division per term: 1/(n+1) comes from a table, ψ_n through the recurrence of ∂p_n/∂e
    for n in range(SERIES_MAX_TERMS):
        pw = p_n * w_pow
        u = pw * inv
        t = u * c
        s_0 += t
        s_e += dp_n * w_pow * c * inv
        s_k -= u * rho_kn * log_rho + t * inv
        s_rho += pw * rho_kn
        s_w += n * p_n * w_pow_m1 * c * inv
        inv_n1 = _INV_NATURAL[n]
        dp_n = (dp_n * (e + n) + p_n) * inv_n1
        p_n *= (e + n) * inv_n1
        w_pow_m1 = w_pow
        w_pow *= w
        rho_kn *= rho
        c = one_m_rho + rho * c
        inv = 1.0 / (k + n + 1.0)
        # the next term of the w-derivative bounds every tail (see the module docstring)
        ratio = w * max(1.0, (e + n + 1.0) * inv_n1)
        nxt = (n + 1.0) * p_n * w_pow_m1 * c * inv
        if n >= 1 and ratio < 1.0 and nxt < SERIES_TOL * (1.0 - ratio) * s_0:
            ok = True
            break
    s_rho = -s_rho / rho
    if not ok:
        return False, 0.0, 0.0, 0.0, 0.0, 0.0
    log_dead = math.log(s * s_0) - k * log_b
    g_k = -log_b + s_k / s_0
    g_e = s_e / s_0
    g_w = s_w / s_0
    g_a1 = -k / b + g_w * (a2 + t_x) / (b * b) + s_rho / s_0 * one_m_rho / (a1 + T)
    g_a2 = -g_w / b
    if alpha_big:
        return True, log_dead, g_k, g_a1, g_k + g_e + 1.0 / s, g_a2
    return True, log_dead, g_k + g_e, g_a2, g_k + 1.0 / s, g_a1


@numba.njit(cache=True, error_model="numpy")
def dead_term_quadrature(r, alpha, s, beta, x, t_x, T, work):  # noqa: PLR0913
    """log(s I) and its partials in (r, α, s, β) by the graded Gauss–Legendre rule.

    ``work`` is scratch space of shape (7, GL_NODES) (:func:`workspace`).
    """
    m = float(GL_GRADING)
    a = r + x
    k = a + s
    use_alpha = s + 1.0 <= a
    if use_alpha:
        a1, a2, e = alpha, beta, s + 1.0
    else:
        a1, a2, e = beta, alpha, a
    b = a1 + t_x
    q = (T - t_x) / b
    log1p_q = math.log1p(q)
    y = -k * log1p_q / m
    z_lo = math.exp(y)
    c = a2 - a1
    m_over_k = m / k
    inv_b = 1.0 / b
    n = GL_NODES
    top = -np.inf
    for i in range(n):
        z = z_lo * _LOWER[i] + _UPPER[i]
        log_z = math.log(z)
        u = math.exp(m_over_k * log_z) * inv_b
        v = c * u
        l1p = math.log1p(v)
        term = _LOG_OMEGA[i] + (m - 1.0) * log_z - e * l1p
        work[0, i] = z
        work[1, i] = log_z
        work[2, i] = u
        work[3, i] = v
        work[4, i] = l1p
        work[5, i] = term
        top = max(top, term)
    total = 0.0
    for i in range(n):
        p = math.exp(work[5, i] - top)
        work[6, i] = p
        total += p
    log_sum = top + math.log(total)
    # Σ p_i (...) accumulated unnormalised; the constant factors are applied once below
    s_y = s_k = s_h = s_e = 0.0
    for i in range(n):
        p = work[6, i]
        g = z_lo * _LOWER[i] / work[0, i]
        h = e * work[2, i] / (1.0 + work[3, i])
        s_y += p * g * ((m - 1.0) - h * c * m_over_k)
        s_k += p * h * work[1, i]
        s_h += p * h
        s_e += p * work[4, i]
    inv_total = 1.0 / total
    c_y = s_y * inv_total
    c_k = s_k * inv_total * c * m_over_k / k
    c_c = -s_h * inv_total
    c_a1 = -c_c * c * inv_b
    c_e = -s_e * inv_total
    log1mexp_y = math.log(-math.expm1(y)) if y > -math.log(2.0) else math.log1p(-math.exp(y))
    log_dead = (math.log(s) - k * math.log(b) + math.log(m / 2.0) - math.log(k)
                + log1mexp_y + log_sum)
    coef_y = -1.0 / math.expm1(-y) + c_y
    coef_k = -math.log(b) - 1.0 / k + c_k - coef_y * log1p_q / m
    coef_a1 = -k / b + c_a1 + coef_y * k * q / ((1.0 + q) * b * m) - c_c
    if use_alpha:
        return log_dead, coef_k, coef_a1, coef_k + c_e + 1.0 / s, c_c
    return log_dead, coef_k + c_e, c_c, coef_k + 1.0 / s, coef_a1


@numba.njit(cache=True, error_model="numpy")
def dead_term(r, alpha, s, beta, x, t_x, T, log_b, work):  # noqa: PLR0913
    """log(s I) and its partials in (r, α, s, β): the series, else the quadrature.

    ``log_b`` is log(max(α, β) + t_x) (:func:`series_given_log_base`); ``work`` is scratch
    space for the quadrature (:func:`workspace`). Needs T > t_x.
    """
    ok, log_dead, d0, d1, d2, d3 = series_given_log_base(r, alpha, s, beta, x, t_x, T, log_b)
    if ok:
        return log_dead, d0, d1, d2, d3
    return dead_term_quadrature(r, alpha, s, beta, x, t_x, T, work)


@numba.njit(cache=True, error_model="numpy")
def log_add(a, b):
    """log(e^a + e^b) and the weights e^a, e^b over that sum, from one exp and one log1p."""
    small = math.exp(-abs(a - b))
    w_small = small / (1.0 + small)
    if a >= b:
        return a + math.log1p(small), 1.0 - w_small, w_small
    return b + math.log1p(small), w_small, 1.0 - w_small


@numba.njit(cache=True, error_model="numpy")
def timing_row(r, alpha, s, beta, x, t_x, T, logs, work):  # noqa: PLR0913
    """Log-likelihood of one row's timing part and its partials in (r, α, s, β).

    ``logs`` are log(α+T), log(β+T) and log(max(α, β)+t_x): they depend on the row only
    through (segment, T) or (segment, t_x), so the caller computes each once for the many
    rows that share it. ``work`` is scratch space of shape (7, GL_NODES) for the
    quadrature (:func:`workspace`).
    """
    a = r + x
    log_at, log_bt, log_b = logs
    log_alive = -a * log_at - s * log_bt
    d_alive = (-log_at, -a / (alpha + T), -log_bt, -s / (beta + T))
    if not T > t_x:
        return log_alive, d_alive[0], d_alive[1], d_alive[2], d_alive[3]
    log_dead, d0, d1, d2, d3 = dead_term(r, alpha, s, beta, x, t_x, T, log_b, work)
    value, w_alive, w_dead = log_add(log_alive, log_dead)
    return (value,
            w_alive * d_alive[0] + w_dead * d0,
            w_alive * d_alive[1] + w_dead * d1,
            w_alive * d_alive[2] + w_dead * d2,
            w_alive * d_alive[3] + w_dead * d3)


@numba.njit(cache=True, error_model="numpy")
def treated_timing_row(r, alpha, s, beta, log_fl, log_fm, x, x_post, t_x, T, tau,  # noqa: PLR0913
                       work):
    """Timing log-likelihood of a customer whose rates changed at τ, and its partials.

    The purchase rate is multiplied by f_λ = e^log_fl and the dropout rate by
    f_μ = e^log_fm from τ on; x_post of the x repeat purchases are at or after τ
    (docs/maths.md, "Treatment"). On the clock that starts at τ the history is an
    untreated one at the shifted scales A = (α+τ)/f_λ, B = (β+τ)/f_μ, scaled by
    f_λ^−(r+x) f_μ^−s: :func:`timing_row` there, plus the dead term of dropping out
    between t_x and τ (when t_x < τ) at the unshifted scales.

    Returns
    -------
    tuple of float
        The log-likelihood, then its partials in r, α, s, β, log f_λ, log f_μ.
    """
    a = r + x
    f_l, f_m = math.exp(log_fl), math.exp(log_fm)
    size_a, size_b = (alpha + tau) / f_l, (beta + tau) / f_m
    t_post, T_post = max(t_x - tau, 0.0), T - tau
    logs = (math.log(size_a + T_post), math.log(size_b + T_post),
            math.log(max(size_a, size_b) + t_post))
    post, dr, da, ds, db = timing_row(r, size_a, s, size_b, x, t_post, T_post, logs, work)
    post -= a * log_fl + s * log_fm
    # chain rule through A and B: ∂A/∂α = 1/f_λ, ∂A/∂log f_λ = −A (B likewise)
    grad = (dr - log_fl, da / f_l, ds - log_fm, db / f_m,
            -size_a * da - a, -size_b * db - s)
    if not tau > t_x:
        return (post + x_post * log_fl, grad[0], grad[1], grad[2], grad[3],
                grad[4] + x_post, grad[5])
    pre, p0, p1, p2, p3 = dead_term(r, alpha, s, beta, x, t_x, tau,
                                    math.log(max(alpha, beta) + t_x), work)
    value, w_post, w_pre = log_add(post, pre)
    return (value + x_post * log_fl,
            w_post * grad[0] + w_pre * p0,
            w_post * grad[1] + w_pre * p1,
            w_post * grad[2] + w_pre * p2,
            w_post * grad[3] + w_pre * p3,
            w_post * grad[4] + x_post,
            w_post * grad[5])


@numba.njit(cache=True)
def workspace():
    """Scratch space for :func:`dead_term_quadrature` and :func:`timing_row`."""
    return np.empty((7, GL_NODES))


@numba.vectorize(["float64(float64, float64, float64, float64, float64, float64, float64)"],
                cache=True)
def log_dead_term(r, alpha, s, beta, x, t_x, T):  # noqa: PLR0913
    """log(s I), the "died between t_x and T" term, as a broadcasting NumPy ufunc.

    −inf where t_x ≥ T (no dead term). Exact to ~1e-14 where the series applies, else the
    quadrature's bounds (docs/maths.md). Memory is that of the broadcast output only.
    """
    if not T > t_x:
        return -np.inf
    ok, log_dead, _, _, _, _ = dead_term_series(r, alpha, s, beta, x, t_x, T)
    if ok:
        return log_dead
    work = workspace()
    return dead_term_quadrature(r, alpha, s, beta, x, t_x, T, work)[0]

