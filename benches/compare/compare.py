"""Serving comparison: tabship vs scikit-learn vs ONNX Runtime on the same data and split.

Run from the repository root, after `bash scripts/python-env.sh` (pinned numpy, pandas,
scikit-learn, scipy, onnxruntime, skl2onnx and threadpoolctl come from .venv; python/constraints.txt
has the exact versions):

    .venv/bin/python benches/compare/compare.py [--tabship PATH] [--data DIR] [--json OUT]
        [--cases adult:logistic,diamonds:ridge] [--no-onnx] [--no-parallel-fit]

Does NOT build anything: it uses the already-built release binary (default
target/release/tabship). One run takes about 2-4 minutes on a 2-core machine.

Cases: adult (target `income`: logistic, random-forest) and diamonds (target `price`: ridge,
random-forest); forests have 100 trees of depth <= 10. For each case:

1. `tabship train ... --seed 42 --test-fraction 0.2 --write-split SPLIT.csv --json` fits tabship
   (with its default thread count = all cores) and reports fit time and holdout metrics. The test
   rows of SPLIT.csv are written to TEST.csv and `tabship bench MODEL TEST.csv --rows 100000 --json`
   measures artifact size, load time (`Pipeline::from_bytes`, median), single-row latency (median
   `predict_proba_one` for classifiers / `predict_one` for regressors, cycling over the first 1000
   test rows as prebuilt column->value maps) and batch throughput (`predict_batch` on the test rows
   cycled to 100k rows, prebuilt batch, on 1 thread and on all cores).
2. scikit-learn: the pipeline of holdout.py (ColumnTransformer: numeric SimpleImputer(median) +
   StandardScaler; categorical SimpleImputer(constant) + OneHotEncoder(handle_unknown='ignore',
   min_frequency=5); the scaler is kept for forests too) followed by LogisticRegression(C=1.0,
   max_iter=1000), Ridge(alpha=1.0) or RandomForestClassifier/Regressor(n_estimators=100,
   max_depth=10, random_state=42, n_jobs=1), fitted on exactly tabship's train rows. Measured the
   same way: fit time of the whole pipeline (and, for forests, also with n_jobs=-1); single-row
   latency = median of predict_proba / predict on one-row DataFrames built from dicts (the first
   1000 test rows, built before timing, like tabship's maps) under threadpoolctl limit 1; batch
   throughput = predict on a prebuilt 100k-row DataFrame (test rows repeated) with
   threadpool_limits(1) and n_jobs=1, and with no limits and n_jobs=-1; artifact = len(pickle.dumps
   (pipeline, protocol=5)); load = median pickle.loads of those bytes; holdout metric on the test
   rows.
3. ONNX Runtime (if onnxruntime and skl2onnx import): the fitted scikit-learn pipeline converted by
   skl2onnx (one input per column: float for numeric, string for categorical; ZipMap off), run with
   intra_op_num_threads=1 (single row, 1-thread batch) and = CPU count (all-threads batch); single
   row = session.run on prebuilt numpy feeds (missing categories fed as ""), batch = 100k rows, size
   = serialized model bytes, load = median InferenceSession(bytes) construction, holdout metric from
   its outputs; its predictions are checked against scikit-learn's. skl2onnx cannot convert the
   pipeline as fitted (its string imputer requires a string `missing_values`, and its OneHotEncoder
   converter rejects infrequent categories after the imputer merged the columns), so when the
   as-is conversion fails the script converts an equivalent copy instead and says so in the notes:
   first the imputer with `missing_values=""`; if that fails, the constant imputer folded into the
   encoder (its fill category renamed to "", which is what missing values are fed as). Conversion
   problems are reported in the notes and never fatal.

Output: the machine's CPU count, load average and library versions, then one markdown table per
case. Rows and which direction is better:

    fit s                      lower is better
    single row µs              lower is better
    batch rows/s (1 thread)    higher is better
    batch rows/s (all threads) higher is better
    artifact bytes             lower is better
    load ms                    lower is better
    holdout accuracy / R²      higher is better

The ratio columns are alternative / tabship ("sklearn/tabship", "onnx/tabship"): for "lower is
better" rows a ratio > 1 means tabship is better (e.g. 20 = the alternative takes 20x as long);
for "higher is better" rows a ratio < 1 means tabship is better. `--json OUT` saves every raw
number. Exits non-zero if tabship or scikit-learn fails; ONNX problems only go into the notes.
Timings on a shared machine are noisy: the load average is printed before and after.
"""

import argparse
import copy
import json
import os
import pickle
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
import sklearn
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import (accuracy_score, f1_score, log_loss, mean_absolute_error,
                             r2_score, roc_auc_score, root_mean_squared_error)
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

try:
    from threadpoolctl import threadpool_limits
    import threadpoolctl
except ImportError:  # pragma: no cover - threadpoolctl is a scikit-learn dependency
    threadpool_limits = None
    threadpoolctl = None

REPO = Path(__file__).resolve().parents[2]
BATCH_ROWS = 100_000
SINGLE_RECORDS = 1000          # like `tabship bench`: cycle over the first 1000 rows
MISSING_FILL = "__missing__"   # the categorical imputer's constant, as in holdout.py


@dataclass
class Case:
    dataset: str
    target: str
    model: str                 # tabship --model
    classification: bool
    tabship_args: list = field(default_factory=list)

    @property
    def key(self):
        return f"{self.dataset}:{self.model}"

    @property
    def forest(self):
        return self.model == "random-forest"


FOREST = ["--n-trees", "100", "--max-depth", "10"]
CASES = [
    Case("adult", "income", "logistic", True),
    Case("adult", "income", "random-forest", True, FOREST),
    Case("diamonds", "price", "ridge", False),
    # scikit-learn's RandomForestRegressor tries all features per split (max_features=1.0);
    # tabship's default is sqrt, so ask for `all` to fit the same kind of forest.
    Case("diamonds", "price", "random-forest", False, FOREST + ["--max-features", "all"]),
]


def sklearn_model(case):
    if case.model == "logistic":
        return LogisticRegression(C=1.0, max_iter=1000)  # tabship alpha=1 = 1/C
    if case.model == "ridge":
        return Ridge(alpha=1.0)
    if case.model == "random-forest":
        cls = RandomForestClassifier if case.classification else RandomForestRegressor
        return cls(n_estimators=100, max_depth=10, random_state=42, n_jobs=1)
    raise ValueError(case.model)


# ---------------------------------------------------------------------------------------------
# helpers


def read_csv(path):
    """Only empty fields are missing (no 'NA'/'null' guessing), as in holdout.py."""
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def categorical_columns(X):
    # Non-numeric columns (object dtype in pandas 2, `str` dtype in pandas 3).
    return [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]


def sklearn_pipeline(X, case):
    cat = categorical_columns(X)
    num = [c for c in X.columns if c not in cat]
    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), num),
        ("cat", make_pipeline(
            SimpleImputer(strategy="constant", fill_value=MISSING_FILL),
            OneHotEncoder(handle_unknown="ignore", min_frequency=5)), cat),
    ])
    return Pipeline([("pre", pre), ("model", sklearn_model(case))])


def median_time(fn, budget, min_samples=5, max_samples=100_000):
    """Calls fn() repeatedly for about `budget` seconds; median seconds of one call (as tabship bench)."""
    samples = []
    started = time.perf_counter()
    while len(samples) < min_samples or (time.perf_counter() - started < budget
                                         and len(samples) < max_samples):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples), len(samples)


class Cycle:
    """Calls fn(items[i % n]) with a moving i, so a latency loop visits many different rows."""

    def __init__(self, items, fn):
        self.items, self.fn, self.i = items, fn, 0

    def __call__(self):
        item = self.items[self.i % len(self.items)]
        self.i += 1
        self.fn(item)


class limit_threads:
    """threadpoolctl limit for BLAS/OpenMP pools (no-op with a note if threadpoolctl is absent)."""

    def __init__(self, n):
        self.n, self.ctx = n, None

    def __enter__(self):
        if threadpool_limits is not None and self.n is not None:
            self.ctx = threadpool_limits(limits=self.n)
            self.ctx.__enter__()
        return self

    def __exit__(self, *exc):
        if self.ctx is not None:
            self.ctx.__exit__(*exc)


def metrics(y_true, pred, proba=None, classes=None, classification=True):
    if not classification:
        pred = np.asarray(pred, dtype=np.float64).ravel()
        return {"r2": r2_score(y_true, pred), "mae": mean_absolute_error(y_true, pred),
                "rmse": root_mean_squared_error(y_true, pred)}
    m = {"accuracy": accuracy_score(y_true, pred),
         "f1_macro": f1_score(y_true, pred, average="macro")}
    if proba is not None:
        m["log_loss"] = log_loss(y_true, proba, labels=classes)
        if len(classes) == 2:
            m["roc_auc"] = roc_auc_score(y_true == classes[1], proba[:, 1])
    return m


def run(cmd, what):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{what} failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{proc.stderr}")
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        sys.exit(f"{what}: output is not JSON ({e}):\n{proc.stdout[:2000]}")


# ---------------------------------------------------------------------------------------------
# tabship


def tabship_case(tabship, data, case, tmp):
    stem = f"{case.dataset}_{case.model}"
    split, model = tmp / f"{stem}_split.csv", tmp / f"{stem}.tabship"
    cmd = [tabship, "train", data, "--target", case.target, "--model", case.model,
           "--seed", "42", "--test-fraction", "0.2", "--write-split", split, "--json",
           "-o", model, *case.tabship_args]
    report = run(cmd, f"tabship train ({case.key})")
    return report, read_csv(split), model


def tabship_bench(tabship, model, test_csv, case):
    cmd = [tabship, "bench", model, test_csv, "--rows", BATCH_ROWS, "--json"]
    b = run(cmd, f"tabship bench ({case.key})")
    tput = {int(k): v for k, v in b["batch_rows_per_second"].items()}
    return {
        "artifact_bytes": b["artifact_bytes"],
        "load_seconds": b["load_seconds"],
        "single_row_seconds": b["single_row_seconds"],
        "batch_rows_per_second_1": tput.get(1),
        "batch_rows_per_second_all": tput[max(tput)],
        "batch_threads_all": max(tput),
    }


# ---------------------------------------------------------------------------------------------
# scikit-learn


def one_row_frames(X, records):
    """One-row DataFrames built from dicts, with the training frame's dtypes."""
    return [pd.DataFrame({c: pd.Series([r[c]], dtype=X[c].dtype) for c in X.columns})
            for r in records]


def sklearn_case(case, X, y, train_rows, test_rows, X_big, budgets, parallel_fit, n_cpu):
    out, notes = {}, []
    X_train, y_train = X.iloc[train_rows], y.iloc[train_rows]
    X_test, y_test = X.iloc[test_rows], y.iloc[test_rows]

    pipe = sklearn_pipeline(X, case)
    t0 = time.perf_counter()
    pipe.fit(X_train, y_train)
    out["fit_seconds"] = time.perf_counter() - t0

    if case.forest and parallel_fit:
        par = clone(pipe).set_params(model__n_jobs=-1)
        t0 = time.perf_counter()
        par.fit(X_train, y_train)
        out["fit_seconds_n_jobs_all"] = time.perf_counter() - t0
        del par

    if case.classification:
        out["metrics"] = metrics(y_test, pipe.predict(X_test), pipe.predict_proba(X_test),
                                 pipe.classes_, True)
    else:
        out["metrics"] = metrics(y_test, pipe.predict(X_test), classification=False)

    # Single row: predict_proba (classifiers) / predict (regressors) on prebuilt one-row frames.
    frames = one_row_frames(X, X_test.iloc[:SINGLE_RECORDS].to_dict("records"))
    single = pipe.predict_proba if case.classification else pipe.predict
    with limit_threads(1):
        out["single_row_seconds"], out["single_row_samples"] = median_time(
            Cycle(frames, single), budgets["single"])
    del frames

    # Batch: predict on 100k rows; one thread, then all threads.
    with limit_threads(1):
        pipe.predict(X_big.iloc[:1000])  # warm-up
        secs, n = median_time(lambda: pipe.predict(X_big), budgets["batch"], min_samples=3)
    out["batch_rows_per_second_1"], out["batch_samples_1"] = BATCH_ROWS / secs, n
    if case.forest:
        pipe.set_params(model__n_jobs=-1)
    secs, n = median_time(lambda: pipe.predict(X_big), budgets["batch"], min_samples=3)
    out["batch_rows_per_second_all"], out["batch_samples_all"] = BATCH_ROWS / secs, n
    if case.forest:
        pipe.set_params(model__n_jobs=1)
        notes.append(f"scikit-learn all-threads batch: n_jobs=-1 ({n_cpu} cores), no threadpool limit.")
    else:
        notes.append("scikit-learn all-threads batch: no threadpool limit (the linear model has no "
                     "n_jobs; the work is mostly single-threaded pandas/NumPy).")

    blob = pickle.dumps(pipe, protocol=5)
    out["artifact_bytes"] = len(blob)
    out["load_seconds"], _ = median_time(lambda: pickle.loads(blob), budgets["load"])
    if threadpool_limits is None:
        notes.append("threadpoolctl not importable: scikit-learn 1-thread figures are NOT limited.")
    return pipe, out, notes


# ---------------------------------------------------------------------------------------------
# ONNX Runtime


def onnx_candidates(pipe):
    """(description, pipeline) to try converting, in order: as fitted, then equivalent copies."""
    yield "as fitted", pipe

    p = copy.deepcopy(pipe)
    imp = p.named_steps["pre"].named_transformers_["cat"].steps[0][1]
    imp.missing_values = ""
    yield 'copy with the categorical imputer\'s missing_values="" (missing strings fed as "")', p

    p = copy.deepcopy(pipe)
    ct = p.named_steps["pre"]
    i = [name for name, _, _ in ct.transformers_].index("cat")
    name, sub, cols = ct.transformers_[i]
    ohe = sub.steps[-1][1]
    if any("" in list(cats) for cats in ohe.categories_):
        return
    ohe.categories_ = [np.array(["" if c == MISSING_FILL else c for c in cats], dtype=object)
                       for cats in ohe.categories_]
    ct.transformers_[i] = (name, ohe, cols)
    yield ("copy with the constant imputer folded into the OneHotEncoder (its category "
           f"{MISSING_FILL!r} renamed \"\", missing strings fed as \"\")"), p


def onnx_feed(X, cat):
    return {c: (X[c].astype(object).where(X[c].notna(), "").to_numpy(dtype=object)
                if c in cat else X[c].to_numpy(dtype=np.float32)).reshape(-1, 1)
            for c in X.columns}


def onnx_record_feed(record, columns, cat):
    feed = {}
    for c in columns:
        v = record[c]
        if c in cat:
            feed[c] = np.array([["" if pd.isna(v) else str(v)]], dtype=object)
        else:
            feed[c] = np.array([[v]], dtype=np.float32)
    return feed


def onnx_case(case, pipe, X, test_rows, y_test, X_big, budgets, n_cpu):
    import onnxruntime as ort
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    out, notes = {}, []
    cat = categorical_columns(X)
    types = [(c, StringTensorType([None, 1]) if c in cat else FloatTensorType([None, 1]))
             for c in X.columns]
    onx, errors = None, []
    for how, candidate in onnx_candidates(pipe):
        options = {id(candidate.named_steps["model"]): {"zipmap": False}} if case.classification else None
        try:
            onx = convert_sklearn(candidate, initial_types=types, options=options)
            break
        except Exception as e:  # noqa: BLE001 - any converter failure is reported
            msg = (str(e).splitlines() or [""])[0]
            msg = msg if len(msg) <= 90 else msg[:90] + "…"
            errors.append(f"{how}: {type(e).__name__}: {msg}")
    if onx is None:
        return None, ["ONNX conversion failed: " + " | ".join(errors)]
    for e in errors:
        notes.append(f"ONNX conversion failed {e}")
    if errors:
        notes.append(f"ONNX model converted from the {how}.")
    opsets = ", ".join(f"{o.domain or 'ai.onnx'}={o.version}" for o in onx.opset_import)
    notes.append("ONNX inputs: float32 for numeric columns, string for categorical ones; "
                 f"opsets {opsets}.")

    blob = onx.SerializeToString()
    out["artifact_bytes"] = len(blob)

    def session(threads):
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        return ort.InferenceSession(blob, so, providers=["CPUExecutionProvider"])

    out["load_seconds"], _ = median_time(lambda: session(1), budgets["load"])
    s1, sall = session(1), session(n_cpu)
    names = [o.name for o in s1.get_outputs()]
    # Classifiers: [label, probabilities]; regressors: [variable].
    label_name = names[0]
    single_name = names[1] if case.classification else names[0]

    X_test = X.iloc[test_rows]
    outputs = s1.run(None, onnx_feed(X_test, cat))
    if case.classification:
        pred = outputs[0].ravel()
        proba = outputs[1]
        out["metrics"] = metrics(y_test, pred, proba, pipe.classes_, True)
        sk_pred, sk_proba = pipe.predict(X_test), pipe.predict_proba(X_test)
        agree = float(np.mean(pred == sk_pred))
        dp = float(np.max(np.abs(proba - sk_proba)))
        out["agreement_with_sklearn"] = {"label_agreement": agree, "max_abs_proba_diff": dp}
        notes.append(f"ONNX vs scikit-learn on the test rows: labels agree {agree:.4%}, "
                     f"max |Δ probability| {dp:.2g}.")
    else:
        pred = outputs[0].ravel().astype(np.float64)
        out["metrics"] = metrics(y_test, pred, classification=False)
        sk_pred = pipe.predict(X_test)
        d = float(np.max(np.abs(pred - sk_pred)))
        out["agreement_with_sklearn"] = {"max_abs_diff": d}
        notes.append(f"ONNX vs scikit-learn on the test rows: max |Δ prediction| {d:.3g} "
                     f"(mean |y| {float(np.mean(np.abs(sk_pred))):.4g}).")

    feeds = [onnx_record_feed(r, X.columns, cat)
             for r in X_test.iloc[:SINGLE_RECORDS].to_dict("records")]
    out["single_row_seconds"], out["single_row_samples"] = median_time(
        Cycle(feeds, lambda f: s1.run([single_name], f)), budgets["single"])

    big = onnx_feed(X_big, cat)
    for key, sess in (("1", s1), ("all", sall)):
        sess.run([label_name], {k: v[:1000] for k, v in big.items()})  # warm-up
        secs, n = median_time(lambda: sess.run([label_name], big), budgets["batch"], min_samples=3)
        out[f"batch_rows_per_second_{key}"], out[f"batch_samples_{key}"] = BATCH_ROWS / secs, n
    notes.append(f"ONNX Runtime: 1 thread = intra_op_num_threads 1; all threads = {n_cpu}; "
                 f"single row runs output `{single_name}`, batch runs output `{label_name}`.")
    return out, notes


# ---------------------------------------------------------------------------------------------
# reporting


def fmt(v, kind):
    if v is None:
        return "n/a"
    if kind == "s":
        return f"{v:.3f}"
    if kind == "us":
        return f"{v:.2f}" if v < 10 else f"{v:,.1f}" if v < 1e4 else f"{v:,.0f}"
    if kind == "rps":
        return f"{v:,.0f}"
    if kind == "bytes":
        return f"{int(v):,d}"
    if kind == "ms":
        return f"{v:.3f}" if v < 100 else f"{v:,.1f}"
    if kind == "metric":
        return f"{v:.4f}"
    raise ValueError(kind)


def ratio(alt, base, kind):
    if alt is None or base is None or base == 0:
        return "n/a"
    r = alt / base
    if kind == "metric":
        return f"{r:.4f}"
    return f"{r:.3g}" if r < 1000 else f"{r:,.0f}"


def table(case, ts, sk, ox, n_cpu, metric):
    """Rows (label, better, kind, tabship, sklearn, onnx) in display units."""
    def g(d, k, scale=1.0):
        return None if d is None or d.get(k) is None else d[k] * scale

    metric_label = "holdout accuracy" if metric == "accuracy" else "holdout R²"
    rows = [(f"fit s (tabship {n_cpu} threads, sklearn n_jobs=1)", "lower", "s",
             ts["fit_seconds"], g(sk, "fit_seconds"), None)]
    if sk.get("fit_seconds_n_jobs_all") is not None:
        rows.append(("fit s (sklearn n_jobs=-1)", "lower", "s", ts["fit_seconds"],
                     sk["fit_seconds_n_jobs_all"], None))
    rows += [
        ("single row µs", "lower", "us", g(ts, "single_row_seconds", 1e6),
         g(sk, "single_row_seconds", 1e6), g(ox, "single_row_seconds", 1e6)),
        ("batch rows/s (1 thread)", "higher", "rps", g(ts, "batch_rows_per_second_1"),
         g(sk, "batch_rows_per_second_1"), g(ox, "batch_rows_per_second_1")),
        (f"batch rows/s (all threads = {ts['batch_threads_all']})", "higher", "rps",
         g(ts, "batch_rows_per_second_all"), g(sk, "batch_rows_per_second_all"),
         g(ox, "batch_rows_per_second_all")),
        ("artifact bytes", "lower", "bytes", g(ts, "artifact_bytes"), g(sk, "artifact_bytes"),
         g(ox, "artifact_bytes")),
        ("load ms", "lower", "ms", g(ts, "load_seconds", 1e3), g(sk, "load_seconds", 1e3),
         g(ox, "load_seconds", 1e3)),
        (metric_label, "higher", "metric", ts["metrics"][metric], sk["metrics"][metric],
         None if ox is None else ox["metrics"][metric]),
    ]
    lines = ["| metric | better | tabship | scikit-learn | ONNX Runtime | sklearn/tabship "
             "| onnx/tabship |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for label, better, kind, t, s, o in rows:
        lines.append(f"| {label} | {better} | {fmt(t, kind)} | {fmt(s, kind)} | {fmt(o, kind)} "
                     f"| {ratio(s, t, kind)} | {ratio(o, t, kind)} |")
    return "\n".join(lines)


def versions(tabship):
    v = {"python": platform.python_version(), "numpy": np.__version__, "pandas": pd.__version__,
         "scikit-learn": sklearn.__version__, "scipy": scipy.__version__,
         "threadpoolctl": getattr(threadpoolctl, "__version__", None)}
    for mod, name in (("onnxruntime", "onnxruntime"), ("skl2onnx", "skl2onnx"), ("onnx", "onnx")):
        try:
            v[name] = __import__(mod).__version__
        except Exception as e:  # noqa: BLE001
            v[name] = f"unavailable ({type(e).__name__}: {e})"
    proc = subprocess.run([str(tabship), "--version"], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{tabship} --version failed ({proc.returncode}): {proc.stderr}")
    v["tabship"] = proc.stdout.strip().removeprefix("tabship ")
    return v


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# ---------------------------------------------------------------------------------------------


def run_case(case, args, tmp, n_cpu, onnx_ok, budgets):
    data = args.data / f"{case.dataset}.csv"
    report, split, model_path = tabship_case(args.tabship, data, case, tmp)
    df = read_csv(data)

    if list(split.columns) != ["row", "set"] or not split["set"].isin(["train", "test"]).all():
        sys.exit(f"{case.key}: unexpected split file columns/values")
    train_rows = split.loc[split["set"] == "train", "row"].to_numpy()
    test_rows = split.loc[split["set"] == "test", "row"].to_numpy()
    if (len(train_rows), len(test_rows)) != (report["train_rows"], report["test_rows"]):
        sys.exit(f"{case.key}: split sizes {len(train_rows)}/{len(test_rows)} != "
                 f"tabship's {report['train_rows']}/{report['test_rows']}")
    if not split["row"].is_unique or split["row"].min() < 0 or split["row"].max() >= len(df):
        sys.exit(f"{case.key}: split rows are duplicated or out of range")
    if report.get("dropped_rows"):
        sys.exit(f"{case.key}: tabship dropped {report['dropped_rows']} rows; split not comparable")
    classification = report["task"] == "classification"
    if classification != case.classification:
        sys.exit(f"{case.key}: tabship task {report['task']!r} is not the expected one")

    # Same rows for every library: the test rows, cycled to 100k for batches.
    test_csv = tmp / f"{case.dataset}_{case.model}_test.csv"
    df.iloc[test_rows].to_csv(test_csv, index=False)
    ts = {"fit_seconds": report["fit_seconds"], "metrics": report["metrics"],
          **tabship_bench(args.tabship, model_path, test_csv, case)}

    X, y = df.drop(columns=[case.target]), df[case.target]
    X_big = X.iloc[np.resize(test_rows, BATCH_ROWS)].reset_index(drop=True)
    pipe, sk, notes = sklearn_case(case, X, y, train_rows, test_rows, X_big, budgets,
                                   args.parallel_fit, n_cpu)

    ox = None
    if onnx_ok is True:
        try:
            ox, onnx_notes = onnx_case(case, pipe, X, test_rows, y.iloc[test_rows], X_big,
                                       budgets, n_cpu)
        except Exception as e:  # noqa: BLE001 - ONNX problems are reported, not fatal
            ox, onnx_notes = None, [f"ONNX Runtime failed: {type(e).__name__}: "
                                    f"{str(e).splitlines()[0][:300] if str(e) else ''}"]
        notes += onnx_notes
    else:
        notes.append(f"ONNX Runtime skipped: {onnx_ok}")

    notes.insert(0, f"{report['train_rows']} train / {report['test_rows']} test rows "
                    f"(tabship split, seed 42); single row cycles over the first "
                    f"{min(SINGLE_RECORDS, len(test_rows))} test rows; batches = test rows "
                    f"repeated to {BATCH_ROWS:,} rows.")
    if case.forest:
        notes.insert(1, "tabship forest: `" + " ".join(case.tabship_args) + "` (smartcore "
                        f"trees), fitted on {n_cpu} threads (its default)."
                        + (" tabship's forest classifier predicts the majority vote of the trees' "
                           "labels; scikit-learn's predicts the argmax of the averaged tree "
                           "probabilities." if case.classification else ""))
    return {"case": case.key, "dataset": case.dataset, "target": case.target,
            "model": case.model, "tabship": ts, "sklearn": sk, "onnxruntime": ox,
            "notes": notes}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tabship", type=Path, default=REPO / "target/release/tabship")
    ap.add_argument("--data", type=Path, default=REPO / "../shared/data")
    ap.add_argument("--json", type=Path, help="save the raw numbers here")
    ap.add_argument("--cases", help="comma-separated subset, e.g. adult:logistic,diamonds:ridge")
    ap.add_argument("--no-onnx", action="store_true", help="skip ONNX Runtime")
    ap.add_argument("--no-parallel-fit", dest="parallel_fit", action="store_false",
                    help="skip the extra scikit-learn n_jobs=-1 forest fit")
    ap.add_argument("--budget", type=float, default=1.0,
                    help="scale the time budgets of the latency/throughput loops (default 1)")
    args = ap.parse_args()
    args.tabship, args.data = args.tabship.resolve(), args.data.resolve()
    if not args.tabship.is_file():
        sys.exit(f"tabship binary not found: {args.tabship} (build it with "
                 "`cargo build --release -p tabship-cli`, or pass --tabship)")

    cases = CASES
    if args.cases:
        want = set(args.cases.split(","))
        unknown = want - {c.key for c in CASES}
        if unknown:
            sys.exit(f"unknown cases {sorted(unknown)}; known: {[c.key for c in CASES]}")
        cases = [c for c in CASES if c.key in want]

    budgets = {k: v * args.budget for k, v in {"single": 1.0, "batch": 2.0, "load": 0.5}.items()}
    n_cpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    started = time.perf_counter()
    vers = versions(args.tabship)
    onnx_ok = "--no-onnx" if args.no_onnx else True
    if onnx_ok is True:
        try:
            import onnxruntime  # noqa: F401
            import skl2onnx  # noqa: F401
        except Exception as e:  # noqa: BLE001
            onnx_ok = f"{type(e).__name__}: {e}"

    load_before = os.getloadavg()
    print("# tabship vs scikit-learn vs ONNX Runtime\n")
    print(f"- CPU: {cpu_model()}; os.cpu_count() = {os.cpu_count()}, usable = {n_cpu}")
    print(f"- load average at start (1/5/15 min): {' '.join(f'{x:.2f}' for x in load_before)}")
    print("- versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()))
    print(f"- tabship binary: {args.tabship}; data: {args.data}")
    print("- ratio columns = alternative / tabship; `better` says which direction wins.\n",
          flush=True)

    results = []
    with tempfile.TemporaryDirectory(prefix="tabship-compare-") as tmp:
        for case in cases:
            t0 = time.perf_counter()
            r = run_case(case, args, Path(tmp), n_cpu, onnx_ok, budgets)
            metric = "accuracy" if case.classification else "r2"
            print(f"## {case.dataset} (target `{case.target}`): {case.model}\n")
            print(table(case, r["tabship"], r["sklearn"], r["onnxruntime"], n_cpu, metric))
            print()
            for n in r["notes"]:
                print(f"- {n}")
            print(f"- case wall time: {time.perf_counter() - t0:.1f} s\n", flush=True)
            results.append(r)

    load_after = os.getloadavg()
    total = time.perf_counter() - started
    print(f"Load average at end: {' '.join(f'{x:.2f}' for x in load_after)}; "
          f"total run time {total:.1f} s.")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "cpu": cpu_model(), "cpu_count": os.cpu_count(), "usable_cpus": n_cpu,
            "load_average_start": load_before, "load_average_end": load_after,
            "versions": vers, "batch_rows": BATCH_ROWS, "budgets_seconds": budgets,
            "total_seconds": total, "cases": results}, indent=2, default=float) + "\n")
        print(f"Raw numbers saved to {args.json}.")


if __name__ == "__main__":
    main()
