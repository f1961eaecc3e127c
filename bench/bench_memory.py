"""Peak memory of every stage after the fit, on CDNOW master at the defaults, side by side.

Each stage runs in a fresh Python process that loads the 9-segment fit of
``models/cdnow_segments.toml``, the summary of its 23,570 customers and the transaction log,
then runs the stage once with its default arguments. The process's peak resident set size
(``ru_maxrss``) is the stage's peak; ``loaded`` is the floor every stage starts from (the
libraries, the fit, the summary and the log).

    .venv/bin/python bench/bench_memory.py                      # every stage
    .venv/bin/python bench/bench_memory.py --stages holdout_report action_values
    .venv/bin/python bench/bench_memory.py --fit out/cdnow_segments_fit.nc

The fit is read from ``--fit`` (default: the one ``make demo`` writes); when that file does
not exist the spec is fitted once (3–5 minutes) and saved there.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "models" / "cdnow_segments.toml"
DEFAULT_FIT = ROOT / "out" / "cdnow_segments_fit.nc"


def _score_customers(fit, summary, log) -> None:
    from bayesclv.clv import score_customers

    score_customers(fit, summary)


def _value_tables(fit, summary, log) -> None:
    from bayesclv.clv import value_tables

    value_tables(fit, summary, top=100)


def _value_by_period(fit, summary, log) -> None:
    from bayesclv.clv import value_by_period

    value_by_period(fit, summary)


def _holdout_report(fit, summary, log) -> None:
    from bayesclv.validate import holdout_report

    holdout_report(fit, summary, log)


def _predictive_clv(fit, summary, log) -> None:
    from bayesclv.clv import predictive_clv

    predictive_clv(fit, summary, seed=0)


def _action_values(fit, summary, log) -> None:
    from bayesclv.decision import action_values

    action_values(fit, summary)


def _action_values_thin4(fit, summary, log) -> None:
    from bayesclv.decision import action_values

    action_values(fit, summary, thin=4)


def _value_of_information(fit, summary, log) -> None:
    from bayesclv.decision import value_of_information

    value_of_information(fit, summary)


def _report_pack(fit, summary, log) -> None:
    from bayesclv.report import build_report, write_report

    with tempfile.TemporaryDirectory() as folder:
        write_report(build_report(fit, summary), folder, name=fit.spec.name)


STAGES: dict[str, tuple[str, Callable]] = {
    "loaded": ("fit, summary and log loaded; nothing run", lambda fit, summary, log: None),
    "score_customers": ("score_customers(fit, summary)", _score_customers),
    "value_tables": ("value_tables(fit, summary, top=100)", _value_tables),
    "value_by_period": ("value_by_period(fit, summary)", _value_by_period),
    "holdout_report": ("holdout_report(fit, summary, log)", _holdout_report),
    "predictive_clv": ("predictive_clv(fit, summary, seed=0)", _predictive_clv),
    "action_values": ("action_values(fit, summary): the spec's 4 actions", _action_values),
    "action_values_thin4": ("action_values(fit, summary, thin=4), as `bayesclv decide`",
                            _action_values_thin4),
    "value_of_information": ("value_of_information(fit, summary)", _value_of_information),
    "report_pack": ("build_report + write_report (CSV, Excel, HTML)", _report_pack),
}


def load(fit_path: Path):
    """The fit (fitted and saved once if missing), the spec's summary and the log."""
    from bayesclv.datasets import load_cdnow
    from bayesclv.models import Fit, fit
    from bayesclv.models.fit import check_fit_matches
    from bayesclv.pipeline import summarise_spec
    from bayesclv.spec import load_spec

    spec = load_spec(SPEC)
    summary = summarise_spec(spec)
    if fit_path.exists():
        result = Fit.load(fit_path)
    else:
        print(f"fitting {SPEC.name} once (3-5 minutes); saving it to {fit_path}",
              file=sys.stderr)
        result = fit(summary, spec, progress=False)
        fit_path.parent.mkdir(parents=True, exist_ok=True)
        result.save(fit_path)
    check_fit_matches(result, spec, summary, source=str(fit_path))
    return result, summary, load_cdnow("master")


def peak_bytes() -> int:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_stage(name: str, fit_path: Path) -> None:
    """Run one stage in this process and print its measurements as JSON."""
    warnings.filterwarnings("ignore")
    fit, summary, log = load(fit_path)
    loaded = peak_bytes()
    start = time.perf_counter()
    STAGES[name][1](fit, summary, log)
    print(json.dumps({"stage": name, "loaded": loaded, "peak": peak_bytes(),
                      "seconds": time.perf_counter() - start}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stages", nargs="+", choices=list(STAGES), default=list(STAGES))
    parser.add_argument("--fit", type=Path, default=DEFAULT_FIT)
    parser.add_argument("--stage", choices=list(STAGES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage is not None:
        run_stage(args.stage, args.fit)
        return
    if not args.fit.exists():
        load(args.fit)  # fit once here, not in every stage's process
    rows = {}
    for name in args.stages:
        done = subprocess.run([sys.executable, __file__, "--stage", name, "--fit", str(args.fit)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            rows[name] = {"call": STAGES[name][0], "peak_GB": float("nan"),
                          "loaded_GB": float("nan"), "seconds": float("nan")}
            print(f"{name} failed (exit {done.returncode}):\n{done.stderr[-2000:]}",
                  file=sys.stderr)
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        rows[name] = {"call": STAGES[name][0], "peak_GB": result["peak"] / 1e9,
                      "loaded_GB": result["loaded"] / 1e9, "seconds": result["seconds"]}
        print(f"{name}: peak {result['peak'] / 1e9:.2f} GB", file=sys.stderr)
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "stage"
    print(f"CDNOW master, 23,570 customers, {args.fit.name}: peak RSS per stage, each in a "
          "fresh process (GB = 10^9 bytes)")
    print(table.to_string(float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
