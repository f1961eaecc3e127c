"""Decisions under uncertainty: rank retention actions by their incremental value.

An :class:`~bayesclv.actions.Action` has a cost and an uncertain effect on the processes
behind CLV. :func:`action_values` scores every action on every customer per posterior draw
(parameter and effect uncertainty together); the tables rank actions per customer and per
segment by expected value or a risk-aware criterion; :func:`value_of_information` says where
a test campaign would pay before a roll-out; :func:`learn_effect_from_log` learns an
action's purchase, dropout and spend effects from an experiment's transaction log, and
:func:`learn_effect` updates one effect from an experiment's outcome table. Budgets:
:mod:`bayesclv.budget`. Units and definitions: ``docs/decision.md``.

>>> values = action_values(fit, summary)  # doctest: +SKIP
>>> best_actions(values)  # doctest: +SKIP
"""

from bayesclv.actions import BASELINE, Action, BudgetSpec, Effect, Eligibility
from bayesclv.decision.criteria import CRITERIA, Criterion, score
from bayesclv.decision.experiment import LearnedEffect, learn_effect
from bayesclv.decision.information import value_of_information
from bayesclv.decision.tables import best_actions, decision_table, segment_decisions
from bayesclv.decision.treatment import LearnedTreatment, learn_effect_from_log
from bayesclv.decision.values import action_values

__all__ = [
    "BASELINE",
    "CRITERIA",
    "Action",
    "BudgetSpec",
    "Criterion",
    "Effect",
    "Eligibility",
    "LearnedEffect",
    "LearnedTreatment",
    "action_values",
    "best_actions",
    "decision_table",
    "learn_effect",
    "learn_effect_from_log",
    "score",
    "segment_decisions",
    "value_of_information",
]
