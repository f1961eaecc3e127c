"""Plot of the budget curve: what the campaign is worth at each budget, with its interval."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes

from bayesclv.errors import DataError
from bayesclv.scoring.summaries import hdi_label

__all__ = ["plot_budget_curve"]


def plot_budget_curve(curve: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Mean net incremental value against the budget, with its HDI band and break-even line.

    Parameters
    ----------
    curve
        From :func:`bayesclv.budget.budget_curve`.
    ax
        Axes to draw on (default: a new figure's).

    Returns
    -------
    matplotlib.axes.Axes
        Budget (currency) on x, net incremental value (currency) on y; the dashed line at
        0 is break-even: below it the campaign loses money.
    """
    prob = float(curve.attrs.get("hdi_prob", 0.90))
    low, high = (f"value_{hdi_label(prob)}_{end}" for end in ("low", "high"))
    missing = [c for c in ("budget", "value_mean", low, high) if c not in curve.columns]
    if missing:
        raise DataError(f"the curve has no column(s) {missing}; pass the table that "
                        "budget_curve returns")
    if ax is None:
        # pyplot picks a backend when imported: only when a figure is needed.
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    currency = curve.attrs.get("currency") or "currency"
    level = f"{round(prob * 100):g} % HDI"
    ax.fill_between(curve["budget"], curve[low], curve[high], alpha=0.3, label=level)
    ax.plot(curve["budget"], curve["value_mean"], marker="o", label="posterior mean")
    ax.axhline(0.0, color="grey", linestyle="--", linewidth=1, label="break-even")
    ax.set_xlabel(f"campaign budget ({currency})")
    ax.set_ylabel(f"net incremental value ({currency})")
    ax.set_title(f"Value by budget (criterion: {curve.attrs.get('criterion', 'mean')}, "
                 f"{level})")
    ax.legend()
    return ax
