"""Scoring benchmark: N synthetic customers × D posterior draws, time and peak RSS, against
PyMC-Marketing's ``customer_lifetime_value`` on the same posterior draws and customers.

    .venv/bin/python bench/bench_score.py                       # full: 1,000,000 × 1,000
    .venv/bin/python bench/bench_score.py --customers 100000    # reduced

The posterior is built by hand (draws scattered around the published CDNOW values) so that
both libraries score exactly the same draws; customers are drawn from the BG/NBD generative
process with daily resolution over a 39-week calibration. PyMC-Marketing scores a subset
(``--pmm-customers``) and is compared per customer; both use the same discounting (annual
10 %, monthly cash flows at month ends, months of 30.4375 days), so their discounted expected
purchases must agree, which is checked.
"""

from __future__ import annotations

import argparse
import threading
import time
import warnings

import numpy as np
import pandas as pd
import psutil
import xarray as xr

from bayesclv.clv import clv_draws, score_customers
from bayesclv.data import CustomerSummary
from bayesclv.models import Fit
from bayesclv.spec import ModelSpec, ValueSpec

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
SPEND = {"p": 6.25, "q": 3.74, "gamma": 15.44}
VALUE = ValueSpec(margin=1.0, annual_discount_rate=0.10, horizon_months=36, period="month")


class PeakRSS:
    """Sample the process RSS every 50 ms in a thread; ``peak`` in bytes."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        process = psutil.Process()
        while not self._stop.is_set():
            self.peak = max(self.peak, process.memory_info().rss)
            time.sleep(0.05)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def synthetic_summary(n: int, seed: int = 0) -> CustomerSummary:
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 39 * 7, n) / 7.0
    lam = rng.gamma(PUBLISHED["r"], 1.0 / PUBLISHED["alpha"], n)
    dropout = rng.beta(PUBLISHED["a"], PUBLISHED["b"], n)
    events = rng.poisson(lam * T)
    x = np.minimum(events, rng.geometric(dropout))
    # The x-th of `events` uniform purchase times on [0, T], rounded to days.
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), events - x + 1), 0.0)
    t_x = np.minimum(np.round(t_x * 7) / 7, T)
    nu = rng.gamma(SPEND["q"], 1.0 / SPEND["gamma"], n)
    mean_spend = np.where(x > 0, rng.gamma(SPEND["p"] * np.maximum(x, 1), 1.0 / nu)
                          / np.maximum(x, 1), np.nan)
    frame = pd.DataFrame({"customer_id": np.arange(n).astype(str), "x": x, "t_x": t_x, "T": T,
                          "n_spend": x, "mean_spend": mean_spend})
    return CustomerSummary.from_frame(frame)


def hand_fit(draws: int, seed: int = 1) -> Fit:
    rng = np.random.default_rng(seed)

    def tree(values: dict[str, float]) -> xr.DataTree:
        ds = xr.Dataset({k: (("chain", "draw", "segment"),
                             v * np.exp(0.08 * rng.standard_normal((1, draws, 1))))
                         for k, v in values.items()}, coords={"segment": ["all"]})
        return xr.DataTree.from_dict({"posterior": ds})

    spec = ModelSpec.from_dict({
        "model": {"name": "bench", "family": "bg_nbd", "spend": True},
        "data": {"source": "bayesclv:cdnow_sample", "calibration_end": "1997-09-30"},
    })
    return Fit(spec=spec, segments=("all",), time_unit="weeks", fingerprint="bench",
               frequency=tree(PUBLISHED), spend=tree(SPEND))


def pymc_marketing_clv(fit: Fit, summary: CustomerSummary) -> tuple[float, np.ndarray]:
    from pymc_marketing.clv import BetaGeoModel, customer_lifetime_value

    frame = summary.frame
    data = pd.DataFrame({"customer_id": np.arange(len(frame)), "frequency": frame["x"].values,
                         "recency": frame["t_x"].values, "T": frame["T"].values})
    model = BetaGeoModel()
    model.fit(data, method="map", progressbar=False)
    posterior = fit.parameters().isel(segment=0, drop=True)
    model.idata["posterior"] = xr.DataTree(posterior)
    # future_spend = 1: the result is the discounted expected purchases per draw.
    scored = data.assign(future_spend=1.0)
    monthly = (1 + VALUE.annual_discount_rate) ** (1 / 12) - 1
    customer_lifetime_value(model, scored.head(5), future_t=36, discount_rate=monthly,
                            time_unit="W")
    start = time.perf_counter()
    value = customer_lifetime_value(model, scored, future_t=36, discount_rate=monthly,
                                    time_unit="W")
    return time.perf_counter() - start, value.values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--chunk-size", type=int, default=10_000)
    parser.add_argument("--pmm-customers", type=int, default=300)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    summary = synthetic_summary(args.customers)
    fit = hand_fit(args.draws)
    baseline = psutil.Process().memory_info().rss
    with PeakRSS() as rss:
        start = time.perf_counter()
        scores = score_customers(fit, summary, value=VALUE, chunk_size=args.chunk_size)
        ours = time.perf_counter() - start
    distinct = len(summary.frame.groupby(["x", "t_x", "T"]).size())
    print(f"bayesclv: {args.customers:,} customers ({distinct:,} distinct histories) × "
          f"{args.draws:,} draws, chunk {args.chunk_size:,}: {ours:.1f} s "
          f"({1e6 * ours / args.customers:.1f} µs/customer), peak RSS {rss.peak / 2**30:.2f} GiB "
          f"(before scoring {baseline / 2**30:.2f} GiB)")
    print(f"  portfolio residual CLV {scores.totals['clv'].sel(segment='portfolio').mean():,.0f}")

    subset = CustomerSummary(frame=summary.frame.iloc[:args.pmm_customers],
                             time_unit=summary.time_unit)
    theirs_time, theirs = pymc_marketing_clv(fit, subset)
    mine = clv_draws(fit, subset, value=VALUE)["discounted_purchases"].values
    per_ours = ours / args.customers
    per_theirs = theirs_time / args.pmm_customers
    print(f"PyMC-Marketing customer_lifetime_value: {args.pmm_customers:,} customers × "
          f"{args.draws:,} draws: {theirs_time:.1f} s ({1e6 * per_theirs:.0f} µs/customer)")
    print(f"  same draws and customers: max relative difference of discounted purchases "
          f"{np.max(np.abs(mine - theirs) / np.abs(theirs)):.2e}")
    print(f"speed-up per customer: {per_theirs / per_ours:,.0f}× "
          "(bayesclv also computes P(alive), spend, value at risk, medians, sds and HDIs)")


if __name__ == "__main__":
    main()
