"""The Pareto/NBD timing likelihood as one fused PyTensor Op, value and gradient in one pass.

:func:`bayesclv.maths.paretonbd_timing_loglik` defines the quantity; written as a PyTensor
graph it costs ~7–9 ms per gradient on CDNOW master (9 segments, 9,364 rows × 16 nodes):
every node-level intermediate is an array of its own, the gradient walks them all again,
and the per-row gather of segment parameters and the scatter of their gradients add
indexing ops (whose numba compilation alone took ~4 s per model). This Op does the same
in one numba loop over the rows (the row kernel of :mod:`bayesclv.maths.paretonbd_kernel`:
a positive series for the dead term, quadrature where α and β are far apart), gathering
each row's segment parameters and accumulating the weighted log-likelihood and its four
partial derivatives per segment as it goes: ~2 ms per gradient on CDNOW master.
``tests/models/test_paretonbd_op.py`` checks values against adaptive quadrature and
gradients against finite differences and the PyTensor graph of the maths formula.

Customers an action reached at τ (:mod:`bayesclv.models.treatment`) go through a second Op,
:func:`pareto_nbd_treated_timing`, on the treated row kernel (the same series and
quadrature at per-row shifted α, β) with the gradient in log f_λ, log f_μ as well: on
the 2,687 treated customers of ``bench/bench_treatment.py`` it takes a quarter of the time
of the PyTensor graph of :func:`bayesclv.maths.paretonbd_treated_timing_loglik` (1.6–2.0
against 6.6–7.6 ms per gradient, side by side on a loaded machine). Checked in
``tests/models/test_paretonbd_treatment_op.py``.
"""

from __future__ import annotations

import numba
import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, disconnected_type, grad_not_implemented
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch import numba_funcify

from bayesclv.distinct import distinct
from bayesclv.maths.paretonbd_kernel import timing_row, treated_timing_row, workspace


@numba.njit(cache=True, error_model="numpy")
def timing_loglik_and_grad(r, alpha, s, beta, segment, x, t_x, T, weight,  # noqa: PLR0913
                           at_T, T_pairs, at_t_x, t_x_pairs):
    """Σ weight × timing log-likelihood over rows, and its gradient per segment.

    Parameters
    ----------
    r, alpha, s, beta
        Pareto/NBD parameters per segment, shape (segments,); α, β in time units.
    segment
        Each row's segment index (int64).
    x, t_x, T, weight
        Each row's history (time units) and its number of customers.
    at_T, T_pairs
        Each row's index among the distinct (segment, T) pairs, and those pairs as a
        (2, pairs) float array (:func:`bayesclv.distinct.distinct`).
    at_t_x, t_x_pairs
        The same for (segment, t_x).

    Returns
    -------
    (ndarray, ndarray, ndarray, ndarray, ndarray)
        The 0-d total, then its partial derivatives in r, α, s, β, shape (segments,).
    """
    n_seg = r.shape[0]
    # the logarithms shared by rows: once per distinct (segment, T) and (segment, t_x)
    g_T = T_pairs[0].astype(np.int64)
    log_alpha_T = np.log(alpha[g_T] + T_pairs[1])
    log_beta_T = np.log(beta[g_T] + T_pairs[1])
    log_base = np.log(np.maximum(alpha, beta)[t_x_pairs[0].astype(np.int64)] + t_x_pairs[1])
    grads = np.zeros((4, n_seg))
    work = workspace()
    total = 0.0
    for j in range(segment.shape[0]):
        g = segment[j]
        logs = (log_alpha_T[at_T[j]], log_beta_T[at_T[j]], log_base[at_t_x[j]])
        value, dr, da, ds, db = timing_row(r[g], alpha[g], s[g], beta[g], x[j], t_x[j], T[j],
                                           logs, work)
        w = weight[j]
        total += w * value
        grads[0, g] += w * dr
        grads[1, g] += w * da
        grads[2, g] += w * ds
        grads[3, g] += w * db
    return (np.asarray(total), grads[0].copy(), grads[1].copy(), grads[2].copy(),
            grads[3].copy())


@numba.njit(cache=True, error_model="numpy")
def treated_timing_loglik_and_grad(r, alpha, s, beta, log_fl, log_fm,  # noqa: PLR0913
                                   segment, x, x_post, t_x, T, tau, weight):
    """Σ weight × timing log-likelihood of treated rows, and its gradient per segment.

    Parameters
    ----------
    r, alpha, s, beta
        Pareto/NBD parameters per segment, shape (segments,); α, β in time units.
    log_fl, log_fm
        log f_λ and log f_μ per segment: the factors on the purchase and dropout rates from
        τ on.
    segment
        Each row's segment index (int64).
    x, x_post, t_x, T, tau, weight
        Each row's history (time units; x_post of the x repeat purchases at or after τ),
        the time τ the action reached it and its number of customers.

    Returns
    -------
    tuple of ndarray
        The 0-d total, then its partial derivatives in r, α, s, β, log f_λ, log f_μ, shape
        (segments,).
    """
    grads = np.zeros((6, r.shape[0]))
    work = workspace()
    total = 0.0
    for j in range(segment.shape[0]):
        g = segment[j]
        out = treated_timing_row(r[g], alpha[g], s[g], beta[g], log_fl[g], log_fm[g], x[j],
                                 x_post[j], t_x[j], T[j], tau[j], work)
        w = weight[j]
        total += w * out[0]
        for i in range(6):
            grads[i, g] += w * out[i + 1]
    return (np.asarray(total), grads[0].copy(), grads[1].copy(), grads[2].copy(),
            grads[3].copy(), grads[4].copy(), grads[5].copy())


class _FusedLoglik(Op):
    """A weighted log-likelihood sum whose gradient in its first ``n_params`` inputs (the
    per-segment parameters) is computed with it, as further outputs; the other inputs are
    constant row data. Only the total is meant to be differentiated (once): asking for
    second derivatives gives PyTensor's "not implemented" gradient.
    """

    __props__ = ()
    n_params: int
    n_data: int

    def connection_pattern(self, node) -> list[list[bool]]:
        n_out = self.n_params + 1
        return [[True] * n_out] * self.n_params + [[False] * n_out] * self.n_data

    def pullback(self, inputs, outputs, cotangents):
        params, data = inputs[:self.n_params], inputs[self.n_params:]
        if not all(isinstance(c.type, DisconnectedType) for c in cotangents[1:]):
            # the gradient outputs would need second derivatives, which NUTS never asks for
            return [
                grad_not_implemented(self, i, v, "second derivatives")
                for i, v in enumerate(params)
            ] + [disconnected_type() for _ in data]
        return [cotangents[0] * g for g in outputs[1:]] + [disconnected_type() for _ in data]


class ParetoNBDTiming(_FusedLoglik):
    """Weighted sum of Pareto/NBD timing log-likelihoods, with its gradient as outputs.

    Inputs: r, α, s, β per segment (vectors), then constant row data: segment index, x,
    t_x, T, weight and the rows' distinct (segment, T) and (segment, t_x) pairs
    (:func:`pareto_nbd_timing` derives them). Outputs: the scalar total, then ∂total/∂r,
    ∂α, ∂s, ∂β.
    """

    n_params = 4
    n_data = 9

    def make_node(self, r, alpha, s, beta, segment, x, t_x, T, weight,  # noqa: PLR0913
                  at_T, T_pairs, at_t_x, t_x_pairs) -> Apply:
        params = [pt.as_tensor_variable(v, dtype="float64") for v in (r, alpha, s, beta)]
        data = [pt.as_tensor_variable(segment, dtype="int64")]
        data += [pt.as_tensor_variable(v, dtype="float64") for v in (x, t_x, T, weight)]
        data += [pt.as_tensor_variable(at_T, dtype="int64"),
                 pt.as_tensor_variable(T_pairs, dtype="float64"),
                 pt.as_tensor_variable(at_t_x, dtype="int64"),
                 pt.as_tensor_variable(t_x_pairs, dtype="float64")]
        outputs = [pt.dscalar()] + [pt.dvector() for _ in params]
        return Apply(self, params + data, outputs)

    def perform(self, node, inputs, output_storage) -> None:
        for storage, value in zip(output_storage, timing_loglik_and_grad(*inputs), strict=True):
            storage[0] = value


class ParetoNBDTreatedTiming(_FusedLoglik):
    """Weighted sum of treated customers' Pareto/NBD timing log-likelihoods, with gradient.

    Inputs: r, α, s, β, log f_λ, log f_μ per segment (vectors), then constant row data:
    segment index, x, x_post, t_x, T, τ and weight. Outputs: the scalar total, then its
    partial derivatives in the six parameters.
    """

    n_params = 6
    n_data = 7

    def make_node(self, r, alpha, s, beta, log_fl, log_fm,  # noqa: PLR0913
                  segment, x, x_post, t_x, T, tau, weight) -> Apply:
        params = [pt.as_tensor_variable(v, dtype="float64")
                  for v in (r, alpha, s, beta, log_fl, log_fm)]
        data = [pt.as_tensor_variable(segment, dtype="int64")]
        data += [pt.as_tensor_variable(v, dtype="float64") for v in (x, x_post, t_x, T, tau,
                                                                     weight)]
        outputs = [pt.dscalar()] + [pt.dvector() for _ in params]
        return Apply(self, params + data, outputs)

    def perform(self, node, inputs, output_storage) -> None:
        for storage, value in zip(output_storage, treated_timing_loglik_and_grad(*inputs),
                                  strict=True):
            storage[0] = value


@numba_funcify.register(ParetoNBDTiming)
def _numba_pareto_nbd_timing(op, node=None, **kwargs):
    return timing_loglik_and_grad


@numba_funcify.register(ParetoNBDTreatedTiming)
def _numba_pareto_nbd_treated_timing(op, node=None, **kwargs):
    return treated_timing_loglik_and_grad


_TIMING = ParetoNBDTiming()
_TREATED_TIMING = ParetoNBDTreatedTiming()


def pareto_nbd_timing(r, alpha, s, beta, segment, x, t_x, T, weight) -> list[pt.TensorVariable]:  # noqa: PLR0913
    """The fused Op applied to per-segment parameters and constant row data.

    Parameters
    ----------
    r, alpha, s, beta
        Tensors of the parameters per segment.
    segment, x, t_x, T, weight
        NumPy arrays of the rows (segment index, history in time units, customers).

    Returns
    -------
    list of TensorVariable
        The scalar total, then its gradient in r, α, s, β (only the total is to be
        differentiated).
    """
    segment = np.asarray(segment, dtype=np.int64)
    at_T, at_t_x = distinct(segment, T), distinct(segment, t_x)
    return _TIMING(r, alpha, s, beta, segment, x, t_x, T, weight,
                   at_T.inverse, at_T.stacked(), at_t_x.inverse, at_t_x.stacked())


def pareto_nbd_treated_timing(r, alpha, s, beta, log_f_purchase, log_f_dropout,  # noqa: PLR0913
                              segment, x, x_post, t_x, T, tau,
                              weight) -> list[pt.TensorVariable]:
    """The fused treated-customer Op applied to per-segment parameters and row data.

    The timing part of :func:`bayesclv.maths.paretonbd_treated_timing_loglik`, weighted and
    summed over rows; add the count part (unchanged by the factors) for the whole
    log-likelihood.

    Parameters
    ----------
    r, alpha, s, beta
        Tensors of the Pareto/NBD parameters per segment (α, β in time units).
    log_f_purchase, log_f_dropout
        Tensors of log f_λ, log f_μ per segment: the factors on the purchase and dropout
        rates from τ on.
    segment, x, x_post, t_x, T, tau, weight
        NumPy arrays of the rows: segment index, repeat purchases, how many of them at or
        after τ, time of the last one, length of the observation, time the action reached
        the customer (since the first purchase, time units; ``0 <= tau <= T``, and
        ``tau <= t_x`` whenever ``x_post > 0``) and number of customers.

    Returns
    -------
    list of TensorVariable
        The scalar total, then its gradient in r, α, s, β, log f_λ, log f_μ (only the total
        is to be differentiated).
    """
    return _TREATED_TIMING(r, alpha, s, beta, log_f_purchase, log_f_dropout,
                           np.asarray(segment, dtype=np.int64), x, x_post, t_x, T, tau, weight)
