"""CDNOW sample holdout: our posterior predictions vs lifetimes' MLE BG/NBD and PyMC-Marketing.

Calibration to 1997-09-30 (39 weeks), holdout to 1998-06-30 (39 weeks). Prints, per model,
the per-customer MAE and RMSE of holdout repeat purchases against the actual counts.

    .venv/bin/python bench/bench_holdout.py [--draws 500]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from bayesclv.data import summarise
from bayesclv.datasets import load_cdnow
from bayesclv.models import fit
from bayesclv.spec import ModelSpec
from bayesclv.validate.holdout import holdout_report


def spec(family: str, draws: int) -> ModelSpec:
    return ModelSpec.from_dict({
        "model": {"name": f"bench_{family}", "family": family, "spend": False},
        "data": {"source": "bayesclv:cdnow_sample", "calibration_end": "1997-09-30",
                 "holdout_end": "1998-06-30"},
        "sampler": {"chains": 2, "tune": draws, "draws": draws, "seed": 7},
    })


def errors(predicted: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    diff = predicted - actual
    return {"mae": float(np.abs(diff).mean()), "rmse": float(np.sqrt((diff ** 2).mean()))}


def lifetimes_mle(frame: pd.DataFrame, length: float) -> np.ndarray:
    from lifetimes import BetaGeoFitter

    model = BetaGeoFitter(penalizer_coef=0.0).fit(frame["x"], frame["t_x"], frame["T"])
    return model.conditional_expected_number_of_purchases_up_to_time(
        length, frame["x"], frame["t_x"], frame["T"]).to_numpy()


def pymc_marketing(frame: pd.DataFrame, length: float) -> np.ndarray:
    from pymc_marketing.clv import BetaGeoModel

    data = pd.DataFrame({"customer_id": np.arange(len(frame)), "frequency": frame["x"].to_numpy(),
                         "recency": frame["t_x"].to_numpy(), "T": frame["T"].to_numpy()})
    model = BetaGeoModel()
    model.fit(data, method="map", progressbar=False)
    expected = model.expected_purchases(data=data, future_t=length)
    return expected.mean([d for d in expected.dims if d in ("chain", "draw")]).to_numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=500)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    log = load_cdnow("sample")
    summary = summarise(log, calibration_end="1997-09-30", holdout_end="1998-06-30")
    frame = summary.frame
    actual = frame["x_holdout"].to_numpy()
    length = float(summary.holdout_length)
    rows = {}
    for family in ("bg_nbd", "pareto_nbd"):
        start = time.perf_counter()
        result = fit(summary, spec(family, args.draws), progress=False)
        report = holdout_report(result, summary, log)
        rows[f"bayesclv {family} (NUTS, posterior mean)"] = {
            **errors(report.customers["predicted"].to_numpy(), actual),
            "coverage_90": report.metrics.loc["all customers", "coverage"],
            "seconds": time.perf_counter() - start}
    start = time.perf_counter()
    rows["lifetimes BG/NBD (MLE)"] = {**errors(lifetimes_mle(frame, length), actual),
                                      "seconds": time.perf_counter() - start}
    start = time.perf_counter()
    rows["PyMC-Marketing BetaGeoModel (MAP)"] = {**errors(pymc_marketing(frame, length), actual),
                                                 "seconds": time.perf_counter() - start}
    table = pd.DataFrame.from_dict(rows, orient="index")
    print(f"CDNOW sample, {len(frame)} customers, holdout {length:g} weeks, "
          f"actual mean {actual.mean():.3f} repeat purchases per customer")
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
