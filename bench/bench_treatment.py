"""Cost of the treatment likelihood against the plain Pareto/NBD's, per gradient, side by side.

On CDNOW master (23,570 customers, weeks), a pretend experiment: on 1997-07-01 a random half
of the customers who bought in the 13 weeks before are treated; everyone is observed to
1998-06-30. Both models are built on the same customers (one segment, and the 9 acquisition
month × first-basket tier segments of ``models/cdnow_segments.toml``): the plain Pareto/NBD
(``bayesclv.models.frequency``, with its fused Op) and the Pareto/NBD with the treatment
(``bayesclv.models.treatment``: the same Op for untreated customers, the Gauss–Legendre
graph for treated ones). Each gradient function is compiled with numba (as nutpie does) and
timed over repeated calls at the initial point; the script prints the milliseconds per
gradient and their ratio (the issue's target: within 1.5×).

Usage::

    .venv/bin/python bench/bench_treatment.py [--calls 300]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import pytensor

from bayesclv.data import ColumnMap
from bayesclv.datasets import load_cdnow
from bayesclv.decision.treatment import treated_histories
from bayesclv.models.frequency import PARETO_NBD, build_frequency_model
from bayesclv.models.treatment import build_treatment_model
from bayesclv.pipeline import summarise_spec
from bayesclv.spec import NormalPrior, PriorSpec, load_spec

EXPERIMENT_DAY = pd.Timestamp("1997-07-01")
END = pd.Timestamp("1998-06-30")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    log = load_cdnow("master")
    spec = load_spec("models/cdnow_segments.toml")
    segments = summarise_spec(spec).frame["segment"]
    log = log.assign(segment=log["customer_id"].astype(str).map(segments.astype(str)))
    recent = log[(log["date"] >= EXPERIMENT_DAY - pd.Timedelta(weeks=13))
                 & (log["date"] < EXPERIMENT_DAY)]["customer_id"].astype(str).unique()
    rng = np.random.default_rng(0)
    treated = rng.random(recent.size) < 0.5
    assignment = pd.DataFrame({"customer_id": recent, "treated": treated,
                               "treated_on": np.where(treated, str(EXPERIMENT_DAY.date()), "")})
    effects = {"purchase_rate": NormalPrior(0.0, 1.0), "dropout_rate": NormalPrior(0.0, 1.0)}
    rows = []
    for label, columns in (("1 segment", ColumnMap()),
                           ("9 segments", ColumnMap(segment="segment"))):
        histories, _ = treated_histories(log, assignment, end=END, columns=columns)
        plain = _ms_per_gradient(build_frequency_model(PARETO_NBD, histories.summary,
                                                       PriorSpec()), args.calls)
        with_treatment = _ms_per_gradient(build_treatment_model(histories, PriorSpec(),
                                                                effects), args.calls)
        rows.append({"model": label, "customers": histories.summary.n_customers,
                     "treated": int(histories.treated.sum()),
                     "plain ms/gradient": plain, "treatment ms/gradient": with_treatment,
                     "ratio": with_treatment / plain})
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.2f}"))


def _ms_per_gradient(model, calls: int) -> float:
    """Median over 5 batches of the wall time per call of the numba-compiled logp gradient."""
    point = model.initial_point()
    inputs = model.value_vars
    logp = model.logp()
    grad = pytensor.grad(logp, inputs)
    function = pytensor.function(inputs, [logp, *grad], mode="NUMBA")
    args = [point[v.name] for v in inputs]
    function(*args)
    batches = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            function(*args)
        batches.append((time.perf_counter() - start) / calls * 1e3)
    return float(np.median(batches))


if __name__ == "__main__":
    main()
