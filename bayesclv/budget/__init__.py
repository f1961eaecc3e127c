"""Budgets: allocate retention actions under a campaign budget and simulate the outcome.

Action values (dims chain, draw, customer, action; from
:func:`bayesclv.decision.action_values`) in; an :class:`Allocation` (at most one action per
customer, spend within the budget), its simulated :class:`CampaignOutcome` (net value, ROI,
P(loss), by segment and action) and the value-by-budget curve out. Rules, the greedy's gap,
units: ``docs/budget.md``.

>>> plan = allocate(values, 5_000.0)  # doctest: +SKIP
>>> simulate_campaign(values, plan).summary  # doctest: +SKIP
>>> plot_budget_curve(budget_curve(values))  # doctest: +SKIP
"""

from bayesclv.budget.allocate import Allocation, allocate
from bayesclv.budget.campaign import CampaignOutcome, simulate_campaign
from bayesclv.budget.curve import budget_curve
from bayesclv.budget.plots import plot_budget_curve

__all__ = [
    "Allocation",
    "CampaignOutcome",
    "allocate",
    "budget_curve",
    "plot_budget_curve",
    "simulate_campaign",
]
