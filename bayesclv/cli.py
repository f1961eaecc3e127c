"""The ``bayesclv`` command line: the batch job on a spec, and the demo on bundled CDNOW data."""

from __future__ import annotations

import difflib
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bayesclv.actions import Action
from bayesclv.data import CustomerSummary
from bayesclv.errors import BayesCLVError, ConvergenceWarning, DataError, SpecError
from bayesclv.models import Fit
from bayesclv.models.fit import check_fit_matches
from bayesclv.outputs import atomic_write, check_free
from bayesclv.report import ReportPack, write_report
from bayesclv.scoring.summaries import PORTFOLIO
from bayesclv.spec import (
    FAMILIES,
    ModelSpec,
    PriorSpec,
    SamplerSpec,
    load_spec,
    require_purchase_value,
)

app = typer.Typer(
    help="Bayesian customer lifetime value: summarise, fit and report from a model spec.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(width=None if Console().is_terminal else 140)
SpecPath = Annotated[Path, typer.Argument(help="Model spec (TOML), e.g. models/cdnow.toml.")]
#: The demo's specs: the one it fits first, then one it only summarises.
DEMO_SPECS = ("cdnow_segments.toml", "cdnow_sample_segments.toml")
FitOption = Annotated[
    Path | None, typer.Option("--fit", help="Use this saved fit (NetCDF) instead of fitting.")
]
BudgetOption = Annotated[
    float | None, typer.Option(help="Campaign budget (currency); default: budget.amount.")
]
CriterionOption = Annotated[
    str | None, typer.Option(help="mean, quantile, mean_minus_sd or cvar; default: the spec's.")
]
ThinOption = Annotated[int, typer.Option(help="Keep every thin-th posterior draw for decisions.")]
AllowUnconverged = Annotated[bool, typer.Option(
    "--allow-unconverged",
    help="Exit 0 even when a fit failed its convergence checks (default: exit status 3, "
         "after writing the outputs; the warnings are printed either way).")]
ForceOption = Annotated[bool, typer.Option(
    "--force", help="Replace existing output files (default: refuse, before any work).")]
#: Exit status of a command whose fit did not converge (2 is a bad input).
UNCONVERGED_EXIT = 3


@app.command()
def summarise(
    spec_path: SpecPath,
    out: Annotated[
        Path | None, typer.Option(help="Write the per-customer summary (.csv/.parquet).")
    ] = None,
    force: ForceOption = False,
) -> None:
    """Summarise the spec's transaction log per customer and print the per-segment table."""
    from bayesclv.pipeline import summarise_spec

    with _errors_as_messages():
        if out is not None:
            _check_frame_path(out)
            check_free([out], overwrite=force)
        spec = load_spec(spec_path)
        with console.status(f"summarising {spec.data.source}"):
            summary = summarise_spec(spec)
        _print_summary(summary, title=f"{spec.name}: customers per segment")
        if out is not None:
            _write_frame(summary.frame, out, overwrite=force)
            console.print(f"wrote {out}")


@app.command("fit")
def fit_command(
    spec_path: SpecPath,
    out: Annotated[Path | None, typer.Option(help="Save the fit to this NetCDF file.")] = None,
    method: Annotated[str | None, typer.Option(help="Override sampler.method: nuts/map.")] = None,
    draws: Annotated[int | None, typer.Option(help="Override sampler.draws.")] = None,
    tune: Annotated[int | None, typer.Option(help="Override sampler.tune.")] = None,
    chains: Annotated[int | None, typer.Option(help="Override sampler.chains.")] = None,
    allow_unconverged: AllowUnconverged = False,
    force: ForceOption = False,
) -> None:
    """Fit the spec's models and print posterior parameters with intervals and diagnostics."""
    with _errors_as_messages():
        if out is not None:
            check_free([out], overwrite=force)
        spec = load_spec(spec_path).with_sampler(
            method=method, draws=draws, tune=tune, chains=chains
        )
        result = _run_fit(spec, out, overwrite=force)
    _exit_if_unconverged(result, allow_unconverged)


@app.command()
def check(
    spec_path: SpecPath,
    compare_families: Annotated[list[str] | None, typer.Option(
        "--compare", metavar="FAMILY",
        help=f"Also fit this family ({', '.join(FAMILIES)}) to the same customers (the "
             "spec's sampler settings, default priors, no spend model) and compare the fits "
             "by PSIS-LOO; repeat for several, or 'all' for every other family.")
    ] = None,
    allow_unconverged: AllowUnconverged = False,
) -> None:
    """Fit a spec, then print its predictive check and (optionally) a LOO family comparison."""
    from bayesclv.models import fit as fit_model
    from bayesclv.pipeline import summarise_spec
    from bayesclv.validate.loo import compare
    from bayesclv.validate.ppc import predictive_check

    with _errors_as_messages():
        spec = load_spec(spec_path)
        others = _families_to_compare(spec.family, compare_families or [])  # before fitting
        summary = summarise_spec(spec)
        result = _run_fit(spec, None, summary=summary)
        check_ds = predictive_check(result, summary, interval_prob=spec.value.hdi_prob)
        _print_frame(
            check_ds.to_dataframe().reset_index(),
            title=(
                f"posterior predictive check: customers by repeat purchases "
                f"({check_ds.attrs['interval']} interval)"
            ),
        )
        if others:
            fits = {spec.family: result}
            for other in others:
                console.print(f"fitting {other} for the comparison")
                other_spec = replace(spec, family=other, spend=False, priors=PriorSpec())
                fits[other] = fit_model(summary, other_spec)
            title = "PSIS-LOO comparison (elpd in nats; higher is better)"
            _print_frame(compare(fits), title=title)
    _exit_if_unconverged(result, allow_unconverged)


@app.command()
def decide(
    spec_path: SpecPath,
    fit_path: FitOption = None,
    budget: BudgetOption = None,
    criterion: CriterionOption = None,
    thin: ThinOption = 4,
    out: Annotated[Path, typer.Option(help="Folder for the decision tables.")] = Path("out"),
    allow_unconverged: AllowUnconverged = False,
    force: ForceOption = False,
) -> None:
    """Rank the spec's retention actions per customer and segment, then plan the campaign."""
    from bayesclv.pipeline import summarise_spec

    with _errors_as_messages():
        spec = load_spec(spec_path)
        require_purchase_value(spec.spend, spec.value)  # before a long fit, not after
        out.mkdir(parents=True, exist_ok=True)
        summary = summarise_spec(spec)
        result = _fit_or_load(spec, fit_path, summary)
        pack = _decisions_only(result, summary, spec, budget=budget, criterion=criterion,
                               thin=thin)
        _print_warnings(pack)
        _print_decisions(pack)
        write_report(pack, out, name=spec.name, formats=("csv",), overwrite=force)
        console.print(f"wrote decision tables, allocation and budget curve to {out}/")
    _exit_if_unconverged(result, allow_unconverged)


@app.command()
def report(
    spec_path: SpecPath,
    fit_path: FitOption = None,
    budget: BudgetOption = None,
    criterion: CriterionOption = None,
    thin: ThinOption = 4,
    formats: Annotated[
        list[str] | None,
        typer.Option("--format", help="csv, xlsx or html; repeat for several (default: all)."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for the report.")] = Path("out"),
    allow_unconverged: AllowUnconverged = False,
    force: ForceOption = False,
) -> None:
    """Write the finance pack: CLV, churn, holdout, decisions and campaign as CSV/Excel/HTML."""
    from bayesclv.pipeline import summarise_spec
    from bayesclv.report import FORMATS, check_formats

    with _errors_as_messages():
        chosen = check_formats(formats or FORMATS)  # before a long fit, not after
        spec = load_spec(spec_path)
        require_purchase_value(spec.spend, spec.value)
        check_free([out / f"{spec.name}.{f}" for f in chosen if f != "csv"], overwrite=force)
        summary = summarise_spec(spec)
        result = _fit_or_load(spec, fit_path, summary)
        pack = _value_and_decisions(result, summary, spec, budget=budget, criterion=criterion,
                                    thin=thin)
        _print_warnings(pack)
        _print_value(pack)
        paths = write_report(pack, out, name=spec.name, formats=chosen, overwrite=force)
        console.print(f"wrote {len(paths)} files to {out}/: "
                      + ", ".join(p.name for p in paths if p.suffix in (".html", ".xlsx"))
                      + (f" and {sum(p.suffix == '.csv' for p in paths)} CSV tables"
                         if "csv" in chosen else ""))
    _exit_if_unconverged(result, allow_unconverged)


@app.command()
def learn(
    spec_path: SpecPath,
    action: Annotated[str, typer.Option(help="Name of the tested action in the spec.")],
    log: Annotated[Path, typer.Option(
        help="Transaction log of the experiment's customers, before and after the action "
             "(CSV/Parquet, in the spec's column names).")],
    assignment: Annotated[Path, typer.Option(
        help="CSV with customer_id, treated (1/0) and treated_on (empty for controls).")],
    end: Annotated[str | None, typer.Option(
        help="Last observed day (default: data.holdout_end, else data.calibration_end).")
    ] = None,
    out: Annotated[Path | None, typer.Option(
        help="Write the learned effects (process, mean, low, high) to this CSV.")] = None,
    allow_unconverged: AllowUnconverged = False,
    force: ForceOption = False,
) -> None:
    """Learn an action's purchase, dropout (and spend) effects from an experiment's log."""
    from bayesclv.decision.treatment import learn_effect_from_log
    from bayesclv.pipeline import spec_columns

    with _errors_as_messages():
        spec = load_spec(spec_path)
        tested = _action_named(spec, action)
        if spec.family != "pareto_nbd":
            raise SpecError(f"family = {spec.family!r}: learning effects from a log needs "
                            "family = 'pareto_nbd' (docs/experiments.md says why)")
        if spec.data.segmentation not in ("none", "column"):
            raise SpecError(f"data.segmentation = {spec.data.segmentation!r}: learning from a "
                            "log pools segments given by a column ('column') or none ('none')")
        if out is not None:
            if out.suffix != ".csv":
                raise SpecError(f"--out {out}: write a .csv file")
            check_free([out], overwrite=force)
        last = end if end is not None else (spec.data.holdout_end or spec.data.calibration_end)
        table = _read_assignment(assignment)
        console.print(f"learning {tested.name!r} from {log} and {assignment}, observed to "
                      f"{pd.Timestamp(last).date()}"
                      + ("" if end is not None else " (the spec's last day; --end to change)"))
        sampler = spec.sampler
        with console.status("sampling the models with the treatment…"):
            learned = learn_effect_from_log(
                tested, log, table, end=last, columns=spec_columns(spec), spend=spec.spend,
                timezone=spec.data.timezone,
                priors=spec.priors, spend_priors=spec.spend_priors,
                time_unit=spec.data.time_unit, draws=sampler.draws, tune=sampler.tune,
                chains=sampler.chains, seed=sampler.seed, target_accept=sampler.target_accept)
        _print_frame(learned.groups.reset_index(), "customers per arm (repeat purchases over "
                                                   "the whole observation)")
        effects = learned.summary()
        _print_frame(effects, "learned effects: relative change of the rate (−0.40 = 40 % "
                              "less), 90 % HDI, beside the action's prior (90 % interval)")
        if out is not None:
            columns = ["process", "mean", "low", "high"]
            if (effects["segment"] != "all").any():
                columns = ["segment", *columns]
            atomic_write(out, lambda path: effects[columns].to_csv(path, index=False),
                         overwrite=force)
            console.print(f"wrote the learned effects to {out}")
        problems = learned.convergence.problems
    if problems:
        console.print("[bold yellow]the fit did not pass its convergence checks:[/bold yellow]"
                      "\n  - " + "\n  - ".join(problems))
        if not allow_unconverged:
            raise typer.Exit(code=UNCONVERGED_EXIT)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo's outputs.")] = Path("out"),
    fit: Annotated[bool, typer.Option(help="Also fit the hierarchical model and build the "
                                           "finance pack.")] = True,
    allow_unconverged: AllowUnconverged = False,
) -> None:
    """The main job on the bundled CDNOW data: segments, the hierarchical fit, CLV, decisions.

    Summarises the master and the sample by acquisition month × first-basket tier, fits the
    9-segment hierarchical Pareto/NBD + Gamma-Gamma model to all 23,570 customers of the
    master (models/cdnow_segments.toml, at the spec's own sampler settings) and writes its
    finance pack.
    """
    from bayesclv.pipeline import summarise_spec

    with _errors_as_messages():
        out.mkdir(parents=True, exist_ok=True)
        summaries = {}
        for name in DEMO_SPECS:
            spec = load_spec(_bundled_spec(name))
            with console.status(f"summarising {spec.data.source}"):
                summaries[spec.name] = summary = summarise_spec(spec)
            _print_summary(summary, title=f"{spec.name}: {spec.data.source}")
            _write_frame(summary.describe(), out / f"{spec.name}_segments.csv", overwrite=True)
        if fit:
            spec = load_spec(_bundled_spec(DEMO_SPECS[0]))
            summary = summaries[spec.name]
            result = _run_fit(spec, out / f"{spec.name}_fit.nc", summary=summary,
                              overwrite=True)
            pack = _value_and_decisions(result, summary, spec, budget=None, criterion=None,
                                        thin=4)
            _print_warnings(pack)
            _print_value(pack)
            _print_decisions(pack)
            write_report(pack, out, name=spec.name, overwrite=True)
            console.print(f"wrote the report to {out}/{spec.name}.html, {out}/{spec.name}.xlsx "
                          f"and {out}/{spec.name}_*.csv")
    if fit:
        _exit_if_unconverged(result, allow_unconverged)


def _value_and_decisions(result: Fit, summary: CustomerSummary, spec: ModelSpec, *,
                         budget: float | None, criterion: str | None, thin: int) -> ReportPack:
    """Build the full report pack, with the current step on the status line."""
    from bayesclv.report import build_report

    with console.status("") as status:
        return build_report(result, summary, spec, budget=budget, criterion=criterion,
                            thin=thin, on_step=status.update)


def _decisions_only(result: Fit, summary: CustomerSummary, spec: ModelSpec, *,
                    budget: float | None, criterion: str | None, thin: int) -> ReportPack:
    """The decision tables and campaign plan as a pack (a budget is required)."""
    from bayesclv.report import decision_section, pack_sections

    if spec.budget is None and budget is None:
        raise SpecError("no budget: add a [budget] table with 'amount' to the spec or pass "
                        "--budget")
    with console.status("") as status:
        section = decision_section(result, summary, spec, budget=budget, criterion=criterion,
                                   thin=thin, on_step=status.update)
    return pack_sections(result, summary, spec, [section])


def _print_warnings(pack: ReportPack) -> None:
    for warning in pack.warnings:
        console.print(f"[bold red]WARNING:[/bold red] {warning}")


def _print_value(pack: ReportPack) -> None:
    """The headline value tables: equity, the top of the watchlist, the holdout check."""
    equity = pack.table("customer_equity")
    low, high = (c for c in equity.frame.columns if c.startswith("clv_hdi_"))
    shown = ["n_customers", "clv_mean", low, high, "expected_purchases_mean",
             "value_at_risk_mean"]
    _print_frame(equity.frame[shown].reset_index(), title=equity.title)
    watch = pack.table("churn_watchlist")
    _print_frame(watch.frame.head(10).reset_index(), title=f"{watch.title}: the first 10")
    if any(t.key == "holdout_metrics" for t in pack.tables):
        holdout = pack.table("holdout_metrics")
        _print_frame(holdout.frame.reset_index(), title=holdout.title)


def _print_decisions(pack: ReportPack) -> None:
    """The headline decision tables: actions overall, best actions, VoI, the campaign."""
    decisions = pack.table("decisions_by_segment")
    low, high = (c for c in decisions.frame.columns if c.startswith("value_hdi_"))
    shown = ["n_eligible", "cost_total", "fixed_cost", "value_mean", low, high, "p_positive",
             "expected_loss", "n_best"]
    _print_frame(decisions.frame.loc[PORTFOLIO, shown].reset_index(), title=decisions.title)
    counts = pack.table("best_action_counts")
    _print_frame(counts.frame.reset_index(), title=counts.title)
    information = pack.table("value_of_information")
    _print_frame(information.frame.xs(PORTFOLIO, level="segment").reset_index(),
                 title=f"{information.title}: a test campaign pays only where this is well "
                       "above its cost")
    for key in ("campaign", "campaign_by_action", "budget_curve"):
        if any(t.key == key for t in pack.tables):
            table = pack.table(key)
            _print_frame(table.flat(), title=table.title)


def _fit_or_load(spec: ModelSpec, fit_path: Path | None, summary: CustomerSummary) -> Fit:
    if fit_path is None:
        return _run_fit(spec, None, summary=summary)
    result = Fit.load(fit_path)
    check_fit_matches(result, spec, summary, source=str(fit_path))
    console.print(f"loaded fit {fit_path} ({result.spec.name}, {result.family.name})")
    return result


def _run_fit(spec: ModelSpec, out: Path | None, *, summary: CustomerSummary | None = None,
             overwrite: bool = False) -> Fit:
    from bayesclv.models import fit as fit_model
    from bayesclv.pipeline import summarise_spec

    def settings(sampler: SamplerSpec) -> str:
        return ("map: the posterior mode, no intervals" if sampler.method == "map" else
                f"nuts, {sampler.chains} chains × {sampler.tune} tuning + {sampler.draws} "
                f"kept draws, target_accept {sampler.target_accept:g}")

    how = settings(spec.sampler)
    if spec.spend and spec.spend_sampler_spec != spec.sampler:
        how += f"; gamma-gamma: {settings(spec.spend_sampler_spec)}"
    console.print(
        f"fitting [bold]{spec.family}[/bold]{' + gamma-gamma' if spec.spend else ''} ({how})"
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
            f"HDI {spec.value.hdi_prob:.0%}{'; γ in currency units' if spec.spend else ''})"
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
        result.save(out, overwrite=overwrite)
        console.print(f"saved fit to {out}")
    return result


def _families_to_compare(family: str, asked: list[str]) -> list[str]:
    """The families ``--compare`` names, in the order given ('all': every other one).

    Raises
    ------
    SpecError
        For a name that is no family (with did-you-mean) or is the spec's own family.
    """
    chosen: list[str] = []
    for name in asked:
        if name == "all":
            named = [other for other in FAMILIES if other != family]
        elif name == family:
            raise SpecError(f"--compare {name}: that is the spec's own family (model.family), "
                            "fitted anyway; name another family to compare it with")
        elif name in FAMILIES:
            named = [name]
        else:
            close = difflib.get_close_matches(name, [*FAMILIES, "all"], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise SpecError(f"--compare {name!r} is not a model family{hint} (families: "
                            f"{', '.join(FAMILIES)}; or 'all' for every other family)")
        chosen += [other for other in named if other not in chosen]
    return chosen


def _action_named(spec: ModelSpec, name: str) -> Action:
    """The spec's action of that name, or a SpecError listing the names (with did-you-mean)."""
    names = [a.name for a in spec.actions]
    if name in names:
        return spec.actions[names.index(name)]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(map(repr, names)) or "none: add [[actions]] to the spec"
    raise SpecError(f"--action {name!r} is not an action of the spec{hint} (actions: {listed})")


def _read_assignment(path: Path) -> pd.DataFrame:
    """An assignment CSV with every value as text (ids keep their zero padding)."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError as error:
        raise DataError(f"--assignment {path}: no such file") from error
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(f"--assignment {path}: not a readable CSV ({error})") from error


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
    for row in frame.itertuples(index=False, name=None):  # keeps each column's type
        table.add_row(*(_format(v) for v in row))
    console.print(table)


def _format(value: object) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _check_frame_path(path: Path) -> None:
    if path.suffix not in (".csv", ".parquet"):
        raise SpecError(f"--out {path}: write a .csv or a .parquet file")


def _write_frame(frame: pd.DataFrame, path: Path, *, overwrite: bool = False) -> None:
    _check_frame_path(path)
    write = frame.to_parquet if path.suffix == ".parquet" else frame.to_csv
    atomic_write(path, write, overwrite=overwrite)


def _exit_if_unconverged(result: Fit, allowed: bool) -> None:
    """Exit with UNCONVERGED_EXIT when a part of the fit failed its checks, unless allowed."""
    failed = [part for part, check in result.convergence().items() if not check.ok]
    if failed and not allowed:
        console.print(f"[bold red]exit status {UNCONVERGED_EXIT}:[/bold red] the "
                      f"{' and '.join(failed)} model did not converge (outputs were written; "
                      "--allow-unconverged to exit 0)")
        raise typer.Exit(code=UNCONVERGED_EXIT)


class _errors_as_messages:
    """Turn bayesclv's own errors into one red line and exit code 2, not a traceback."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, traceback) -> bool:
        if error is not None and isinstance(error, BayesCLVError):
            # escaped: a message naming a TOML table ("[value]") is text, not Rich markup
            console.print(f"[bold red]error:[/bold red] {escape(str(error))}")
            raise typer.Exit(code=2)
        return False
