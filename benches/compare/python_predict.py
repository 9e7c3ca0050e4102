"""Prediction from Python: the `tabship` package vs the scikit-learn pipeline vs ONNX Runtime.

Run from the repository root after building the extension in release mode into the pinned env:

    bash scripts/python-env.sh
    (cd python && VIRTUAL_ENV=$PWD/../.venv ../.venv/bin/maturin develop --release --locked)
    .venv/bin/python benches/compare/python_predict.py [--data DIR] [--cases adult:logistic,...]
        [--budget 1.0] [--json OUT]

Not part of the test command. One run takes about 2-3 minutes on the 2-core dev machine.

Cases: adult (target `income`) with logistic regression and a random forest (100 trees of depth
<= 10), from compare.py. All three libraries are fitted on the same 80% of the rows (a seeded
permutation) and measured on the same held-out rows:

- tabship: `tabship.train(train_rows, ...)` in process (the default 1 thread for prediction).
- scikit-learn: compare.py's pipeline (imputers, scaler, one-hot encoder with min_frequency=5,
  LogisticRegression(C=1) / RandomForestClassifier(100, max_depth=10, n_jobs=1)), threadpoolctl
  limit 1.
- ONNX Runtime: that scikit-learn pipeline converted by skl2onnx (compare.py's conversion,
  ZipMap off), intra_op_num_threads=1.

Rows of the table (median of repeated calls, within a time budget):

- *single row from a dict*: the service path. tabship: `pipeline.predict_proba(record)` on a
  Python dict; scikit-learn: `predict_proba` on a one-row DataFrame built from the dict in the
  timed call; ONNX Runtime: build the numpy feeds from the dict (compare.py's
  `onnx_record_feed`) and `session.run` the probabilities, in the timed call.
- *single row, prebuilt input*: the input already in each library's form (tabship still takes
  the dict: it has no other form); ONNX Runtime's figure equals compare.py's single-row figure.
- *100k-row DataFrame*: the held-out rows repeated to 100k rows in a pandas DataFrame (as read
  by pandas: numbers int64, text `str`). tabship: `pipeline.predict(df)` (labels; the
  conversion from pandas is inside the timing); scikit-learn: `pipe.predict(df)`; ONNX Runtime:
  build the feeds from the DataFrame (compare.py's `onnx_feed`) and run the label output.
- *100k rows, prebuilt input*: ONNX Runtime on prebuilt feeds (compare.py's batch figure).

The ratio columns are alternative / tabship for times (> 1: tabship is faster). The targets of
issue 4 are printed under each table: single row from a dict >= 10x faster than ONNX Runtime and
the 100k-row DataFrame >= 3x faster than ONNX Runtime, both on one thread.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare  # noqa: E402  (shared helpers: pipelines, ONNX conversion, timing)

import tabship  # noqa: E402

CASES = [c for c in compare.CASES if c.dataset == "adult"]
TREE_OPTIONS = {"n_trees": 100, "max_depth": 10}


def fit_onnx(case, pipe, X):
    """compare.py's conversion (with its fallbacks); returns (session, notes) or (None, notes)."""
    import onnxruntime as ort
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    cat = compare.categorical_columns(X)
    types = [(c, StringTensorType([None, 1]) if c in cat else FloatTensorType([None, 1]))
             for c in X.columns]
    errors = []
    for how, candidate in compare.onnx_candidates(pipe):
        options = {id(candidate.named_steps["model"]): {"zipmap": False}}
        try:
            onx = convert_sklearn(candidate, initial_types=types, options=options)
        except Exception as e:  # noqa: BLE001 - converter failures are reported
            errors.append(f"{how}: {type(e).__name__}")
            continue
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        session = ort.InferenceSession(onx.SerializeToString(), so,
                                       providers=["CPUExecutionProvider"])
        notes = [f"ONNX model converted from the {how}"] + (
            [f"(failed first: {'; '.join(errors)})"] if errors else [])
        return session, cat, notes
    return None, cat, ["ONNX conversion failed: " + "; ".join(errors)]


def run_case(case, df, budgets):
    X, y = df.drop(columns=[case.target]), df[case.target]
    order = np.random.default_rng(42).permutation(len(df))
    cut = int(len(df) * 0.8)
    train_rows, test_rows = order[:cut], order[cut:]
    X_test = X.iloc[test_rows]
    records = X_test.iloc[:compare.SINGLE_RECORDS].to_dict("records")
    X_big = X.iloc[np.resize(test_rows, compare.BATCH_ROWS)].reset_index(drop=True)
    notes = []

    # tabship
    options = TREE_OPTIONS if case.forest else {}
    t0 = time.perf_counter()
    ours = tabship.train(df.iloc[train_rows], target=case.target, model=case.model,
                         test_fraction=0.0, **options)
    fit_ts = time.perf_counter() - t0
    acc_ts = ours.evaluate(df.iloc[test_rows])["accuracy"]
    ts = {}
    ts["single_dict"], _ = compare.median_time(compare.Cycle(records, ours.predict_proba),
                                               budgets["single"])
    ts["single_prebuilt"] = ts["single_dict"]
    ts["single_label"], _ = compare.median_time(compare.Cycle(records, ours.predict),
                                                budgets["single"])
    ours.predict(X_big.iloc[:1000])
    ts["batch_frame"], _ = compare.median_time(lambda: ours.predict(X_big), budgets["batch"],
                                               min_samples=3)
    ts["batch_prebuilt"] = ts["batch_frame"]
    ts["batch_proba"], _ = compare.median_time(lambda: ours.predict_proba(X_big),
                                               budgets["batch"], min_samples=3)

    # scikit-learn
    pipe = compare.sklearn_pipeline(X, case)
    t0 = time.perf_counter()
    pipe.fit(X.iloc[train_rows], y.iloc[train_rows])
    fit_sk = time.perf_counter() - t0
    acc_sk = float(np.mean(pipe.predict(X_test) == y.iloc[test_rows].to_numpy()))
    sk = {}
    dtypes = {c: X[c].dtype for c in X.columns}

    def sk_from_dict(record):
        pipe.predict_proba(pd.DataFrame({c: pd.Series([record[c]], dtype=dtypes[c])
                                         for c in X.columns}))

    frames = compare.one_row_frames(X, records)
    with compare.limit_threads(1):
        sk["single_dict"], _ = compare.median_time(compare.Cycle(records, sk_from_dict),
                                                   budgets["single"])
        sk["single_prebuilt"], _ = compare.median_time(
            compare.Cycle(frames, pipe.predict_proba), budgets["single"])
        pipe.predict(X_big.iloc[:1000])
        sk["batch_frame"], _ = compare.median_time(lambda: pipe.predict(X_big), budgets["batch"],
                                                   min_samples=3)
    sk["batch_prebuilt"] = sk["batch_frame"]

    # ONNX Runtime
    ox = None
    session, cat, onnx_notes = fit_onnx(case, pipe, X)
    notes += onnx_notes
    if session is not None:
        outputs = [o.name for o in session.get_outputs()]
        label_name, proba_name = outputs[0], outputs[1]
        columns = list(X.columns)
        got = session.run([label_name], compare.onnx_feed(X_test, cat))[0].ravel()
        acc_ox = float(np.mean(got == y.iloc[test_rows].to_numpy()))
        feeds = [compare.onnx_record_feed(r, columns, cat) for r in records]
        ox = {"accuracy": acc_ox}
        ox["single_dict"], _ = compare.median_time(
            compare.Cycle(records, lambda r: session.run(
                [proba_name], compare.onnx_record_feed(r, columns, cat))), budgets["single"])
        ox["single_prebuilt"], _ = compare.median_time(
            compare.Cycle(feeds, lambda f: session.run([proba_name], f)), budgets["single"])
        big = compare.onnx_feed(X_big, cat)
        session.run([label_name], {k: v[:1000] for k, v in big.items()})
        ox["batch_frame"], _ = compare.median_time(
            lambda: session.run([label_name], compare.onnx_feed(X_big, cat)), budgets["batch"],
            min_samples=3)
        ox["batch_prebuilt"], _ = compare.median_time(
            lambda: session.run([label_name], big), budgets["batch"], min_samples=3)

    # Agreement: tabship's labels next to scikit-learn's on the test rows.
    agree = float(np.mean(ours.predict(X_test) == pipe.predict(X_test)))
    notes.append(f"{len(train_rows)} train / {len(test_rows)} test rows; holdout accuracy "
                 f"tabship {acc_ts:.4f}, scikit-learn {acc_sk:.4f}"
                 + (f", ONNX Runtime {ox['accuracy']:.4f}" if ox else "")
                 + f"; tabship and scikit-learn labels agree on {agree:.2%} of test rows")
    notes.append(f"fit s: tabship {fit_ts:.2f} (all cores), scikit-learn {fit_sk:.2f} (n_jobs=1)")
    notes.append(f"tabship single-row `predict` (label only): {ts['single_label'] * 1e6:.2f} µs; "
                 f"100k-row `predict_proba`: {ts['batch_proba'] * 1e3:.1f} ms")
    return {"case": case.key, "tabship": ts, "sklearn": sk, "onnxruntime": ox, "notes": notes}


ROWS = [
    ("single row from a dict, µs", "single_dict", 1e6),
    ("single row, prebuilt input, µs", "single_prebuilt", 1e6),
    ("100k-row DataFrame, ms", "batch_frame", 1e3),
    ("100k rows, prebuilt input, ms", "batch_prebuilt", 1e3),
]


def fmt(x):
    return "n/a" if x is None else (f"{x:.2f}" if x < 100 else f"{x:,.0f}")


def ratio(alt, base):
    return "n/a" if alt is None or not base else f"{alt / base:.1f}"


def table(r):
    ts, sk, ox = r["tabship"], r["sklearn"], r["onnxruntime"] or {}
    lines = ["| what (1 thread, lower is better) | tabship | scikit-learn | ONNX Runtime "
             "| sklearn/tabship | onnx/tabship |", "|---|---:|---:|---:|---:|---:|"]
    for label, key, scale in ROWS:
        t, s, o = ts[key] * scale, sk[key] * scale, ox.get(key)
        o = None if o is None else o * scale
        lines.append(f"| {label} | {fmt(t)} | {fmt(s)} | {fmt(o)} | {ratio(s, t)} "
                     f"| {ratio(o, t)} |")
    return "\n".join(lines)


def targets(r):
    ox = r["onnxruntime"]
    if not ox:
        return ["targets: ONNX Runtime unavailable"]
    ts = r["tabship"]
    single = ox["single_dict"] / ts["single_dict"]
    single_pre = ox["single_prebuilt"] / ts["single_dict"]
    batch = ox["batch_frame"] / ts["batch_frame"]
    batch_pre = ox["batch_prebuilt"] / ts["batch_frame"]
    verdict = lambda x, goal: "met" if x >= goal else f"MISSED by {goal / x:.2f}x"  # noqa: E731
    return [
        f"target single row >= 10x ONNX Runtime: {single:.1f}x from a dict "
        f"({verdict(single, 10)}); {single_pre:.1f}x vs ONNX on prebuilt feeds "
        f"({verdict(single_pre, 10)})",
        f"target batch >= 3x ONNX Runtime: {batch:.1f}x from the DataFrame "
        f"({verdict(batch, 3)}); {batch_pre:.1f}x vs ONNX on prebuilt feeds "
        f"({verdict(batch_pre, 3)})",
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=compare.REPO / "../shared/data")
    ap.add_argument("--cases", help="comma-separated subset: adult:logistic,adult:random-forest")
    ap.add_argument("--budget", type=float, default=1.0, help="scale the time budgets")
    ap.add_argument("--json", type=Path, help="save the raw numbers here")
    args = ap.parse_args()
    cases = CASES
    if args.cases:
        want = set(args.cases.split(","))
        cases = [c for c in CASES if c.key in want]
        if not cases:
            sys.exit(f"no such cases; known: {[c.key for c in CASES]}")
    budgets = {"single": 1.0 * args.budget, "batch": 3.0 * args.budget}
    load_before = os.getloadavg()
    print("# Python prediction: tabship vs scikit-learn vs ONNX Runtime\n")
    print(f"- CPU: {compare.cpu_model()}; cores {os.cpu_count()}; load average at start "
          f"{' '.join(f'{x:.2f}' for x in load_before)}")
    versions = {"tabship": tabship.__version__, "numpy": np.__version__, "pandas": pd.__version__}
    for mod in ("sklearn", "onnxruntime", "skl2onnx"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            versions[mod] = "unavailable"
    print("- versions: " + ", ".join(f"{k} {v}" for k, v in versions.items())
          + "; the extension must be a release build (see the module docstring)\n", flush=True)
    df = compare.read_csv(args.data / "adult.csv")
    results = []
    for case in cases:
        r = run_case(case, df, budgets)
        print(f"## adult (`income`): {case.model}\n")
        print(table(r))
        print()
        for line in r["notes"] + targets(r):
            print(f"- {line}")
        print(flush=True)
        results.append(r)
    print(f"Load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=float) + "\n")


if __name__ == "__main__":
    main()
