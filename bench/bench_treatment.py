"""Cost of the treatment likelihood against the plain Pareto/NBD's, per gradient, side by side.

On CDNOW master (23,570 customers, weeks), a pretend experiment: on 1997-07-01 a random half
of the customers who bought in the 13 weeks before are treated; everyone is observed to
1998-06-30. Both models are built on the same customers (one segment, and the 9 acquisition
month × first-basket tier segments of ``models/cdnow_segments.toml``): the plain Pareto/NBD
(``bayesclv.models.frequency``, with its fused Op) and the Pareto/NBD with the treatment
(``bayesclv.models.treatment``: the same Op for untreated customers, its treated-customer
counterpart on the same row kernel for treated ones). Each gradient function is compiled
with numba (as nutpie does) and timed over repeated calls at the initial point, the two
models in alternating batches so that a change in the machine's load hits both alike; the
script prints the median milliseconds per gradient and the median of the batches' ratios
(the issue's target: within 1.5×).

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
        plain, with_treatment, ratio = _ms_per_gradient(
            build_frequency_model(PARETO_NBD, histories.summary, PriorSpec()),
            build_treatment_model(histories, PriorSpec(), effects), args.calls)
        rows.append({"model": label, "customers": histories.summary.n_customers,
                     "treated": int(histories.treated.sum()),
                     "plain ms/gradient": plain, "treatment ms/gradient": with_treatment,
                     "ratio": ratio})
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.2f}"))


def _ms_per_gradient(plain, treatment, calls: int) -> tuple[float, float, float]:
    """Wall time per call of each model's numba-compiled logp gradient, and their ratio.

    Nine rounds, each a batch of ``calls`` calls of the plain model's function, then one of
    the treatment model's; returns the median ms per call of each and the median of the
    rounds' ratios (treatment / plain).
    """
    functions = [_gradient_function(model) for model in (plain, treatment)]
    times = np.empty((9, 2))
    for i in range(times.shape[0]):
        for j, (function, args) in enumerate(functions):
            start = time.perf_counter()
            for _ in range(calls):
                function(*args)
            times[i, j] = (time.perf_counter() - start) / calls * 1e3
    medians = np.median(times, axis=0)
    return float(medians[0]), float(medians[1]), float(np.median(times[:, 1] / times[:, 0]))


def _gradient_function(model):
    """The model's logp and gradient compiled with numba, called once, and its arguments."""
    point = model.initial_point()
    inputs = model.value_vars
    logp = model.logp()
    function = pytensor.function(inputs, [logp, *pytensor.grad(logp, inputs)], mode="NUMBA")
    args = [point[v.name] for v in inputs]
    function(*args)
    return function, args


if __name__ == "__main__":
    main()
