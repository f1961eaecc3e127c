"""The ``bayesclv`` command line: the batch job on a spec, and the demo on bundled CDNOW data."""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from bayesclv.actions import BudgetSpec
from bayesclv.clv.tables import hdi_label
from bayesclv.clv.totals import PORTFOLIO
from bayesclv.data import CustomerSummary
from bayesclv.errors import BayesCLVError, ConvergenceWarning, SpecError
from bayesclv.models import Fit
from bayesclv.spec import ModelSpec, PriorSpec, load_spec

app = typer.Typer(
    help="Bayesian customer lifetime value: summarise, fit and report from a model spec.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(width=None if Console().is_terminal else 140)
SpecPath = Annotated[Path, typer.Argument(help="Model spec (TOML), e.g. models/cdnow.toml.")]


@app.command()
def summarise(
    spec_path: SpecPath,
    out: Annotated[
        Path | None, typer.Option(help="Write the per-customer summary (.csv/.parquet).")
    ] = None,
) -> None:
    """Summarise the spec's transaction log per customer and print the per-segment table."""
    from bayesclv.pipeline import summarise_spec

    with _errors_as_messages():
        spec = load_spec(spec_path)
        with console.status(f"summarising {spec.data.source}"):
            summary = summarise_spec(spec)
        _print_summary(summary, title=f"{spec.name}: customers per segment")
        if out is not None:
            _write_frame(summary.frame, out)
            console.print(f"wrote {out}")


@app.command("fit")
def fit_command(
    spec_path: SpecPath,
    out: Annotated[Path | None, typer.Option(help="Save the fit to this NetCDF file.")] = None,
    method: Annotated[str | None, typer.Option(help="Override sampler.method: nuts/map.")] = None,
    draws: Annotated[int | None, typer.Option(help="Override sampler.draws.")] = None,
    tune: Annotated[int | None, typer.Option(help="Override sampler.tune.")] = None,
    chains: Annotated[int | None, typer.Option(help="Override sampler.chains.")] = None,
) -> None:
    """Fit the spec's models and print posterior parameters with intervals and diagnostics."""
    with _errors_as_messages():
        spec = load_spec(spec_path).with_sampler(
            method=method, draws=draws, tune=tune, chains=chains
        )
        _run_fit(spec, out)


@app.command()
def check(
    spec_path: SpecPath,
    compare_families: Annotated[
        bool, typer.Option("--compare", help="Also fit the other family and compare by LOO.")
    ] = False,
) -> None:
    """Fit a spec, then print its predictive check and (optionally) a LOO family comparison."""
    from bayesclv.models import fit as fit_model
    from bayesclv.pipeline import summarise_spec
    from bayesclv.validate.loo import compare
    from bayesclv.validate.ppc import predictive_check

    with _errors_as_messages():
        spec = load_spec(spec_path)
        summary = summarise_spec(spec)
        result = _run_fit(spec, None, summary=summary)
        check_ds = predictive_check(result, summary, hdi_prob=spec.value.hdi_prob)
        _print_frame(
            check_ds.to_dataframe().reset_index(),
            title=(
                f"posterior predictive check: customers by repeat purchases "
                f"({check_ds.attrs['interval']} interval)"
            ),
        )
        if compare_families:
            other = "bg_nbd" if spec.family == "pareto_nbd" else "pareto_nbd"
            other_spec = replace(spec, family=other, spend=False, priors=PriorSpec())
            console.print(f"fitting {other} for the comparison")
            fits = {spec.family: result, other: fit_model(summary, other_spec)}
            title = "PSIS-LOO comparison (elpd in nats; higher is better)"
            _print_frame(compare(fits), title=title)


@app.command()
def decide(
    spec_path: SpecPath,
    fit_path: Annotated[
        Path | None, typer.Option("--fit", help="Use this saved fit (NetCDF) instead of fitting.")
    ] = None,
    budget: Annotated[
        float | None, typer.Option(help="Campaign budget (currency); default: budget.amount.")
    ] = None,
    criterion: Annotated[
        str | None, typer.Option(help="mean, quantile, mean_minus_sd or cvar; default: the spec's.")
    ] = None,
    thin: Annotated[int, typer.Option(help="Keep every thin-th posterior draw.")] = 4,
    out: Annotated[Path, typer.Option(help="Folder for the decision tables.")] = Path("out"),
) -> None:
    """Rank the spec's retention actions per customer and segment, then plan the campaign."""
    from bayesclv.pipeline import summarise_spec

    with _errors_as_messages():
        spec = load_spec(spec_path)
        out.mkdir(parents=True, exist_ok=True)
        summary = summarise_spec(spec)
        if fit_path is not None:
            result = Fit.load(fit_path)
            console.print(f"loaded fit {fit_path} ({result.spec.name}, {result.family.name})")
        else:
            result = _run_fit(spec, None, summary=summary)
        _report_decisions(result, summary, spec, out, budget=budget, criterion=criterion,
                          thin=thin)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo's outputs.")] = Path("out"),
    fit: Annotated[bool, typer.Option(help="Also fit the published one-segment model.")] = True,
) -> None:
    """The main job on the bundled CDNOW data: summaries, the fit, CLV, churn, decisions."""
    from bayesclv.pipeline import summarise_spec

    with _errors_as_messages():
        out.mkdir(parents=True, exist_ok=True)
        summaries = {}
        for name in ("cdnow.toml", "cdnow_segments.toml"):
            spec = load_spec(_bundled_spec(name))
            with console.status(f"summarising {spec.data.source}"):
                summaries[spec.name] = summary = summarise_spec(spec)
            _print_summary(summary, title=f"{spec.name}: {spec.data.source}")
            _write_frame(summary.describe(), out / f"{spec.name}_segments.csv")
        if fit:
            spec = load_spec(_bundled_spec("cdnow.toml"))
            summary = summaries[spec.name]
            result = _run_fit(spec, out / "cdnow_fit.nc", summary=summary)
            _report_value(result, summary, out)
            _report_decisions(result, summary, spec, out, budget=None, criterion=None, thin=4)


def _report_value(result: Fit, summary: CustomerSummary, out: Path) -> None:
    """Print and write the CLV, churn and holdout tables of a fit."""
    from bayesclv.clv import churn_watchlist, clv_draws, customer_equity, customer_table
    from bayesclv.validate.holdout import holdout_report

    value = result.spec.value
    level = f"{value.hdi_prob:.0%} HDI"
    with console.status("scoring customers"):
        draws = clv_draws(result, summary)
    terms = (
        f"residual CLV over {value.horizon_months:g} months from {summary.calibration_end.date()}"
        f", margin {value.margin:.0%}, discount {value.annual_discount_rate:.0%}/year; "
        f"{value.currency}; {level}"
    )
    equity = customer_equity(draws)
    low, high = (f"clv_hdi_{round(value.hdi_prob * 100):g}%_{end}" for end in ("low", "high"))
    shown = ["n_customers", "clv_mean", low, high, "expected_purchases_mean", "value_at_risk_mean"]
    _print_frame(equity[shown].reset_index(), title=f"customer equity: {terms}")
    _write_frame(equity, out / "cdnow_customer_equity.csv")
    customers = customer_table(draws)
    _write_frame(customers, out / "cdnow_customer_clv.csv")
    watch = churn_watchlist(draws, top=10)
    _print_frame(
        watch.reset_index(),
        title=(
            "churn watchlist: top 10 by value at risk = (1 − P(alive)) × value if alive "
            f"({value.currency}; {level})"
        ),
    )
    with console.status("checking the holdout period"):
        holdout = holdout_report(result, summary)
    _print_frame(
        holdout.metrics.reset_index(),
        title=(
            f"holdout {summary.calibration_end.date()} – {summary.holdout_end.date()}: "
            "predicted vs actual repeat purchases per customer"
        ),
    )
    _write_frame(holdout.metrics, out / "cdnow_holdout_metrics.csv")
    console.print(f"wrote customer CLV, equity and holdout tables to {out}/")


def _report_decisions(result: Fit, summary: CustomerSummary, spec: ModelSpec, out: Path, *,
                      budget: float | None, criterion: str | None, thin: int) -> None:
    """Print and write the decision tables, value of information and the campaign plan."""
    from bayesclv.budget import allocate, budget_curve, plot_budget_curve, simulate_campaign
    from bayesclv.decision import (
        Criterion,
        action_values,
        best_actions,
        segment_decisions,
        value_of_information,
    )

    if spec.budget is None and budget is None:
        raise SpecError("no budget: add a [budget] table with 'amount' to the spec or pass "
                        "--budget")
    plan = spec.budget or BudgetSpec(amount=budget)
    if budget is not None:
        plan = replace(plan, amount=budget)  # validated like the spec's field
    amount = plan.amount
    rule = Criterion(criterion or plan.criterion,
                     plan.criterion_parameter if criterion in (None, plan.criterion) else None)
    level = f"{spec.value.hdi_prob:.0%} HDI"
    money = spec.value.currency
    terms = (f"{money} of residual CLV over {spec.value.horizon_months:g} months, margin "
             f"{spec.value.margin:.0%}, discount {spec.value.annual_discount_rate:.0%}/year, "
             f"net of cost per customer; {level}; ranked by {rule.label}")
    with console.status("scoring actions per draw and customer"):
        values = action_values(result, summary, spec.actions, value=spec.value, thin=thin,
                               seed=spec.sampler.seed)
    segments = segment_decisions(values, criterion=rule)
    low, high = (f"value_{hdi_label(spec.value.hdi_prob)}_{end}" for end in ("low", "high"))
    shown = ["n_eligible", "cost_total", "fixed_cost", "value_mean", low, high, "p_positive",
             "expected_loss", "n_best"]
    _print_frame(segments.loc[PORTFOLIO, shown].reset_index(),
                 title=f"actions if every eligible customer got them: {terms}")
    _write_frame(segments, out / f"{spec.name}_decisions_by_segment.csv")
    best = best_actions(values, criterion=rule)
    _write_frame(best, out / f"{spec.name}_best_action_per_customer.csv")
    counts = pd.crosstab(best["segment"], best["best_action"], margins=True, margins_name="total")
    _print_frame(counts.reset_index(), title=f"best action per customer ({rule.label})")
    with console.status("value of information about each action's effect"):
        information = value_of_information(result, summary, spec.actions, value=spec.value,
                                           seed=spec.sampler.seed)
    _print_frame(information.xs(PORTFOLIO, level="segment").reset_index(),
                 title="expected value of perfect information about each effect "
                       f"({money}): "
                       "a test campaign pays only where this is well above its cost")
    _write_frame(information, out / f"{spec.name}_value_of_information.csv")
    with console.status(f"allocating a budget of {amount:,.0f} {money}"):
        allocation = allocate(values, amount, criterion=rule, method=plan.method)
        campaign = simulate_campaign(values, allocation)
    _print_frame(campaign.summary.rename_axis("quantity").rename("value").reset_index(),
                 title=f"campaign at a budget of {amount:,.0f} {money} ({plan.method}): net "
                       f"incremental value ({money}) and ROI over the posterior ({level})")
    _print_frame(campaign.by_action.reset_index(), title=f"campaign by action ({money})")
    _write_frame(allocation.table, out / f"{spec.name}_allocation.csv")
    _write_frame(campaign.by_segment, out / f"{spec.name}_campaign_by_segment.csv")
    with console.status("value-vs-budget curve"):
        curve = budget_curve(values, n_points=plan.curve_points, criterion=rule,
                             method=plan.method)
    _print_frame(curve, title=f"value vs budget ({money}; {level})")
    _write_frame(curve, out / f"{spec.name}_budget_curve.csv")
    axes = plot_budget_curve(curve)
    axes.figure.savefig(out / f"{spec.name}_budget_curve.png", dpi=120, bbox_inches="tight")
    console.print(f"wrote decision tables, allocation and budget curve to {out}/")


def _run_fit(spec: ModelSpec, out: Path | None, *, summary: CustomerSummary | None = None) -> Fit:
    from bayesclv.models import fit as fit_model
    from bayesclv.pipeline import summarise_spec

    console.print(
        f"fitting [bold]{spec.family}[/bold]{' + gamma-gamma' if spec.spend else ''} "
        f"({spec.sampler.method}, {spec.sampler.chains} chains × {spec.sampler.draws} draws)"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        if summary is None:
            summary = summarise_spec(spec)
        result = fit_model(summary, spec, progress=True)
    table = result.summary()
    _print_frame(
        table,
        title=(
            f"{spec.name}: posterior parameters ({result.time_unit}; "
            f"HDI {spec.value.hdi_prob:.0%}; γ in currency units)"
        ),
    )
    for part, convergence in result.convergence().items():
        verdict = "[green]converged[/green]" if convergence.ok else "[red]NOT converged[/red]"
        console.print(
            f"{part}: {verdict}; divergences {convergence.divergences}; "
            f"max R-hat {convergence.table['r_hat'].max():.3f}; "
            f"min bulk ESS {convergence.table['ess_bulk'].min():.0f}"
        )
    for warning in caught:
        if issubclass(warning.category, ConvergenceWarning):
            console.print(f"[bold red]ConvergenceWarning:[/bold red] {warning.message}")
    if out is not None:
        result.save(out)
        console.print(f"saved fit to {out}")
    return result


def _bundled_spec(name: str) -> Path:
    """The shipped spec under ``models/`` (the demo runs from the project's root)."""
    return Path("models") / name


def _print_summary(summary, title: str) -> None:
    _print_frame(
        summary.describe().reset_index(),
        title=f"{title} (x in occasions; spend in the data's currency)",
    )
    excluded = {reason: count for reason, count in summary.exclusions.items() if count}
    if not excluded:
        console.print("  nothing excluded")
    for reason, count in excluded.items():
        console.print(f"  excluded: {count:,} {reason.replace('_', ' ')}")


def _print_frame(frame: pd.DataFrame, title: str) -> None:
    table = Table(title=title, title_justify="left")
    for column in frame.columns:
        table.add_column(str(column), justify="right")
    for _, row in frame.iterrows():
        table.add_row(*(_format(v) for v in row))
    console.print(table)


def _format(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _write_frame(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path)


class _errors_as_messages:
    """Turn bayesclv's own errors into one red line and exit code 2, not a traceback."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, traceback) -> bool:
        if error is not None and isinstance(error, BayesCLVError):
            console.print(f"[bold red]error:[/bold red] {error}")
            raise typer.Exit(code=2)
        return False
