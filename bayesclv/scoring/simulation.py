"""Simulated futures of customers: purchases and spend per future period, per posterior draw.

Per posterior draw and customer, given the history (x, t_x, T) and n repeat spends of mean
zbar:

* alive at T with probability P(alive); a dead customer buys nothing more;
* if alive, λ ~ Gamma(r + x, rate α + T); Pareto/NBD: μ ~ Gamma(s, rate β + T) and the
  remaining lifetime is Exponential(μ) (memoryless); BG/NBD: p ~ Beta(a, b + x) and the
  customer drops out right after each future purchase with probability p, so at most
  K ~ Geometric(p) more purchases happen; MBG/NBD: the same with p ~ Beta(a, b + x + 1);
* purchases while alive are Poisson(λ) in time;
* spend: ν ~ Gamma(q + p·n, rate γ + n·zbar) and each purchase is Gamma(p, rate ν), so the
  N purchases of a period total Gamma(N·p, rate ν); without a spend model, N purchases
  total N × ``value.per_purchase``.

The conditional posteriors follow from the alive branch of each likelihood, λ^x e^{−λT}
× e^{−μT} (Pareto/NBD), × (1 − p)^x (BG/NBD) or × (1 − p)^(x+1) (MBG/NBD); the family
record's ``alive_parameters`` and ``alive_future`` hold them. The mean of the simulated
purchases matches the closed-form conditional expectation (tested by Monte Carlo).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from bayesclv.maths.families import family
from bayesclv.scoring.inputs import CustomerInputs, PosteriorDraws
from bayesclv.scoring.quantities import distinct_histories, p_alive

__all__ = ["simulate_periods"]


def simulate_periods(post: PosteriorDraws, chunk: CustomerInputs, boundaries: np.ndarray,
                     rng: np.random.Generator, alive_probability: np.ndarray | None = None,
                     ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Simulated purchases and their total spend in each future period.

    Parameters
    ----------
    post
        Posterior draws (with or without the spend model).
    chunk
        The customers.
    boundaries
        End of each future period, in time units after the calibration end.
    rng
        The random generator (consumed in a fixed order, so a seed reproduces the draws).
    alive_probability
        P(alive at T) per sample and customer (samples, customers), when the caller has it
        already; computed here otherwise.

    Yields
    ------
    tuple of numpy.ndarray
        One ``(purchases, spend)`` pair per period, each (samples, customers); spend
        (currency) is purchases × ``post.value_per_purchase`` when the posterior has no
        spend model, zeros when it has no value per purchase either.
    """
    if alive_probability is None:
        rows = distinct_histories(chunk)
        alive_probability = p_alive(post, rows)[:, rows.inverse]
    alive = rng.random((post.n_samples, len(chunk))) < alive_probability
    record = family(post.family)
    params = record.alive_parameters(post.frequency_at(chunk.cells, chunk.cell), chunk.x,
                                     chunk.T)
    future = record.alive_future(rng, params, alive)
    nu = None
    per_purchase = post.value_per_purchase if post.value_per_purchase is not None else 0.0
    if post.spend is not None:
        g = post.spend_at(chunk.cells, chunk.cell)
        nu = rng.gamma(g["q"] + g["p"] * chunk.n_spend,
                       1.0 / (g["gamma"] + chunk.n_spend * chunk.mean_spend))
    start = 0.0
    for end in boundaries:
        bought = future.purchases(start, end)
        start = end
        spend = rng.gamma(bought * g["p"], 1.0 / nu) if nu is not None else per_purchase * bought
        yield bought, spend
