"""Residual value per sample and customer: margin × spend × discounted purchases × P(alive).

The one place this product is formed. :func:`bayesclv.clv.clv_draws` (and the chunked
scorers) read the baseline and its ingredients; :func:`bayesclv.decision.action_values` and
the value of information read the value under an action's factors beside it. Under an
action the residual value is

    margin × spend × f_spend × D'(history) × (P(alive) + (1 − P(alive)) × ρ),

where D' is the discounted expected purchases given alive with the purchase rate and the
dropout scaled by the action's factors, and ρ the reactivation probability; with neutral
factors (1, 1, 1, 0) it is the baseline, bit for bit. Values are residual (from the
calibration end on), discounted, in currency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayesclv.scoring.inputs import CustomerInputs, PosteriorDraws
from bayesclv.scoring.quantities import (
    ProcessFactors,
    distinct_histories,
    expected_spend,
    horizon_if_alive,
    p_alive,
)
from bayesclv.scoring.settings import ValueSettings

__all__ = ["ActionFactors", "ResidualValue"]


@dataclass(frozen=True)
class ActionFactors:
    """One action's effect per sample and segment, each array (samples or 1, segments).

    ``purchase``, ``dropout`` and ``spend`` are multiplicative factors 1 + δ (1: no
    change); ``reactivation`` is the probability that a lapsed customer comes back (0: none).
    """

    purchase: np.ndarray
    dropout: np.ndarray
    spend: np.ndarray
    reactivation: np.ndarray

    @property
    def changes_purchases(self) -> bool:
        """Whether the purchase or dropout process changes (so D' must be recomputed)."""
        return bool(np.any(self.purchase != 1.0) or np.any(self.dropout != 1.0))

    def stacked(self) -> np.ndarray:
        """Array (samples, segment, process) of relative changes (and ρ), in PROCESSES order."""
        return np.stack([self.dropout - 1.0, self.purchase - 1.0, self.spend - 1.0,
                         self.reactivation], axis=-1)


class ResidualValue:
    """Residual value of a chunk of customers per sample, with or without an action.

    The quantities the value is built from (P(alive), expected and discounted expected
    purchases given alive, expected spend) are computed once, per distinct history where
    they depend on the history only; :meth:`under` recomputes only what an action changes.

    Parameters
    ----------
    post
        The family's (and spend model's) parameters per sample and segment, collected with
        a value per purchase.
    chunk
        The customers (times in the fit's time unit).
    settings
        The future periods, their discount factors and the margin.

    Attributes
    ----------
    p_alive
        P(alive at the calibration end), shape (samples, customers).
    spend
        Expected spend per purchase (currency), shape (samples, customers).
    baseline
        Residual value without an action (currency): margin × spend × discounted purchases
        given alive × P(alive), shape (samples, customers).
    """

    def __init__(self, post: PosteriorDraws, chunk: CustomerInputs,
                 settings: ValueSettings) -> None:
        self.post = post
        self.chunk = chunk
        self.settings = settings
        self.rows = distinct_histories(chunk)
        # Per distinct history (samples, rows): products formed here are gathered to
        # customers afterwards, so customers sharing a history cost nothing more.
        self._alive = p_alive(post, self.rows)
        purchases, discounted = horizon_if_alive(post, self.rows, settings)
        self._purchases = purchases[:, self.rows.age_inverse]
        self._discounted = discounted[:, self.rows.age_inverse]
        self.p_alive = self._alive[:, self.rows.inverse]
        self.spend = expected_spend(post, chunk)
        self.baseline = self.value_if_alive() * self.p_alive

    def discounted_if_alive(self) -> np.ndarray:
        """Discounted purchases expected over the horizon given alive, (samples, customers).

        Gathered from the distinct histories on each call rather than kept: one array of
        samples × customers less in memory while the chunk is scored.
        """
        return self._discounted[:, self.rows.inverse]

    def value_if_alive(self) -> np.ndarray:
        """Margin × spend × discounted purchases given alive (currency), (samples, customers)."""
        return self.settings.value.margin * self.spend * self.discounted_if_alive()

    def expected_purchases(self) -> np.ndarray:
        """Purchases expected over the horizon, P(alive) × given alive, (samples, customers)."""
        return (self._alive * self._purchases)[:, self.rows.inverse]

    def discounted_purchases(self) -> np.ndarray:
        """The same, each period's purchases discounted, (samples, customers)."""
        return (self._alive * self._discounted)[:, self.rows.inverse]

    def value_at_risk(self) -> np.ndarray:
        """(1 − P(alive)) × the value if alive (currency), (samples, customers)."""
        return (1.0 - self.p_alive) * self.value_if_alive()

    def under(self, factors: ActionFactors) -> np.ndarray:
        """Residual value under an action, before its cost (currency), (samples, customers).

        Parameters
        ----------
        factors
            The action's factors per sample (or one row for every sample) and segment.
        """
        code = self.chunk.code
        if factors.changes_purchases:
            _, changed = horizon_if_alive(self.post, self.rows, self.settings,
                                          ProcessFactors(factors.purchase, factors.dropout))
            discounted = changed[:, self.rows.age_inverse][:, self.rows.inverse]
        else:
            discounted = self.discounted_if_alive()
        reach = self.p_alive + (1.0 - self.p_alive) * factors.reactivation[:, code]
        return (self.settings.value.margin * self.spend * factors.spend[:, code]
                * discounted * reach)

    def incremental(self, factors: ActionFactors, cost: float) -> np.ndarray:
        """Value under the action − baseline − cost per customer (currency), (samples, customers).

        Parameters
        ----------
        factors
            The action's factors per sample (or one row for every sample) and segment.
        cost
            What the action costs per customer (currency).
        """
        return self.under(factors) - self.baseline - cost
