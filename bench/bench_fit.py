"""Benchmark: bayesclv's NUTS fits against PyMC-Marketing's, side by side, in one run.

What is compared, on CDNOW (``--data master``: 23,570 customers; ``sample``: 2,357),
calibration to 1997-09-30, weeks, frequency/dropout models only (no spend):

* **ours, one segment**: ``bayesclv.models.fit`` with ``sampler.backend = "nutpie"`` and
  ``"pymc"`` (the README says nutpie is the faster default: this checks it);
* **ours, hierarchical**: the cohort × value-tier segments of ``models/cdnow_segments.toml``
  (same backends, the family under test, spend off);
* **PyMC-Marketing**: ``BetaGeoModel`` / ``ParetoNBDModel`` fitted with ``method="mcmc"``,
  first with ``pm.sample``'s default NUTS (which PyMC picks itself), then with the other
  of PyMC's own NUTS and nutpie.

Every fit gets the same chains, tune, draws, seed, ``target_accept`` and ``cores=2`` and
runs in a fresh interpreter, so no fit inherits another's in-memory caches. Compiled
functions are also cached on disk (PyTensor's numba cache), so before each timed fit a tiny
untimed copy of it (1 chain × 2/2) fills that cache: compile times are then warm-cache
times whatever the order (``--no-warm-up`` skips this; the warm-up of PyMC-Marketing's
Pareto/NBD can take minutes, its first iterations are the slowest).
The time of a fit is the wall-clock of the fitting call, from the summarised data to the
returned posterior (model build, compile, sampling, post-processing); data preparation is
not timed. "sampling" is the sampler's own loop (tune + draws): timed around
``nutpie.sample`` or read from PyMC's ``sampling_time``; "compile" is timed around
``nutpie.compile_pymc_model`` (PyMC's NUTS compiles inside ``pm.sample``, so only the
remainder, setup = total − sampling, is shown for it).

Priors. PyMC-Marketing's are set from our spec's priors: r ~ LogNormal(log_r), s ~
LogNormal(log_s), and α, β ~ LogNormal with the marginal that log α = log r − log(r/α)
has under ours; for BG/NBD its own mean/concentration parameters get ours exactly,
phi_dropout = a/(a+b) ~ LogitNormal(logit_p), kappa_dropout = a+b ~ LogNormal(log_kappa).
Ours puts independent normals on log r and log(r/α) (correlated log r, log α), so a
``pm.Potential`` added to PyMC-Marketing's model turns its independent (r, α) and (s, β)
priors into exactly ours: both samplers then target the same posterior, and means must
agree within Monte Carlo error (|Δ| < 3 combined MCSEs).

Usage::

    .venv/bin/python bench/bench_fit.py                  # full: master, 4 chains x 1000/1000
    .venv/bin/python bench/bench_fit.py --quick          # smoke: sample, 2 chains x 200/200
    .venv/bin/python bench/bench_fit.py --families bg_nbd --skip-pmm --no-hierarchical
    .venv/bin/python bench/bench_fit.py --pmm-tune 300 --pmm-draws 300   # less PMM work
    .venv/bin/python bench/bench_fit.py --no-pmm-other-sampler   # PMM's default NUTS only

With ``--pmm-tune``/``--pmm-draws`` PyMC-Marketing does less work than ours: total-time
ratios are then not shown, only ratios of sampling time per iteration (labelled).
Results are printed and written to ``bench/_data/bench_fit.json``.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import arviz as az
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).parent / "_data" / "bench_fit.json"
SEGMENTS_SPEC = ROOT / "models" / "cdnow_segments.toml"
CALIBRATION_END = "1997-09-30"
TARGET_ACCEPT = 0.9
SEED = 2026
CORES = 2
NATURAL = {"bg_nbd": ("r", "alpha", "a", "b"), "pareto_nbd": ("r", "alpha", "s", "beta")}
PMM_CLASS = {"bg_nbd": "BetaGeoModel", "pareto_nbd": "ParetoNBDModel"}
AGREE_Z = 3.0  # means agree when |Δ| < AGREE_Z combined Monte Carlo standard errors
TARGET_ONE_SEGMENT = 5.0  # PyMC-Marketing time / ours, one segment
TARGET_HIERARCHICAL = 1.0  # PyMC-Marketing one-segment time / our hierarchical fit


@dataclass(frozen=True)
class Job:
    """One fit to run in its own interpreter.

    ``sampler`` is our ``sampler.backend`` for ``tool = "ours"``; for PyMC-Marketing it
    is ``pm.sample``'s ``nuts_sampler`` (``None``: let PyMC choose).
    """

    tool: str
    family: str
    sampler: str | None
    hierarchical: bool
    data: str
    chains: int
    tune: int
    draws: int

    @property
    def label(self) -> str:
        """Short name for tables, e.g. ``ours·nutpie``, ``ours-hier·pymc``, ``pmm·default``."""
        name = "ours-hier" if self.hierarchical else self.tool
        return f"{name}·{self.sampler or 'default'}"

    @property
    def iterations(self) -> int:
        """NUTS iterations over all chains, warm-up included."""
        return self.chains * (self.tune + self.draws)


@dataclass(frozen=True)
class Estimate:
    """Posterior mean, Monte Carlo standard error and sd of one parameter."""

    mean: float
    mcse: float
    sd: float


@dataclass(frozen=True)
class Result:
    """What one fit measured. Times in seconds; ``compile_s`` only where it is observable."""

    job: Job
    actual_sampler: str
    segments: int
    total_s: float
    sampling_s: float
    compile_s: float | None
    steps_per_draw: float
    divergences: int
    min_ess_bulk: float
    max_rhat: float
    estimates: dict[str, Estimate]
    warnings: list[str]

    @property
    def ms_per_iteration(self) -> float:
        """Sampling wall time per NUTS iteration (chains × (tune + draws)), in ms."""
        return 1000.0 * self.sampling_s / self.job.iterations

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Result:
        """Rebuild a result from its JSON form."""
        raw = dict(raw)
        raw["job"] = Job(**raw["job"])
        raw["estimates"] = {k: Estimate(**v) for k, v in raw["estimates"].items()}
        return cls(**raw)


# --------------------------------------------------------------------------- the child side


@contextmanager
def nutpie_timers() -> Iterator[dict[str, float]]:
    """Accumulate the time spent in ``nutpie.compile_pymc_model`` and ``nutpie.sample``.

    Both bayesclv and ``pm.sample(nuts_sampler="nutpie")`` look these up on the module at
    call time, so wrapping them times the real code paths without changing them.
    """
    import nutpie

    spent = {"compile": 0.0, "sample": 0.0}
    originals = {"compile": nutpie.compile_pymc_model, "sample": nutpie.sample}

    def timed(key: str, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spent[key] += time.perf_counter() - started

        return wrapper

    nutpie.compile_pymc_model = timed("compile", originals["compile"])
    nutpie.sample = timed("sample", originals["sample"])
    try:
        yield spent
    finally:
        nutpie.compile_pymc_model = originals["compile"]
        nutpie.sample = originals["sample"]


def one_segment_spec(job: Job) -> Any:
    """Our spec for a one-segment fit of the job's family, spend off."""
    from bayesclv.spec import ModelSpec

    return ModelSpec.from_dict(
        {
            "model": {"name": f"bench_{job.family}", "family": job.family, "spend": False},
            "data": {
                "source": f"bayesclv:cdnow_{job.data}",
                "calibration_end": CALIBRATION_END,
                "time_unit": "weeks",
            },
            "sampler": sampler_settings(job),
        }
    )


def hierarchical_spec(job: Job) -> Any:
    """``models/cdnow_segments.toml`` with the job's family, data and sampler, spend off."""
    from bayesclv.spec import load_spec

    spec = load_spec(SEGMENTS_SPEC)
    spec = replace(
        spec,
        family=job.family,
        spend=False,
        data=replace(spec.data, source=f"bayesclv:cdnow_{job.data}"),
    )
    return spec.with_sampler(**sampler_settings(job))


def sampler_settings(job: Job) -> dict[str, Any]:
    """Our ``[sampler]`` table for a job (PyMC-Marketing gets the same values)."""
    return {
        "method": "nuts",
        "backend": job.sampler if job.tool == "ours" else "auto",
        "chains": job.chains,
        "tune": job.tune,
        "draws": job.draws,
        "target_accept": TARGET_ACCEPT,
        "seed": SEED,
        "cores": CORES,
    }


def run_ours(job: Job) -> tuple[xr.Dataset, xr.Dataset, float, dict[str, float], int]:
    """Fit with bayesclv; natural-parameter draws, sample stats, wall time, timers, segments."""
    from bayesclv.models import fit
    from bayesclv.pipeline import summarise_spec

    spec = hierarchical_spec(job) if job.hierarchical else one_segment_spec(job)
    summary = summarise_spec(spec)
    with nutpie_timers() as timers:
        started = time.perf_counter()
        result = fit(summary, spec, progress=False)
        total = time.perf_counter() - started
    draws = result.parameters()
    if not job.hierarchical:
        draws = draws.isel(segment=0, drop=True)
    stats = result.frequency["sample_stats"].to_dataset()
    stats.attrs.update(result.frequency["posterior"].to_dataset().attrs)
    return draws, stats, total, timers, len(summary.segments)


def pmm_priors(family: str) -> tuple[dict[str, Any], dict[str, tuple[float, float]]]:
    """PyMC-Marketing ``model_config`` from our default priors, and the joint-prior targets.

    Returns the config and, for each scale parameter (``alpha``, ``beta``), the normal prior
    ours puts on log(shape/scale), for :func:`match_joint_prior`.
    """
    from pymc_extras.prior import Prior

    from bayesclv.models.priors import default_prior

    def normal(name: str) -> tuple[float, float]:
        prior = default_prior(name, "weeks")
        return prior.mu, prior.sigma

    def shape_and_scale(shape: str, rate: str) -> tuple[Prior, Prior]:
        (m_shape, s_shape), (m_rate, s_rate) = normal(shape), normal(rate)
        return (
            Prior("LogNormal", mu=m_shape, sigma=s_shape),
            Prior("LogNormal", mu=m_shape - m_rate, sigma=math.hypot(s_shape, s_rate)),
        )

    config: dict[str, Any] = {}
    config["r"], config["alpha"] = shape_and_scale("log_r", "log_rate")
    targets = {"alpha": ("r", normal("log_rate"))}
    if family == "bg_nbd":
        (m_p, s_p), (m_k, s_k) = normal("logit_p"), normal("log_kappa")
        config["phi_dropout"] = Prior("LogitNormal", mu=m_p, sigma=s_p)
        config["kappa_dropout"] = Prior("LogNormal", mu=m_k, sigma=s_k)
    else:
        config["s"], config["beta"] = shape_and_scale("log_s", "log_dropout")
        targets["beta"] = ("s", normal("log_dropout"))
    return config, {scale: rate for scale, (_, rate) in targets.items()}


def match_joint_prior(
    model: Any, config: dict[str, Any], targets: dict[str, tuple[float, float]]
) -> None:
    """Add potentials that turn independent LogNormal (shape, scale) priors into ours.

    Ours: log shape ~ N(m1, s1) and log(shape/scale) ~ N(m2, s2), independent. Theirs:
    log shape ~ N(m1, s1) and log scale ~ N(mσ, sσ), independent. The densities on
    (shape, scale) differ by N(log shape − log scale; m2, s2) / N(log scale; mσ, sσ).
    """
    import pymc as pm

    shapes = {"alpha": "r", "beta": "s"}
    with model:
        for scale, (mu, sigma) in targets.items():
            log_shape, log_scale = pm.math.log(model[shapes[scale]]), pm.math.log(model[scale])
            marginal = config[scale].parameters
            pm.Potential(
                f"{scale}_prior_as_bayesclv",
                pm.logp(pm.Normal.dist(mu, sigma), log_shape - log_scale)
                - pm.logp(pm.Normal.dist(marginal["mu"], marginal["sigma"]), log_scale),
            )


def run_pmm(job: Job) -> tuple[xr.Dataset, xr.Dataset, float, dict[str, float], int]:
    """Fit with PyMC-Marketing; natural-parameter draws, sample stats, wall time, timers."""
    import pymc_marketing.clv as clv

    from bayesclv.pipeline import summarise_spec

    frame = summarise_spec(one_segment_spec(job)).frame.reset_index()
    data = frame.rename(columns={"x": "frequency", "t_x": "recency"})[
        ["customer_id", "frequency", "recency", "T"]
    ]
    config, targets = pmm_priors(job.family)
    model = getattr(clv, PMM_CLASS[job.family])(model_config=config)
    kwargs: dict[str, Any] = {
        "chains": job.chains,
        "tune": job.tune,
        "draws": job.draws,
        "cores": CORES,
        "target_accept": TARGET_ACCEPT,
    }
    if job.sampler is not None:
        kwargs["nuts_sampler"] = job.sampler
    with nutpie_timers() as timers:
        started = time.perf_counter()
        model.build_model(data)
        match_joint_prior(model.model, config, targets)
        idata = model.fit(
            data=data, method="mcmc", random_seed=SEED, progressbar=False, **kwargs
        )
        total = time.perf_counter() - started
    posterior = idata["posterior"].to_dataset()
    stats = idata["sample_stats"].to_dataset()
    stats.attrs.update(posterior.attrs)
    return posterior[list(NATURAL[job.family])], stats, total, timers, 1


def run_job(job: Job) -> Result:
    """Run one fit in this process and measure it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runner = run_ours if job.tool == "ours" else run_pmm
        draws, stats, total, timers, n_segments = runner(job)
    actual = str(stats.attrs.get("inference_library", "?"))
    sampling = timers["sample"] if timers["sample"] > 0 else float(stats.attrs["sampling_time"])
    estimates = {}
    if not job.hierarchical:
        mcse = az.mcse(draws)
        estimates = {
            name: Estimate(
                mean=float(draws[name].mean()),
                mcse=float(mcse[name]),
                sd=float(draws[name].std()),
            )
            for name in draws.data_vars
        }
    ess, rhat = az.ess(draws, method="bulk"), az.rhat(draws)
    messages = {
        f"{w.category.__name__}: {' '.join(str(w.message).split())}"
        for w in caught
        if not issubclass(w.category, DeprecationWarning | FutureWarning)
    }
    return Result(
        job=job,
        actual_sampler=actual,
        segments=n_segments,
        total_s=total,
        sampling_s=sampling,
        compile_s=timers["compile"] or None,
        steps_per_draw=float(stats["n_steps"].mean()),
        divergences=int(stats["diverging"].sum()),
        min_ess_bulk=float(min(ess[v].min() for v in ess.data_vars)),
        max_rhat=float(max(rhat[v].max() for v in rhat.data_vars)),
        estimates=estimates,
        warnings=sorted(messages),
    )


# -------------------------------------------------------------------------- the parent side


def run_in_child(job: Job, *, warm_up: bool = False) -> Result | None:
    """Run one job in a fresh interpreter and read its result from the last stdout line.

    With ``warm_up``, run it untimed and as small as possible (1 chain × 2 tune / 2 draws):
    this fills the on-disk compile caches (PyTensor's numba cache) for the model's graph, so
    that the timed run does not depend on which fit happened to compile it first.
    """
    if warm_up:
        job = replace(job, chains=1, tune=2, draws=2)
    mode = "--warm-up" if warm_up else "--no-warm-up"
    out = subprocess.run(
        [sys.executable, __file__, "--job", json.dumps(asdict(job)), mode],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if out.returncode:
        sys.exit(f"{job.tool} {job.family} {job.label} failed:\n{out.stderr[-4000:]}")
    return None if warm_up else Result.from_dict(json.loads(out.stdout.strip().splitlines()[-1]))


def run_all(args: argparse.Namespace) -> list[Result]:
    """Every fit the arguments ask for, in order, one child process each."""
    results = []
    size = {"data": args.data, "chains": args.chains}
    ours = {**size, "tune": args.tune, "draws": args.draws}
    pmm = {
        **size,
        "tune": args.pmm_tune if args.pmm_tune is not None else args.tune,
        "draws": args.pmm_draws if args.pmm_draws is not None else args.draws,
    }

    def run(job: Job) -> Result:
        print(f"  {job.family:<11}{job.label:<20}", end="", flush=True)
        if args.warm_up:
            run_in_child(job, warm_up=True)
        result = run_in_child(job)
        print(f"{result.total_s:8.1f} s   (ran {result.actual_sampler})", flush=True)
        results.append(result)
        return result

    for family in args.families:
        for backend in ("nutpie", "pymc"):
            run(Job("ours", family, backend, False, **ours))
        if args.hierarchical:
            for backend in ("nutpie", "pymc"):
                run(Job("ours", family, backend, True, **ours))
        if not args.skip_pmm:
            default = run(Job("pmm", family, None, False, **pmm))
            if args.pmm_other_sampler:
                other = "pymc" if default.actual_sampler == "nutpie" else "nutpie"
                run(Job("pmm", family, other, False, **pmm))
    return results


def table(header: list[str], rows: list[list[str]]) -> str:
    """Plain aligned text: first column left-aligned, the others right-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        first, *rest = cells
        cells = [c.rjust(w) for c, w in zip(rest, widths[1:], strict=True)]
        return "  ".join([first.ljust(widths[0]), *cells])

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def timing_table(results: list[Result]) -> str:
    """One row per fit: times, steps, divergences, convergence."""
    rows = []
    for r in results:
        compile_s = f"{r.compile_s:.1f}" if r.compile_s is not None else "—"
        rows.append(
            [
                f"{r.job.family} {r.job.label}",
                r.actual_sampler,
                str(r.segments),
                f"{r.job.chains}×{r.job.tune}/{r.job.draws}",
                f"{r.total_s:.1f}",
                compile_s,
                f"{r.sampling_s:.1f}",
                f"{r.total_s - r.sampling_s:.1f}",
                f"{r.ms_per_iteration:.2f}",
                f"{r.steps_per_draw:.1f}",
                str(r.divergences),
                f"{r.min_ess_bulk:.0f}",
                f"{r.max_rhat:.3f}",
                f"{r.min_ess_bulk / r.total_s:.1f}",
            ]
        )
    header = [
        "fit", "ran", "seg", "chains×tune/draws", "total s", "compile s", "sampling s",
        "setup s", "ms/iter", "steps/draw", "div", "min ESS", "max R̂", "ESS/s",
    ]
    return table(header, rows)


def ratio_table(results: list[Result]) -> str:
    """PyMC-Marketing time / ours, for every (ours, PyMC-Marketing) pair of a family."""
    rows = []
    for ours in (r for r in results if r.job.tool == "ours"):
        target = TARGET_HIERARCHICAL if ours.job.hierarchical else TARGET_ONE_SEGMENT
        for pmm in (r for r in results if r.job.tool == "pmm" and r.job.family == ours.job.family):
            same_work = pmm.job.iterations == ours.job.iterations
            per_iter = pmm.ms_per_iteration / ours.ms_per_iteration
            headline = pmm.total_s / ours.total_s if same_work else per_iter
            rows.append(
                [
                    f"{ours.job.family} {ours.job.label}",
                    f"{pmm.job.label} ({pmm.actual_sampler})",
                    f"{pmm.total_s / ours.total_s:.1f}×" if same_work else "— (other work)",
                    f"{pmm.sampling_s / ours.sampling_s:.1f}×" if same_work else "—",
                    f"{per_iter:.1f}×",
                    f"≥{target:g}× {'yes' if headline >= target else 'NO'}",
                ]
            )
    header = [
        "ours", "PyMC-Marketing", "total ratio", "sampling ratio", "sampling/iter ratio",
        "target",
    ]
    return table(header, rows)


def agreement(a: Estimate, b: Estimate) -> float:
    """|Δ mean| in combined Monte Carlo standard errors."""
    return abs(a.mean - b.mean) / math.hypot(a.mcse, b.mcse)


def means_table(results: list[Result], family: str) -> str:
    """Posterior means ± MCSE of one family's one-segment fits, with agreement checks."""
    fits = [r for r in results if r.job.family == family and r.estimates]
    reference = next((r for r in fits if r.job.tool == "pmm"), fits[0])
    others = [r for r in fits if r is not reference]
    header = ["param", *(f"{r.job.label} ({r.actual_sampler})" for r in fits)]
    header += [f"{r.job.label} vs {reference.job.label}" for r in others]
    rows = []
    for name in NATURAL[family]:
        row = [name]
        row += [f"{r.estimates[name].mean:.4f} ± {r.estimates[name].mcse:.4f}" for r in fits]
        for r in others:
            z = agreement(r.estimates[name], reference.estimates[name])
            row.append(f"{z:.1f} {'ok' if z < AGREE_Z else 'DIFFERS'}")
        rows.append(row)
    return table(header, rows)


def report(results: list[Result], args: argparse.Namespace) -> None:
    """Print the tables and write the JSON."""
    print("\nFits (times in seconds; setup = total − sampling: build, compile, post-processing)")
    print(timing_table(results))
    if any(r.job.tool == "pmm" for r in results):
        print("\nTime ratios, PyMC-Marketing / ours (> 1: ours is faster). Targets: one "
              f"segment ≥{TARGET_ONE_SEGMENT:g}×, hierarchical ≥{TARGET_HIERARCHICAL:g}× "
              "against PyMC-Marketing's one-segment fit.")
        if args.pmm_tune is not None or args.pmm_draws is not None:
            print("PyMC-Marketing ran other tune/draws: the target is judged on sampling time "
                  "per iteration.")
        print(ratio_table(results))
    for family in args.families:
        if any(r.job.family == family and r.estimates for r in results):
            print(f"\n{family}: posterior means ± MCSE; last columns: |Δ| in combined MCSEs "
                  f"(ok below {AGREE_Z:g})")
            print(means_table(results, family))
    notes = sorted({f"{r.job.family} {r.job.label}: {w}" for r in results for w in r.warnings})
    if notes:
        print("\nWarnings raised during the fits:")
        print("\n".join(f"  {n}" for n in notes))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "settings": {**vars(args), "cores": CORES, "seed": SEED, "target_accept": TARGET_ACCEPT},
        "results": [
            {**asdict(r), "label": r.job.label, "ms_per_iteration": r.ms_per_iteration}
            for r in results
        ],
    }
    OUT.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    print(f"\nwrote {OUT.relative_to(ROOT)}")


# ------------------------------------------------------- time to 400 effective draws (issue 11)

SPEED_OUT = Path(__file__).parent / "_data" / "bench_fit_speed.json"
EFFECTIVE = 400  # the headline: wall time ÷ (min bulk ESS / EFFECTIVE)
SEGMENTATIONS = {
    "one": "one segment",
    "month_tier": "9: acquisition month × first-basket tier",
    "week_tier": "acquisition week × first-basket tier",
    "sim100": "100 segments, simulated Pareto/NBD world of 200,000 customers",
}


@dataclass(frozen=True)
class SpeedJob:
    """One fit of the speed table, in its own interpreter.

    ``model`` is ``bg_nbd``, ``pareto_nbd`` or ``gamma_gamma`` for PyMC-Marketing; ours
    fits ``bg_nbd`` alone or ``pareto_nbd`` with Gamma-Gamma spend (each part is reported).
    """

    tool: str
    model: str
    segments: str
    chains: int
    tune: int
    draws: int


@dataclass(frozen=True)
class PartResult:
    """One model part of a speed job: its wall time and how much it bought."""

    part: str
    segments: int
    rows: int
    seconds: float
    pilot_s: float
    compile_s: float
    min_ess: float
    worst: str
    steps_per_draw: float
    divergences: int
    max_rhat: float
    min_bfmi: float

    @property
    def t400(self) -> float:
        """Seconds to EFFECTIVE effective draws of the worst-mixing quantity."""
        return self.seconds / (self.min_ess / EFFECTIVE)


def speed_summary(job: SpeedJob) -> Any:
    """The customer summaries a speed job fits (CDNOW master, or the simulated world)."""
    from bayesclv.data import CustomerSummary
    from bayesclv.pipeline import summarise_spec
    from bayesclv.simulate import draw_truth, simulate_customers

    if job.segments == "sim100":
        truth = draw_truth("pareto_nbd", 100, tau=0.3, seed=SEED)
        world = simulate_customers(truth, 2000, seed=SEED + 1)
        return CustomerSummary.from_frame(
            world.summary_frame(), customer="customer_id", segment="segment"
        )
    return summarise_spec(speed_spec(job))


def speed_spec(job: SpeedJob) -> Any:
    """Our spec for a speed job: ``models/cdnow_segments.toml`` with the job's settings."""
    from bayesclv.spec import load_spec

    spec = load_spec(SEGMENTS_SPEC)
    data = spec.data
    if job.segments == "one":
        data = replace(data, segmentation="none")
    elif job.segments == "week_tier":
        data = replace(data, cohort_freq="W")
    spec = replace(
        spec,
        family="bg_nbd" if job.model == "bg_nbd" else "pareto_nbd",
        spend=job.model == "pareto_nbd",
        data=data,
    )
    return spec.with_sampler(
        method="nuts", backend="nutpie", chains=job.chains, tune=job.tune, draws=job.draws,
        target_accept=TARGET_ACCEPT, seed=SEED, cores=CORES,
    )


def part_result(
    part: str, tree: xr.DataTree, seconds: float, pilot: float, compile_s: float,
    segments: int, rows: int,
) -> PartResult:
    """Diagnose one fitted part: every posterior variable counts for the minimum ESS."""
    import numpy as np

    from bayesclv.models.convergence import _bfmi

    posterior = tree["posterior"].to_dataset()
    stats = tree["sample_stats"].to_dataset()
    ess, rhat = az.ess(posterior, method="bulk"), az.rhat(posterior)
    worst = min(posterior.data_vars, key=lambda v: float(ess[v].min()))
    return PartResult(
        part=part,
        segments=segments,
        rows=rows,
        seconds=seconds,
        pilot_s=pilot,
        compile_s=compile_s,
        min_ess=float(ess[worst].min()),
        worst=str(worst),
        steps_per_draw=float(stats["n_steps"].mean()),
        divergences=int(stats["diverging"].sum()),
        max_rhat=float(max(float(rhat[v].max()) for v in posterior.data_vars)),
        min_bfmi=float(np.min(_bfmi(stats["energy"].values))),
    )


def run_speed_ours(job: SpeedJob) -> list[PartResult]:
    """Fit with bayesclv, timing each part (pilot, compile, sampling) separately."""
    import importlib

    from bayesclv.models import fit

    fit_module = importlib.import_module("bayesclv.models.fit")
    summary = speed_summary(job)
    spec = speed_spec(job)
    spans: list[tuple[float, float, float]] = []
    run, choose = fit_module._run, fit_module.choose_centring

    def timed_run(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        with nutpie_timers() as timers:
            tree = run(*args, **kwargs)
        spans.append((time.perf_counter() - started, pilot[0], timers["compile"]))
        pilot[0] = 0.0
        return tree

    pilot = [0.0]

    def timed_choose(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return choose(*args, **kwargs)
        finally:
            pilot[0] += time.perf_counter() - started

    fit_module._run, fit_module.choose_centring = timed_run, timed_choose
    try:
        result = fit(summary, spec, progress=False)
    finally:
        fit_module._run, fit_module.choose_centring = run, choose
    rows = len(summary.compress().rows)
    spenders = int((summary.frame["n_spend"] > 0).sum())
    parts = [("frequency", result.frequency, rows)]
    if result.spend is not None:
        parts.append(("spend", result.spend, spenders))
    return [
        part_result(name, tree, seconds, pilot_s, compile_s, len(summary.segments), n)
        for (name, tree, n), (seconds, pilot_s, compile_s) in zip(parts, spans, strict=True)
    ]


def run_speed_pmm(job: SpeedJob) -> list[PartResult]:
    """Fit PyMC-Marketing's one-segment model of the job (its default priors for spend)."""
    import pymc_marketing.clv as clv

    from bayesclv.pipeline import summarise_spec

    spec = speed_spec(replace(job, segments="one"))
    frame = summarise_spec(spec).frame.reset_index()
    kwargs = {
        "chains": job.chains, "tune": job.tune, "draws": job.draws, "cores": CORES,
        "target_accept": TARGET_ACCEPT, "random_seed": SEED, "progressbar": False,
    }
    with nutpie_timers() as timers:
        started = time.perf_counter()
        if job.model == "gamma_gamma":
            data = frame[frame["n_spend"] > 0].rename(
                columns={"mean_spend": "monetary_value", "n_spend": "frequency"}
            )[["customer_id", "frequency", "monetary_value"]]
            model = clv.GammaGammaModel()
            idata = model.fit(data=data, method="mcmc", **kwargs)
            rows = len(data)
        else:
            data = frame.rename(columns={"x": "frequency", "t_x": "recency"})[
                ["customer_id", "frequency", "recency", "T"]
            ]
            config, targets = pmm_priors(job.model)
            model = getattr(clv, PMM_CLASS[job.model])(model_config=config)
            model.build_model(data)
            match_joint_prior(model.model, config, targets)
            idata = model.fit(data=data, method="mcmc", **kwargs)
            rows = len(data)
        seconds = time.perf_counter() - started
    return [part_result(job.model, idata, seconds, 0.0, timers["compile"], 1, rows)]


def run_speed_child(job: SpeedJob, *, warm_up: bool) -> list[PartResult] | None:
    """Run a speed job in a fresh interpreter (tiny and untimed first, to warm caches)."""
    if warm_up:
        job = replace(job, chains=1, tune=2, draws=2)
    out = subprocess.run(
        [sys.executable, __file__, "--speed-job", json.dumps(asdict(job)),
         "--warm-up" if warm_up else "--no-warm-up"],
        capture_output=True, text=True, cwd=ROOT,
    )
    if out.returncode:
        sys.exit(f"speed job {job} failed:\n{out.stderr[-4000:]}")
    if warm_up:
        return None
    return [PartResult(**p) for p in json.loads(out.stdout.strip().splitlines()[-1])]


def speed_table(args: argparse.Namespace) -> None:
    """Run the speed jobs and print time to 400 effective draws, with ratios."""
    size = {"chains": args.chains, "tune": args.tune, "draws": args.draws}
    jobs = [SpeedJob("ours", model, seg, **size)
            for model in ("pareto_nbd", "bg_nbd") for seg in args.segmentations]
    if not args.skip_pmm:
        jobs += [SpeedJob("pmm", model, "one", **size)
                 for model in ("bg_nbd", "gamma_gamma", "pareto_nbd")]
    results: dict[tuple[str, str, str], PartResult] = {}
    for job in jobs:
        print(f"  {job.tool} {job.model} {job.segments} ...", end="", flush=True)
        if args.warm_up:
            run_speed_child(job, warm_up=True)
        for part in run_speed_child(job, warm_up=False):
            name = {"frequency": job.model, "spend": "gamma_gamma"}.get(part.part, part.part)
            results[(job.tool, name, job.segments)] = part
            print(f" {name} {part.seconds:.1f} s", end="", flush=True)
        print()
    rows = []
    for (tool, name, seg), part in results.items():
        one = results.get((tool, name, "one"))
        pmm = results.get(("pmm", name, "one"))
        rows.append([
            f"{tool} {name} ({seg})", str(part.segments), f"{part.rows:,}",
            f"{part.seconds:.1f}", f"{part.pilot_s:.1f}", f"{part.compile_s:.1f}",
            f"{part.min_ess:.0f} ({part.worst})", f"{part.t400:.1f}",
            f"{part.steps_per_draw:.1f}", str(part.divergences), f"{part.max_rhat:.3f}",
            f"{part.min_bfmi:.2f}",
            f"{part.t400 / one.t400:.2f}" if one and tool == "ours" else "—",
            f"{pmm.t400 / part.t400:.1f}×" if pmm and tool == "ours" else "—",
        ])
    for seg in args.segmentations:
        freq, spend = results.get(("ours", "pareto_nbd", seg)), results.get(
            ("ours", "gamma_gamma", seg))
        if freq and spend:
            both = (freq.seconds + spend.seconds) / (min(freq.min_ess, spend.min_ess) / EFFECTIVE)
            rows.append([f"ours pareto_nbd + gamma_gamma ({seg})", str(freq.segments), "",
                         f"{freq.seconds + spend.seconds:.1f}", "", "",
                         f"{min(freq.min_ess, spend.min_ess):.0f}", f"{both:.1f}",
                         "", "", "", "", "", ""])
    header = ["fit", "seg", "rows", "wall s", "pilot s", "compile s", "min bulk ESS (worst)",
              f"s to {EFFECTIVE} ESS", "steps/draw", "div", "max R̂", "min E-BFMI",
              "÷ ours 1-seg", "PMM 1-seg ÷ ours"]
    print(f"\nTime to {EFFECTIVE} effective draws: wall time of the part (pilot, compile and "
          f"sampling included) ÷ (min bulk ESS over every posterior variable / {EFFECTIVE}). "
          f"{args.chains} chains × {args.tune}/{args.draws}, target_accept {TARGET_ACCEPT}, "
          f"{CORES} cores, seed {SEED}; CDNOW master, calibration to {CALIBRATION_END}.")
    print(table(header, rows))
    SPEED_OUT.parent.mkdir(parents=True, exist_ok=True)
    SPEED_OUT.write_text(json.dumps(
        {"settings": vars(args),
         "results": [{"tool": t, "model": m, "segments": s, **asdict(p), "t400": p.t400}
                     for (t, m, s), p in results.items()]}, indent=2, default=str),
        encoding="utf-8")
    print(f"\nwrote {SPEED_OUT.relative_to(ROOT)}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments; ``--quick`` overrides data and sizes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=("master", "sample"), default="master")
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--families", default="bg_nbd,pareto_nbd",
                        help="comma-separated: bg_nbd, pareto_nbd")
    parser.add_argument("--skip-pmm", action="store_true", help="skip PyMC-Marketing")
    parser.add_argument("--hierarchical", action=argparse.BooleanOptionalAction, default=True,
                        help="also fit the cohort × value-tier model (default: yes)")
    parser.add_argument("--pmm-other-sampler", action=argparse.BooleanOptionalAction,
                        default=True,
                        help="also fit PyMC-Marketing with the NUTS it does not pick itself "
                             "(default: yes; its Pareto/NBD takes ~20 min per 2×1000 on "
                             "CDNOW master)")
    parser.add_argument("--pmm-tune", type=int, help="PyMC-Marketing tune (default: --tune)")
    parser.add_argument("--pmm-draws", type=int, help="PyMC-Marketing draws (default: --draws)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: sample data, 2 chains × 200 tune / 200 draws")
    parser.add_argument("--warm-up", action=argparse.BooleanOptionalAction, default=True,
                        help="before each timed fit, run it tiny and untimed to fill the "
                             "on-disk compile caches (default: yes)")
    parser.add_argument("--speed", action="store_true",
                        help="the hierarchical speed table: time to 400 effective draws of "
                             "ours (one segment and --segmentations) and PyMC-Marketing's "
                             "one-segment fits")
    parser.add_argument("--segmentations", default="one,month_tier,week_tier",
                        help=f"comma-separated, for --speed: {', '.join(SEGMENTATIONS)}")
    parser.add_argument("--job", help=argparse.SUPPRESS)
    parser.add_argument("--speed-job", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.families = [f.strip() for f in args.families.split(",") if f.strip()]
    args.segmentations = [s.strip() for s in args.segmentations.split(",") if s.strip()]
    if set(args.segmentations) - set(SEGMENTATIONS):
        parser.error(f"unknown segmentations; use {', '.join(SEGMENTATIONS)}")
    unknown = set(args.families) - set(NATURAL)
    if unknown:
        parser.error(f"unknown families {sorted(unknown)}; use {', '.join(NATURAL)}")
    if args.quick:
        args.data, args.chains, args.tune, args.draws = "sample", 2, 200, 200
    return args


def main() -> None:
    args = parse_args()
    if args.speed_job:
        job = SpeedJob(**json.loads(args.speed_job))
        parts = (run_speed_ours if job.tool == "ours" else run_speed_pmm)(job)
        print(json.dumps([asdict(p) for p in parts]))
        return
    if args.speed:
        speed_table(args)
        return
    if args.job:
        job = Job(**json.loads(args.job))
        if args.warm_up:
            (run_ours if job.tool == "ours" else run_pmm)(job)
        else:
            print(json.dumps(asdict(run_job(job))))
        return
    print(f"CDNOW {args.data}, calibration to {CALIBRATION_END}, {args.chains} chains × "
          f"{args.tune} tune / {args.draws} draws, cores={CORES}, target_accept={TARGET_ACCEPT}")
    report(run_all(args), args)


if __name__ == "__main__":
    main()
