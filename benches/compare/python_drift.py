"""Drift from Python: `Pipeline.drift`, the drift monitor and the concept-drift detectors.

Run from the repository root after building the extension in release mode into the pinned env:

    bash scripts/python-env.sh
    (cd python && VIRTUAL_ENV=$PWD/../.venv ../.venv/bin/maturin develop --release --locked)
    .venv/bin/python benches/compare/python_drift.py [--rows 100000] [--budget 1.0]

Not part of the test command (about 30 s). Data: testdata/adult_sample.csv repeated to `--rows`
rows in a pandas DataFrame (as read by pandas: numbers int64, text `str`), against the golden
artifact testdata/golden/adult_logistic_profile.tabship (13 columns, a profile and a logistic
model). Rows of the table (median of repeated calls within the budget):

- `pipeline.predict(df)`: for scale; a drift report predicts too (the prediction column).
- `pipeline.drift(df)`: the whole report, conversion from pandas included.
- `monitor.observe(df, predictions)`: binning the batch into a sliding window (predictions given).
- `monitor.report()`: a report of a window (count additions and statistics only).
- `ADWIN / DDM / PageHinkley update_many`: per value, over 1M 0/1 errors.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import tabship
from tabship import drift

REPO = Path(__file__).resolve().parents[2]


def median_time(f: Callable[[], object], budget: float) -> float:
    f()
    times = []
    start = time.perf_counter()
    while time.perf_counter() - start < budget or len(times) < 3:
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--budget", type=float, default=1.0)
    args = parser.parse_args()
    adult = pd.read_csv(REPO / "testdata" / "adult_sample.csv", keep_default_na=False, na_values=[""])
    repeats = -(-args.rows // len(adult))
    df = pd.concat([adult] * repeats, ignore_index=True).iloc[: args.rows]
    pipeline = tabship.Pipeline.load(REPO / "testdata" / "golden" / "adult_logistic_profile.tabship")
    predictions = pipeline.predict(df)
    monitor = pipeline.drift_monitor(args.rows)
    monitor.observe(df, predictions)

    n = len(df)
    rows: list[tuple[str, float, str]] = []
    t = median_time(lambda: pipeline.predict(df), args.budget)
    rows.append((f"pipeline.predict({n} rows)", t * 1e3, "ms"))
    t = median_time(lambda: pipeline.drift(df), args.budget)
    rows.append((f"pipeline.drift({n} rows)", t * 1e3, "ms"))
    t = median_time(lambda: monitor.observe(df, predictions), args.budget)
    rows.append((f"monitor.observe({n} rows, predictions) per row", t / n * 1e9, "ns"))
    t = median_time(monitor.report, args.budget)
    rows.append(("monitor.report()", t * 1e3, "ms"))
    errors = (np.random.default_rng(0).random(1_000_000) < 0.2).astype(np.float64)
    for make in (drift.ADWIN, drift.DDM, drift.PageHinkley):
        t = median_time(lambda: make().update_many(errors), args.budget)
        rows.append((f"{make.__name__}.update_many per value", t / len(errors) * 1e9, "ns"))
    width = max(len(r[0]) for r in rows)
    for name, value, unit in rows:
        print(f"{name:<{width}}  {value:10.3f} {unit}")


if __name__ == "__main__":
    main()
