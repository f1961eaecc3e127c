"""bayesclv: Bayesian customer lifetime value with hierarchical models per segment.

The nouns and verbs of an analysis, from one short path:

>>> import bayesclv as clv  # doctest: +SKIP
>>> log = clv.load_cdnow("sample")  # doctest: +SKIP
>>> summary = clv.summarise(log, calibration_end="1997-09-30")  # doctest: +SKIP
>>> result = clv.fit(summary, clv.load_spec("models/cdnow.toml"))  # doctest: +SKIP
>>> clv.customer_equity(clv.clv_draws(result, summary))  # doctest: +SKIP

Everything else lives in the packages (``bayesclv.data``, ``bayesclv.models``,
``bayesclv.clv``, ``bayesclv.decision``, …). The errors are imported with the package; the
other names are imported on first use (module ``__getattr__``), so ``import bayesclv`` and
``import bayesclv.<package>`` load no more than they need (no PyMC until a name needs it).
"""

from importlib import import_module

from bayesclv.errors import BayesCLVError, ConvergenceWarning, DataError, OutputError, SpecError

__version__ = "0.1.0"

#: Public name → the package it is imported from (when the name is first used).
_LAZY: dict[str, str] = {
    "Action": "bayesclv.actions",
    "ColumnMap": "bayesclv.data",
    "CustomerSummary": "bayesclv.data",
    "Effect": "bayesclv.actions",
    "Fit": "bayesclv.models",
    "ModelSpec": "bayesclv.spec",
    "action_values": "bayesclv.decision",
    "allocate": "bayesclv.budget",
    "best_actions": "bayesclv.decision",
    "budget_curve": "bayesclv.budget",
    "build_report": "bayesclv.report",
    "churn_watchlist": "bayesclv.clv",
    "clv_draws": "bayesclv.clv",
    "compare": "bayesclv.validate",
    "customer_equity": "bayesclv.clv",
    "customer_table": "bayesclv.clv",
    "fit": "bayesclv.models",
    "holdout_report": "bayesclv.validate",
    "learn_effect": "bayesclv.decision",
    "learn_effect_from_log": "bayesclv.decision",
    "load_cdnow": "bayesclv.datasets",
    "load_spec": "bayesclv.spec",
    "plot_budget_curve": "bayesclv.budget",
    "predictive_check": "bayesclv.validate",
    "segment_decisions": "bayesclv.decision",
    "simulate_campaign": "bayesclv.budget",
    "summarise": "bayesclv.data",
    "summarise_spec": "bayesclv.pipeline",
    "value_of_information": "bayesclv.decision",
    "with_covariates": "bayesclv.data",
    "write_report": "bayesclv.report",
}

__all__ = [
    "Action",
    "BayesCLVError",
    "ColumnMap",
    "ConvergenceWarning",
    "CustomerSummary",
    "DataError",
    "Effect",
    "Fit",
    "ModelSpec",
    "OutputError",
    "SpecError",
    "action_values",
    "allocate",
    "best_actions",
    "budget_curve",
    "build_report",
    "churn_watchlist",
    "clv_draws",
    "compare",
    "customer_equity",
    "customer_table",
    "fit",
    "holdout_report",
    "learn_effect",
    "learn_effect_from_log",
    "load_cdnow",
    "load_spec",
    "plot_budget_curve",
    "predictive_check",
    "segment_decisions",
    "simulate_campaign",
    "summarise",
    "summarise_spec",
    "value_of_information",
    "with_covariates",
    "write_report",
]


def __getattr__(name: str) -> object:
    """Import a public name from its module on first use, then keep it here."""
    if name not in _LAZY:
        raise AttributeError(f"module 'bayesclv' has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names (what tab completion offers)."""
    return [*__all__, "__version__"]
