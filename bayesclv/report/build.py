"""Build a finance report pack from a fit: what the customers are worth, and what to do.

Two sections, each a list of titled tables (and figures) computed once:

* **value**: posterior parameters, customer equity per segment, value per future period,
  per-customer CLV, churn per segment and the watchlist, and the holdout check;
* **decisions** (when the spec has actions): each action per segment, the best action per
  customer, the value of information, and — with a budget — the campaign plan, its
  simulated outcome and the value-vs-budget curve.

Every money column is in the spec's currency; every interval is an HDI at the spec's
``value.hdi_prob``; both are stated in each table's title.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from bayesclv import __version__
from bayesclv.actions import BudgetSpec
from bayesclv.clv import (
    PORTFOLIO,
    period_table,
    value_by_period,
    value_tables,
)
from bayesclv.data import CustomerSummary
from bayesclv.errors import SpecError
from bayesclv.models import Fit
from bayesclv.models.convergence import Convergence
from bayesclv.models.fit import Customers
from bayesclv.report.pack import ReportFigure, ReportPack, ReportTable, report_time
from bayesclv.scoring.summaries import hdi_label
from bayesclv.spec import ModelSpec

__all__ = ["Section", "build_report", "decision_section", "pack_sections", "value_section"]

Step = Callable[[str], None]
#: Posterior draws the value tables and the holdout check use, at least: the chains are
#: thinned evenly toward it (every k-th draw, k = ⌊draws / REPORT_SAMPLES⌋). Their cost grows
#: with every draw × customer (CDNOW master, 2,400 draws: 23 s to score the customers, 31 s
#: for the holdout check), their Monte Carlo error little beyond ~1,000 draws: thinning
#: 2,400 to 1,200 moved the portfolio's holdout coverage by 0.1 points and its predicted
#: mean by 0.03 % (segments' coverage by at most 1.1 points, each segment's simulated
#: futures being Monte Carlo draws themselves).
REPORT_SAMPLES = 1_000


def report_thin(fit: Fit) -> int:
    """Every how many draws the value tables and the holdout check keep (≥ 1)."""
    sizes = fit.parameters().sizes
    return max(1, sizes["chain"] * sizes["draw"] // REPORT_SAMPLES)


#: How the report writes a parameter's name (the others as named).
_SYMBOLS = {"alpha": "α", "beta": "β", "gamma": "γ"}


def _time_scales(fit: Fit) -> str:
    """The family's parameters in the fit's time unit, e.g. ``"α, β per week"``.

    Read from the family record (:attr:`bayesclv.maths.families.Family.time_scales`): α and β
    for Pareto/NBD, α alone for BG/NBD and MBG/NBD.
    """
    names = ", ".join(_SYMBOLS.get(name, name) for name in fit.family.maths.time_scales)
    return f"{names} per {fit.time_unit.removesuffix('s')}"


def _quiet(_: str) -> None:
    """The default ``on_step``: say nothing."""


@dataclass(frozen=True)
class Section:
    """Tables and figures of one part of a report, in reading order, and what it covers."""

    name: str
    tables: tuple[ReportTable, ...]
    figures: tuple[ReportFigure, ...] = ()


def build_report(
    fit: Fit,
    summary: CustomerSummary,
    spec: ModelSpec | None = None,
    *,
    budget: float | None = None,
    criterion: str | None = None,
    thin: int = 4,
    top: int = 100,
    seed: int | None = None,
    customers: Customers = "fitted",
    on_step: Step = _quiet,
) -> ReportPack:
    """The finance pack of a fit: facts, warnings, value tables and, with actions, decisions.

    Parameters
    ----------
    fit
        A fit (NUTS or MAP) with a spend model, or without one when the spec gives
        ``value.per_purchase``.
    summary
        The customers it was fitted on, or some of them (with holdout columns for the
        holdout check); other customers with ``customers="new"``.
    spec
        Value settings, actions and budget (default: the fit's own spec).
    budget
        Campaign budget in currency, overriding the spec's ``budget.amount``; without either
        the pack has no campaign plan.
    criterion
        Ranking criterion overriding the spec's (``mean``, ``quantile``, ``mean_minus_sd``,
        ``cvar``).
    thin
        Keep every ``thin``-th posterior draw for the decision tables.
    top
        Rows of the churn watchlist.
    seed
        Seed of the action-effect draws (default: the spec's ``sampler.seed``); pass the
        seed of an earlier ``action_values`` call to reproduce its numbers exactly.
    customers
        ``"fitted"`` (default): the customers the fit saw, with the histories it saw;
        ``"new"``: customers or histories it did not see (new customers, a later snapshot),
        which the pack's facts then say (:func:`bayesclv.models.fit.check_customers`).
    on_step
        Called with a short description before each computation (e.g. to update a
        progress display).

    Returns
    -------
    ReportPack
        Write it with :func:`bayesclv.report.write_report`.
    """
    spec = spec if spec is not None else fit.spec
    sections = [value_section(fit, summary, spec, top=top, customers=customers,
                              on_step=on_step)]
    if spec.actions:
        sections.append(decision_section(fit, summary, spec, budget=budget,
                                         criterion=criterion, thin=thin, seed=seed,
                                         customers=customers, on_step=on_step))
    return pack_sections(fit, summary, spec, sections, customers=customers)


def pack_sections(fit: Fit, summary: CustomerSummary, spec: ModelSpec,
                  sections: Sequence[Section], *,
                  customers: Customers = "fitted") -> ReportPack:
    """A pack of ``sections`` (in order) with the fit's facts and warnings; ``customers``
    as for :func:`build_report`."""
    convergence = fit.convergence()
    generated = report_time()
    return ReportPack(
        title=f"{spec.name}: {' and '.join(section.name for section in sections)}",
        facts=report_facts(fit, summary, spec, convergence, generated, customers=customers),
        tables=tuple(t for section in sections for t in section.tables),
        figures=tuple(f for section in sections for f in section.figures),
        warnings=fit_warnings(convergence, fit.method),
        generated=generated,
    )


def report_facts(fit: Fit, summary: CustomerSummary, spec: ModelSpec,
                 convergence: Mapping[str, Convergence],
                 generated: datetime, *,
                 customers: Customers = "fitted") -> tuple[tuple[str, str], ...]:
    """What the numbers are: model, data window, value settings, intervals, convergence.

    ``generated`` is the pack's time stamp (:func:`bayesclv.report.pack.report_time`);
    ``customers="new"`` says the customers are not those the fit saw.
    """
    value = spec.value
    sizes = fit.parameters().sizes
    thin = report_thin(fit)
    used = sizes["chain"] * len(range(0, sizes["draw"], thin))
    spend = fit.spend_parameters().sizes if fit.spend is not None else sizes
    method = (f"NUTS: {sizes['chain']} chains × {sizes['draw']} draws kept"
              + (f" (spend model: {spend['chain']} × {spend['draw']})" if spend != sizes else "")
              + (f"; the value tables and the holdout check use {used:,} of them (one draw "
                 f"in {thin} of each chain)" if thin > 1 else "")
              if fit.method == "nuts" else "MAP (posterior mode, no intervals)")
    segments = summary.frame["segment"].cat.categories
    holdout = ("none" if summary.holdout_end is None else
               f"{summary.calibration_end.date()} – {summary.holdout_end.date()} (exclusive "
               "start, inclusive end)")
    rates = "rates" if len(fit.family.maths.time_scales) > 1 else "rate"
    facts = [
        ("model", f"{fit.spec.name}: {fit.family.name}"
                  f"{' + Gamma-Gamma spend' if fit.spend is not None else ''}"),
        ("fit", method),
        ("data", str(spec.data.source)),
        ("customers", f"{summary.n_customers:,} in {len(segments)} segment(s): "
                      f"{', '.join(map(str, segments))}"
                      + ("; not those the fit saw (scored as new customers with a fit of other "
                         "data)" if customers == "new" else "")),
        ("calibration end", f"{summary.calibration_end.date()} (inclusive)"),
        ("holdout", holdout),
        ("time unit", f"{fit.time_unit} ({rates} {_time_scales(fit)})"),
        ("value", f"residual CLV over {value.horizon_months:g} months from the calibration end, "
                  f"margin {value.margin:.0%}, discount {value.annual_discount_rate:.0%} per "
                  f"year, per {value.period}"),
        ("currency", value.currency),
        *([("value per purchase",
            f"{value.per_purchase:,g} {value.currency} for every purchase of every customer, in "
            "every draw (value.per_purchase: there is no spend model, so expected spend is "
            "this and revenue is this × purchases)")]
          if value.per_purchase is not None else []),
        ("intervals", f"{value.hdi_prob:.0%} highest-density intervals (HDI) of the posterior; "
                      "totals use the HDI of per-draw sums"),
    ]
    for part, diagnosis in convergence.items():
        table = diagnosis.table
        facts.append((f"convergence ({part})",
                      f"{'converged' if diagnosis.ok else 'NOT CONVERGED'}: max R-hat "
                      f"{table['r_hat'].max():.3f}, min bulk ESS {table['ess_bulk'].min():.0f}, "
                      f"{diagnosis.divergences} divergences"))
    excluded = {k: v for k, v in summary.exclusions.items() if v}
    facts.append(("excluded from the data",
                  "; ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in excluded.items())
                  or "nothing"))
    facts.append(("generated", f"{generated:%Y-%m-%d %H:%M} by bayesclv {__version__}"))
    return tuple(facts)


def fit_warnings(convergence: Mapping[str, Convergence], method: str) -> tuple[str, ...]:
    """Problems a reader must see before any number: failed diagnostics, a point estimate.

    ``convergence`` is :meth:`Fit.convergence`'s result, ``method`` the fit's method.
    """
    warnings = [
        f"The {part} model did NOT converge: {'; '.join(c.problems)}. Do not base decisions "
        "on these numbers; refit with more tuning and draws or a higher target_accept."
        for part, c in convergence.items() if not c.ok
    ]
    if method == "map":
        warnings.append("This is a MAP fit: one point, no parameter uncertainty. Intervals "
                        "collapse to the point; use NUTS for numbers with error bars.")
    return tuple(warnings)


def value_section(fit: Fit, summary: CustomerSummary, spec: ModelSpec | None = None, *,
                  top: int = 100, customers: Customers = "fitted",
                  on_step: Step = _quiet) -> Section:
    """Parameters, customer equity, value per period, per-customer CLV, churn and holdout.

    Parameters
    ----------
    fit, summary, spec, top, customers, on_step
        As for :func:`build_report`.
    """
    spec = spec if spec is not None else fit.spec
    value = spec.value
    money, level = value.currency, f"{value.hdi_prob:.0%} HDI"
    per_purchase = ("" if value.per_purchase is None
                    else f", every purchase {value.per_purchase:,g} {money}")
    terms = (f"{money}, residual over {value.horizon_months:g} months{per_purchase}, margin "
             f"{value.margin:.0%}, discount {value.annual_discount_rate:.0%}/year; {level}")
    gamma = f", {_SYMBOLS['gamma']} in {money}" if fit.spend is not None else ""
    thin = report_thin(fit)
    on_step("scoring customers")
    scored = value_tables(fit, summary, value=value, thin=thin, top=top, customers=customers)
    label = hdi_label(value.hdi_prob)
    equity = scored.equity
    tables = [
        ReportTable("parameters", f"posterior parameters per segment ({level}; "
                    f"{_time_scales(fit)}{gamma})", fit.summary(value.hdi_prob),
                    note="r_hat and ess_bulk: convergence diagnostics (R-hat ≤ 1.01 and bulk "
                         "ESS ≥ 400 are the usual thresholds)."),
        ReportTable("customer_equity", f"customer equity per segment: {terms}",
                    equity,
                    note="clv: discounted margin of future purchases. value_at_risk: "
                         "(1 − P(alive)) × value if alive. Totals are HDIs of per-draw sums, "
                         "not sums of customers' intervals."),
    ]
    on_step("value per future period")
    periods = period_table(value_by_period(fit, summary, value=value, thin=thin,
                                           customers=customers),
                           hdi_prob=value.hdi_prob)
    tables.append(ReportTable(
        "value_by_period", f"expected purchases, revenue and margin per {value.period} and "
        f"segment ({money}; {level})", periods,
        note=f"period_end in {fit.time_unit} after the calibration end; revenue before margin, "
             "margin undiscounted and discounted."))
    rows = scored.customers
    tables.append(ReportTable(
        "customer_clv", f"per customer: P(alive), expected purchases and CLV ({terms})",
        rows, percent=tuple(c for c in rows.columns if c.startswith("p_alive"))))
    tables.append(ReportTable(
        "churn_by_segment", f"churn per segment: customers with mean P(alive) < 50 % and "
        f"the value at risk ({money}; {level})", scored.churn,
        percent=("share_of_value_at_risk",)))
    tables.append(ReportTable(
        "churn_watchlist", f"churn watchlist: the {top} customers with the most value at risk "
        f"({money}; {level})", scored.watchlist, percent=("p_alive_mean",)))
    if summary.holdout_end is not None:
        from bayesclv.validate.holdout import holdout_report

        on_step("checking the holdout period")
        metrics = holdout_report(fit, summary, interval=value.hdi_prob, thin=thin,
                                 customers=customers).metrics
        tables.append(ReportTable(
            "holdout_metrics", f"holdout {summary.calibration_end.date()} – "
            f"{summary.holdout_end.date()}: predicted vs actual repeat purchases per customer",
            metrics, percent=("coverage", "coverage_inclusive"),
            note=f"coverage: share of customers inside their central {value.hdi_prob:.0%} "
                 "predictive interval (should be close to it). total_low/high: interval of the "
                 "segment's total holdout purchases."))
    figure = _equity_figure(equity, label, money, level)
    return Section("customer lifetime value", tuple(tables), (ReportFigure(
        "equity_by_segment", f"customer equity per segment with its {level} ({money})", figure,
        note="Points: posterior mean; bars: HDI. The portfolio is shown apart."),))


def _equity_figure(equity: pd.DataFrame, label: str, money: str, level: str) -> Figure:
    segments = equity.drop(index=PORTFOLIO, errors="ignore")
    figure = Figure(figsize=(7.0, 0.45 * len(segments) + 1.6))
    axes = figure.subplots()
    positions = range(len(segments))
    mean = segments["clv_mean"]
    low, high = segments[f"clv_{label}_low"], segments[f"clv_{label}_high"]
    axes.errorbar(mean, positions, xerr=[mean - low, high - mean], fmt="o", capsize=3)
    axes.set_yticks(list(positions), [str(s) for s in segments.index])
    axes.invert_yaxis()
    axes.set_xlabel(f"customer equity ({money}), {level}")
    axes.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    if PORTFOLIO in equity.index:
        row = equity.loc[PORTFOLIO]
        axes.set_title(f"portfolio: {row['clv_mean']:,.0f} {money} "
                       f"[{row[f'clv_{label}_low']:,.0f}, {row[f'clv_{label}_high']:,.0f}]",
                       fontsize=10)
    axes.grid(axis="x", alpha=0.3)
    return figure


def decision_section(fit: Fit, summary: CustomerSummary, spec: ModelSpec | None = None, *,
                     budget: float | None = None, criterion: str | None = None, thin: int = 4,
                     seed: int | None = None, customers: Customers = "fitted",
                     on_step: Step = _quiet) -> Section:
    """Actions per segment and customer, value of information and, with a budget, the plan.

    Parameters
    ----------
    fit, summary, spec, budget, criterion, thin, seed, customers, on_step
        As for :func:`build_report`.

    Raises
    ------
    SpecError
        If the spec has no actions.
    """
    from bayesclv.budget import allocate, budget_curve, plot_budget_curve, simulate_campaign
    from bayesclv.decision import (
        Criterion,
        action_values,
        best_actions,
        segment_decisions,
        value_of_information,
    )

    spec = spec if spec is not None else fit.spec
    if not spec.actions:
        raise SpecError(f"spec {spec.name!r} has no [[actions]]: nothing to decide")
    plan = spec.budget
    if budget is not None:
        plan = replace(plan, amount=budget) if plan is not None else BudgetSpec(amount=budget)
    name = criterion or (plan.criterion if plan is not None else "mean")
    rule = Criterion(name, plan.criterion_parameter
                     if plan is not None and name == plan.criterion else None)
    seed = spec.sampler.seed if seed is None else seed
    value = spec.value
    money, level = value.currency, f"{value.hdi_prob:.0%} HDI"
    terms = (f"{money} of residual CLV over {value.horizon_months:g} months net of cost; "
             f"{level}; ranked by {rule.label}")
    on_step("scoring actions per draw and customer")
    values = action_values(fit, summary, spec.actions, value=value, thin=thin, seed=seed,
                           customers=customers)
    best = best_actions(values, criterion=rule)
    counts = pd.crosstab(best["segment"], best["best_action"], margins=True,
                         margins_name="total")
    counts.columns.name = None
    tables = [
        ReportTable("decisions_by_segment", f"each action if every eligible customer got it: "
                    f"{terms}", segment_decisions(values, criterion=rule),
                    percent=("p_positive",),
                    note="p_positive: P(incremental value > 0). expected_loss: E[max(0, −value)]."
                         " n_best: customers for whom the action ranks first."),
        ReportTable("best_action_per_customer", f"best action per customer: {terms}", best,
                    percent=("p_positive",)),
        ReportTable("best_action_counts", f"customers per best action and segment "
                    f"({rule.label})", counts),
    ]
    on_step("value of information about each action's effect")
    tables.append(ReportTable(
        "value_of_information", f"expected value of perfect information about each action's "
        f"effect ({money})", value_of_information(fit, summary, spec.actions, value=value,
                                                   seed=seed, values=values,
                                                   customers=customers),
        note="What learning the effect before a roll-out is worth at most: a test campaign pays "
             "only where this is well above its cost."))
    figures = []
    if plan is not None:
        on_step(f"allocating a budget of {plan.amount:,.0f} {money}")
        allocation = allocate(values, plan.amount, criterion=rule, method=plan.method)
        campaign = simulate_campaign(values, allocation)
        outcome = campaign.summary.rename_axis("quantity").rename("value").to_frame()
        tables += [
            ReportTable("campaign", f"campaign at a budget of {plan.amount:,.0f} {money} "
                        f"({plan.method}): net incremental value ({money}) and ROI ({level})",
                        outcome, note="roi = net value / cost. p_roi_negative: probability "
                                      "that the campaign loses money."),
            ReportTable("campaign_by_action", f"campaign by action ({money}; {level})",
                        campaign.by_action),
            ReportTable("campaign_by_segment", f"campaign by segment ({money}; {level})",
                        campaign.by_segment),
            ReportTable("allocation", "the plan: action per targeted customer", allocation.table),
        ]
        on_step("value-vs-budget curve")
        curve = budget_curve(values, n_points=plan.curve_points, criterion=rule,
                             method=plan.method)
        tables.append(ReportTable("budget_curve", f"value vs budget ({money}; {level})", curve,
                                  percent=("p_roi_negative",)))
        figure = Figure(figsize=(7.0, 4.5))
        plot_budget_curve(curve, ax=figure.subplots())
        figures.append(ReportFigure("budget_curve", f"net value against budget "
                                    f"({money}; {level} band)", figure,
                                    note="Below the dashed line the campaign loses money."))
    return Section("retention decisions", tuple(tables), tuple(figures))
