"""Calibration of effects learned from an experiment's log, beside the old outcome-table proxy.

Each replication draws a Pareto/NBD world around CDNOW's published parameters and a true
treatment (log f_λ ~ N(0, 0.25), log f_μ ~ N(log 0.7, 0.3), log f_z ~ N(0, 0.15) on the
mean spend per purchase), simulates a randomised action
on the recently active customers (``bayesclv.simulate.simulate_experiment``: 26 weeks of
history, half of those active in the last 13 weeks treated, 26 weeks of follow-up) and
learns the effects twice:

* **from the log** (``learn_effect_from_log``): the Pareto/NBD with a treatment, fitted on
  every customer's whole history;
* **the proxy** (``learn_effect`` on an outcome table of the experiment's customers):
  ``dropout_rate`` from "bought in the last 13 weeks of the follow-up", ``purchase_rate``
  from purchases in the follow-up (exposure 26 weeks), ``spend`` from the average amount
  per purchase in the follow-up — what an analyst could do before.

It prints, per method and process, how often the 90 % interval covers the true relative
change (nominal 90 %; the issue's band 80–98 %), the mean interval width and the mean error,
and writes every replication to ``bench/_data/experiment_calibration.csv``.

Usage::

    .venv/bin/python bench/bench_experiment_calibration.py --replications 40
    .venv/bin/python bench/bench_experiment_calibration.py --replications 3 --customers 2000
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from bayesclv.actions import Action, Effect
from bayesclv.decision import learn_effect
from bayesclv.decision.treatment import learn_effect_from_log
from bayesclv.simulate import HierarchicalTruth, simulate_experiment

PUBLISHED = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669,
             "p": 6.25, "q": 3.74, "gamma": 15.44}
FOLLOW_UP_WEEKS = 26
RECENT_WEEKS = 13


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=40)
    parser.add_argument("--customers", type=int, default=4000)
    parser.add_argument("--draws", type=int, default=400)
    parser.add_argument("--tune", type=int, default=400)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    logging.getLogger("pymc").setLevel(logging.ERROR)
    rng = np.random.default_rng(args.seed)
    rows = []
    for rep in range(args.replications):
        rows.extend(_replication(rep, rng, args))
        done = pd.DataFrame(rows)
        print(f"replication {rep + 1}/{args.replications}: "
              + ", ".join(f"{m}/{p} {g['covered'].mean():.0%}"
                          for (m, p), g in done.groupby(["method", "process"])), flush=True)
    table = pd.DataFrame(rows)
    out = Path(__file__).with_name("_data") / "experiment_calibration.csv"
    out.parent.mkdir(exist_ok=True)
    table.to_csv(out, index=False)
    summary = table.groupby(["method", "process"]).agg(
        replications=("covered", "size"), coverage=("covered", "mean"),
        width=("width", "mean"), error=("error", "mean"),
        abs_error=("error", lambda e: e.abs().mean()),
        seconds=("seconds", "mean"))
    print(f"\n{args.replications} experiments of {args.customers} customers, "
          f"2 chains x {args.tune}/{args.draws}; 90 % intervals of the relative change\n")
    print(summary.to_string(float_format=lambda v: f"{v:.3f}"))


def _replication(rep: int, rng: np.random.Generator, args: argparse.Namespace) -> list[dict]:
    population = {k: v * float(np.exp(rng.normal(0.0, 0.15))) for k, v in PUBLISHED.items()}
    truth = HierarchicalTruth.from_frame("pareto_nbd", pd.DataFrame(population, index=["all"]))
    f_purchase = float(np.exp(rng.normal(0.0, 0.25)))
    f_dropout = float(np.exp(rng.normal(np.log(0.7), 0.3)))
    f_spend = float(np.exp(rng.normal(0.0, 0.15)))
    world = simulate_experiment(truth, args.customers, purchase_factor=f_purchase,
                                dropout_factor=f_dropout, spend_factor=f_spend,
                                follow_up_weeks=FOLLOW_UP_WEEKS, seed=int(rng.integers(2**31)))
    action = Action("offer", cost=1.0, effects=(Effect("dropout_rate", -0.5, 1.0),
                                                Effect("purchase_rate", -0.5, 1.0),
                                                Effect("spend", -0.5, 1.0)))
    truths = {"purchase_rate": f_purchase - 1.0, "dropout_rate": f_dropout - 1.0,
              "spend": f_spend - 1.0}
    rows = []
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        learned = learn_effect_from_log(action, world.transactions, world.assignment,
                                        end=world.end, draws=args.draws, tune=args.tune,
                                        seed=rep)
    seconds = time.perf_counter() - start
    for process, effect in learned.effects.items():
        fit_ok = (learned.spend_convergence if process == "spend" else learned.convergence).ok
        rows.append(_row(rep, "log", process, effect, truths[process], seconds, fit_ok))
    table = _outcome_table(world)
    for process, outcome, exposure in (("dropout_rate", "retained", None),
                                       ("purchase_rate", "purchases", "weeks"),
                                       ("spend", "spend", None)):
        start = time.perf_counter()
        data = table.dropna(subset=["spend"]) if process == "spend" else table
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            proxy = learn_effect(action, process, data, outcome=outcome, exposure=exposure,
                                 seed=rep)
        rows.append(_row(rep, "proxy", process, proxy.effect, truths[process],
                         time.perf_counter() - start, proxy.convergence.ok))
    return rows


def _outcome_table(world) -> pd.DataFrame:
    """Per experiment customer: purchases and mean amount in the follow-up, and bought in its
    last weeks (the mean amount is NaN for customers without a purchase)."""
    log = world.transactions
    after = log[log["date"] >= world.treated_on]
    recent = after[after["date"] > world.end - pd.Timedelta(weeks=RECENT_WEEKS)]
    ids = world.assignment["customer_id"]
    return pd.DataFrame({
        "treated": world.assignment["treated"].astype(int).to_numpy(),
        "purchases": after.groupby("customer_id").size().reindex(ids, fill_value=0).to_numpy(),
        "retained": ids.isin(set(recent["customer_id"])).astype(int).to_numpy(),
        "spend": after.groupby("customer_id")["amount"].mean().reindex(ids).to_numpy(),
        "weeks": float(FOLLOW_UP_WEEKS),
    }, index=ids.to_numpy())


def _row(rep: int, method: str, process: str, effect: Effect, truth: float, seconds: float,
         converged: bool) -> dict:
    return {"replication": rep, "method": method, "process": process, "truth": truth,
            "mean": float(np.mean(effect.samples)), "low": effect.low, "high": effect.high,
            "covered": effect.low <= truth <= effect.high, "width": effect.high - effect.low,
            "error": float(np.mean(effect.samples)) - truth, "seconds": seconds,
            "converged": converged}


if __name__ == "__main__":
    main()
