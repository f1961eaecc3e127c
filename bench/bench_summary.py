"""Benchmark: pandas vs DuckDB summary of a synthetic 10-million-transaction log.

The log (about 1M customers, Parquet, ~10M rows) is generated once under ``bench/_data/``
(git-ignored). Each engine then runs in its own subprocess so that its peak resident memory
is measured cleanly; for pandas, reading the Parquet file is part of its cost.

Usage: ``python bench/bench_summary.py [--rows N] [--threads T] [--memory-limit 2GB]``.
Both engines must find the same customers and repeat purchases, or the run fails.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DATA_DIR = Path(__file__).parent / "_data"
START = np.datetime64("2022-01-01", "D")
ACQUISITION_DAYS = 365
OBSERVATION_DAYS = 730
CALIBRATION_END = "2023-06-30"
HOLDOUT_END = "2023-12-31"
CHANNELS = np.array(["web", "store", "app", "partner"])
CHANNEL_P = [0.45, 0.3, 0.2, 0.05]
CHUNK_CUSTOMERS = 100_000
MIN_CHUNK_ROWS = 1_000


def generate(path: Path, n_rows: int, seed: int = 2024) -> None:
    """Write a synthetic transaction log of exactly ``n_rows`` rows to ``path``.

    Customers arrive uniformly over the first year; each buys on purchase days spread over
    an exponential lifetime (heterogeneous NBD-like counts, mean about 8 days), sometimes
    several times on one day; amounts are log-normal around a customer mean, 1 % are zero.
    """
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = pa.schema(
        [("customer_id", pa.string()), ("date", pa.date32()), ("n_items", pa.int32()),
         ("amount", pa.float64()), ("channel", pa.string())]
    )
    written = 0
    first_id = 0
    with pq.ParquetWriter(path, schema, compression="snappy") as writer:
        while n_rows - written >= MIN_CHUNK_ROWS:
            chunk = _chunk(rng, first_id, CHUNK_CUSTOMERS, n_rows - written)
            if len(chunk["amount"]) == 0:
                break
            writer.write_table(pa.table(chunk, schema=schema))
            written += len(chunk["amount"])
            first_id += CHUNK_CUSTOMERS


def _chunk(
    rng: np.random.Generator, first_id: int, n: int, max_rows: int
) -> dict[str, np.ndarray]:
    """``n`` customers' transactions, date-ordered; whole customers cut to fit ``max_rows``."""
    acquired = rng.integers(0, ACQUISITION_DAYS, n)
    lifetime = np.minimum(rng.exponential(400.0, n), OBSERVATION_DAYS - 1 - acquired)
    rate = rng.gamma(0.9, 0.025, n)
    days = 1 + rng.poisson(rate * lifetime)
    owner = np.repeat(np.arange(n), days)
    offset = np.where(
        np.r_[True, owner[1:] != owner[:-1]], 0.0, rng.random(len(owner)) * lifetime[owner]
    ).astype(np.int64)
    per_day = 1 + rng.poisson(0.25, len(owner))
    row_owner = np.repeat(owner, per_day)
    if len(row_owner) > max_rows:
        fits = owner < row_owner[max_rows]  # the customers before the one that overflows
        owner, per_day, offset = owner[fits], per_day[fits], offset[fits]
        row_owner = np.repeat(owner, per_day)
    day = np.repeat(acquired[owner] + offset, per_day)
    spend_level = rng.lognormal(3.3, 0.5, n)
    amount = np.round(spend_level[row_owner] * rng.lognormal(0.0, 0.4, len(row_owner)), 2)
    amount[rng.random(len(amount)) < 0.01] = 0.0
    ids = np.char.add("C", np.char.zfill((first_id + np.arange(n)).astype(str), 7))
    order = np.argsort(day, kind="stable")
    return {
        "customer_id": ids[row_owner][order],
        "date": (START + day[order]).astype("datetime64[D]"),
        "n_items": (1 + rng.poisson(0.6, len(amount))).astype(np.int32)[order],
        "amount": amount[order],
        "channel": CHANNELS[rng.choice(len(CHANNELS), n, p=CHANNEL_P)][row_owner][order],
    }


def run_engine(engine: str, path: Path, threads: int, memory_limit: str) -> dict[str, float]:
    """Summarise ``path`` with one engine (in this process); time and peak RSS."""
    from bayesclv.data import ColumnMap, summarise

    baseline_kb = _peak_rss_kb()
    started = time.perf_counter()
    summary = summarise(
        path,
        calibration_end=CALIBRATION_END,
        holdout_end=HOLDOUT_END,
        observation_end=HOLDOUT_END,
        columns=ColumnMap(segment="channel"),
        engine=engine,
        duckdb_config={"threads": threads, "memory_limit": memory_limit},
    )
    seconds = time.perf_counter() - started
    peak_kb = _peak_rss_kb()
    return {
        "seconds": seconds,
        "peak_mb": peak_kb / 1024,
        "baseline_mb": baseline_kb / 1024,
        "customers": summary.n_customers,
        "x_sum": int(summary.frame["x"].sum()),
    }


def aggregation_floor(path: Path, threads: int) -> float:
    """Seconds DuckDB needs for the bare two-level aggregation, nothing else.

    Occasions per (customer, day), then per customer: no validation, no filters, no holdout,
    no segment, no conversion to pandas (the result comes back as Arrow, as in the engine).
    No complete engine can beat this on the machine, so it bounds the ratio any DuckDB
    summary can reach against pandas.
    """
    import duckdb

    con = duckdb.connect(config={"threads": threads})
    sql = (
        f"WITH occ AS (SELECT customer_id AS c, date AS d, sum(amount) AS a, count(*) AS n "
        f"FROM read_parquet('{path}') GROUP BY c, d) "
        "SELECT c, min(d), max(d), count(*), count_if(a > 0), sum(a), arg_min(a, d), sum(n) "
        "FROM occ GROUP BY c"
    )
    con.sql(sql).to_arrow_table()
    started = time.perf_counter()
    con.sql(sql).to_arrow_table()
    return time.perf_counter() - started


def _peak_rss_kb() -> int:
    """Peak resident memory of this process in KiB.

    Linux's ``VmHWM`` starts afresh at ``exec``, unlike ``ru_maxrss``, which a child
    inherits from the parent that forked it (here: the one that generated the data).
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="2GB")
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = DATA_DIR / f"transactions_{args.rows}.parquet"
    if args.engine:
        print(json.dumps(run_engine(args.engine, path, args.threads, args.memory_limit)))
        return
    if not path.exists():
        started = time.perf_counter()
        generate(path, args.rows)
        print(f"generated {path} in {time.perf_counter() - started:.1f} s")
    table = pq.read_metadata(path)
    print(f"log: {table.num_rows:,} transactions, {path.stat().st_size / 2**20:.0f} MiB Parquet")
    results = {}
    for engine in ("pandas", "duckdb"):
        out = subprocess.run(
            [sys.executable, __file__, "--rows", str(args.rows), "--threads", str(args.threads),
             "--memory-limit", args.memory_limit, "--engine", engine],
            capture_output=True, text=True,
        )
        if out.returncode:
            sys.exit(f"{engine} run failed:\n{out.stderr}")
        results[engine] = json.loads(out.stdout.strip().splitlines()[-1])
    pandas_r, duck_r = results["pandas"], results["duckdb"]
    assert pandas_r["customers"] == duck_r["customers"] and pandas_r["x_sum"] == duck_r["x_sum"]
    print(f"customers: {duck_r['customers']:,}  (duckdb threads={args.threads}, "
          f"memory_limit={args.memory_limit})")
    print(f"{'':22}{'pandas':>10}{'duckdb':>10}{'ratio':>9}")
    for key, label in (("seconds", "wall time (s)"), ("peak_mb", "peak RSS (MiB)"),
                       ("baseline_mb", "after imports (MiB)")):
        ratio = pandas_r[key] / duck_r[key]
        print(f"{label:22}{pandas_r[key]:10.1f}{duck_r[key]:10.1f}{ratio:8.1f}x")
    floor = aggregation_floor(path, args.threads)
    print(f"{'bare aggregation (s)':22}{'':10}{floor:10.1f}{pandas_r['seconds'] / floor:8.1f}x"
          "  <- the two GROUP BYs alone: a bound on any complete DuckDB summary")


if __name__ == "__main__":
    main()
