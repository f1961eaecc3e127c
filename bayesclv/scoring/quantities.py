"""Per posterior sample and customer: P(alive), expected purchases per period, mean spend.

Frequency quantities depend on a customer only through (segment, x, t_x, T), so they are
computed once per distinct history in the chunk and gathered back to customers.

Given a history, a customer alive at T buys in (T, T + t] like a brand-new customer with
updated parameters: λ | alive ~ Gamma(r + x, α + T), and μ | alive ~ Gamma(s, β + T)
(Pareto/NBD), p | alive ~ Beta(a, b + x) (BG/NBD) or p | alive ~ Beta(a, b + x + 1)
(MBG/NBD, which buys on as a BG/NBD customer). So the expectation given alive is the
family's ``alive_expected_purchases`` at those parameters, and the conditional expectation
is that times P(alive) (FHL 2005 eq. 10; SMC 1987).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from bayesclv.distinct import distinct
from bayesclv.maths import gammagamma_conditional_mean_spend
from bayesclv.maths.families import family
from bayesclv.models.covariates import Cells
from bayesclv.scoring.inputs import CustomerInputs, PosteriorDraws
from bayesclv.scoring.settings import ValueSettings

__all__ = [
    "Histories",
    "ProcessFactors",
    "distinct_histories",
    "expected_spend",
    "horizon_if_alive",
    "p_alive",
    "periods_if_alive",
]


@dataclass(frozen=True)
class Histories:
    """Distinct histories of a chunk, at two levels.

    ``cell, x, t_x, T`` are the distinct (cell, x, t_x, T) rows (P(alive) needs all four;
    a cell is a segment, or a segment and covariate terms) and ``inverse`` maps customers
    to them; ``ages`` are the distinct (cell, x, T) among those rows (the purchases
    expected if alive do not depend on t_x) and ``age_inverse`` maps rows to ages.
    ``cells`` is the chunk's cell table.
    """

    cell: np.ndarray
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    inverse: np.ndarray
    ages: np.ndarray
    age_inverse: np.ndarray
    cells: Cells

    def __len__(self) -> int:
        return int(self.cell.size)


def distinct_histories(chunk: CustomerInputs) -> Histories:
    """Collapse a chunk's customers to their distinct histories.

    Parameters
    ----------
    chunk
        The customers (any number; times in the fit's time unit).

    Returns
    -------
    Histories
        The distinct (cell, x, t_x, T) rows and (cell, x, T) ages, with the maps from
        customers to rows and from rows to ages.
    """
    rows = distinct(chunk.cell, chunk.x, chunk.t_x, chunk.T)
    cell, x, t_x, T = rows.columns
    ages = distinct(cell, x, T)
    return Histories(
        cell=rows.codes(0), x=x, t_x=t_x, T=T, inverse=rows.inverse,
        ages=ages.stacked().T, age_inverse=ages.inverse, cells=chunk.cells,
    )


def p_alive(post: PosteriorDraws, rows: Histories) -> np.ndarray:
    """P(alive at T | history) per sample and distinct history.

    Parameters
    ----------
    post
        The family's parameters per sample and segment.
    rows
        Distinct histories, from :func:`distinct_histories`.

    Returns
    -------
    numpy.ndarray
        Shape (samples, rows); ``[:, rows.inverse]`` gives it per customer.
    """
    return family(post.family).p_alive(*post.frequency_at(rows.cells, rows.cell), rows.x,
                                       rows.t_x, rows.T)


@dataclass(frozen=True)
class ProcessFactors:
    """Multiplicative changes of the purchase and dropout processes, per sample and segment.

    ``purchase`` scales the purchase rate λ; ``dropout`` scales the dropout rate μ
    (Pareto/NBD) or the mean dropout probability per purchase ((M)BG/NBD). Each is an array of
    shape (samples, segments); 1 means unchanged. Used to score a retention action's effect
    on the process parameters of every draw.
    """

    purchase: np.ndarray
    dropout: np.ndarray


def periods_if_alive(post: PosteriorDraws, rows: Histories, settings: ValueSettings,
                     factors: ProcessFactors | None = None) -> Iterator[np.ndarray]:
    """Expected purchases in each future period given alive at T.

    Per distinct (segment, x, T) of ``rows.ages``; generated one period at a time, so memory
    stays at a few (samples × ages) arrays.

    Parameters
    ----------
    post
        The family's parameters per sample and segment.
    rows
        Distinct histories, from :func:`distinct_histories`.
    settings
        The future periods: ``settings.boundaries`` (time units after the calibration end).
    factors
        Changes of the purchase and dropout processes (an action), or None for none.

    Yields
    ------
    numpy.ndarray
        One array of shape (samples, ages) per period: purchases expected in it if alive.
    """
    cell, x, T = rows.ages[:, 0].astype(np.int64), rows.ages[:, 1], rows.ages[:, 2]
    record = family(post.family)
    updated = record.alive_parameters(post.frequency_at(rows.cells, cell), x, T)
    if factors is not None:
        code = rows.cells.segment[cell]
        updated = record.treated_parameters(updated, factors.purchase[:, code],
                                            factors.dropout[:, code])
    expected = record.alive_expected_purchases
    previous = np.zeros((post.n_samples, cell.size))
    for end in settings.boundaries:
        cumulative = expected(*updated, end)
        yield cumulative - previous
        previous = cumulative


def horizon_if_alive(post: PosteriorDraws, rows: Histories, settings: ValueSettings,
                     factors: ProcessFactors | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Expected and discounted expected purchases over the horizon given alive at T.

    Parameters
    ----------
    post
        The family's parameters per sample and segment.
    rows
        Distinct histories, from :func:`distinct_histories`.
    settings
        The future periods and the discount factor of each.
    factors
        Changes of the purchase and dropout processes (an action), or None for none.

    Returns
    -------
    tuple of ndarray
        (purchases, discounted purchases), each of shape (samples, ages).
    """
    purchases = np.zeros((post.n_samples, len(rows.ages)))
    discounted = np.zeros_like(purchases)
    for factor, in_period in zip(settings.discount,
                                 periods_if_alive(post, rows, settings, factors), strict=True):
        purchases += in_period
        discounted += factor * in_period
    return purchases, discounted


def expected_spend(post: PosteriorDraws, chunk: CustomerInputs) -> np.ndarray:
    """Expected spend per transaction (currency): Gamma-Gamma's conditional mean, or a constant.

    With the spend model, customers with no repeat spend (n = 0) get their segment's prior
    mean p γ / (q − 1). Without it, every sample and customer gets ``value.per_purchase``
    (``post.value_per_purchase``).

    Parameters
    ----------
    post
        Posterior draws collected with a value per purchase (``need_spend``).
    chunk
        The customers.

    Returns
    -------
    numpy.ndarray
        Shape (samples, customers).

    Raises
    ------
    ValueError
        If ``post`` has neither spend draws nor a value per purchase.
    """
    spend = post.spend
    if spend is None:
        if post.value_per_purchase is None:
            raise ValueError("posterior draws were collected without a value per purchase")
        return np.full((post.n_samples, len(chunk)), post.value_per_purchase)
    g = post.spend_at(chunk.cells, chunk.cell)
    return gammagamma_conditional_mean_spend(
        g["p"], g["q"], g["gamma"], chunk.n_spend, chunk.mean_spend,
    )
