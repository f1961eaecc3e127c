"""Posterior customer lifetime value: per draw and customer, totals, periods, churn, scoring.

Pure functions of data: a :class:`~bayesclv.models.Fit` and a
:class:`~bayesclv.data.CustomerSummary` in, labelled xarray/pandas out. All values are
**residual** (from the calibration end on); see ``docs/clv.md`` for units and conventions.

>>> from bayesclv.clv import clv_draws, customer_table, customer_equity  # doctest: +SKIP
>>> draws = clv_draws(fit, summary)  # doctest: +SKIP
>>> customer_equity(draws)  # doctest: +SKIP
"""

from bayesclv.clv.chunked import (
    Scores,
    ValueTables,
    iter_scores,
    score_customers,
    score_to_parquet,
    value_tables,
)
from bayesclv.clv.churn import churn_by_segment, churn_watchlist
from bayesclv.clv.draws import VARIABLES, clv_draws
from bayesclv.clv.new_customers import new_customer_value
from bayesclv.clv.periods import period_table, value_by_period
from bayesclv.clv.predictive import predictive_clv, predictive_table
from bayesclv.clv.tables import customer_table
from bayesclv.clv.totals import customer_equity, segment_totals, totals_table
from bayesclv.scoring.settings import ValueSettings, value_settings
from bayesclv.scoring.summaries import PORTFOLIO

__all__ = [
    "PORTFOLIO",
    "VARIABLES",
    "Scores",
    "ValueTables",
    "ValueSettings",
    "churn_by_segment",
    "churn_watchlist",
    "clv_draws",
    "customer_equity",
    "customer_table",
    "iter_scores",
    "new_customer_value",
    "period_table",
    "predictive_clv",
    "predictive_table",
    "score_customers",
    "score_to_parquet",
    "segment_totals",
    "totals_table",
    "value_by_period",
    "value_settings",
    "value_tables",
]
