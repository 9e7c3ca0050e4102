"""Imported gradient-boosted trees: tabship next to every other CPU engine, in one run.

Run from the repository root after building the CLI and the extension in release mode:

    bash scripts/python-env.sh
    cargo build --release -p tabship-cli
    (cd python && VIRTUAL_ENV=$PWD/../.venv ../.venv/bin/maturin develop --release --locked)
    .venv/bin/python benches/compare/imported.py [--data DIR] [--rounds 3] [--out DIR] [--json OUT]

Not part of the test command. One run takes about 5 minutes on the 2-core dev machine (most of
it compiling the XGBoost model with tl2cgen).

Models (trained here, on all adult rows; target `income` as 0/1): an XGBoost classifier (500
trees, depth 6, `tree_method=hist`) and a LightGBM classifier (100 trees of 31 leaves). Every
engine must read the same plain float matrix, so the text columns are passed as pandas' category
codes (sorted categories, the order `astype("category")` gives) and both libraries treat them as
numbers; missing texts are read as the category "?" so that no feature is NaN (see
`load_data`). Each model is saved (`save_model`) and imported with `tabship import xgboost|lightgbm
--reference adult.csv --target income --categorical <text columns>`, so tabship reads the text
values and maps them to the same codes itself.

Engines, all on one thread:

- tabship: `tabship.Pipeline.load(...)` (1 thread by default). Single row: `predict_proba(dict)`
  on the record as read from the CSV (text categories). Batch: `predict_proba(DataFrame)` with the
  text columns as pandas categoricals (the binding's cheapest tabular path).
- the library itself: XGBoost `Booster.inplace_predict` (nthread=1), LightGBM `Booster.predict`
  (num_threads=1).
- ONNX Runtime: the fitted model converted by onnxmltools (`zipmap=False`), float32 input,
  intra/inter-op threads 1.
- Treelite: `treelite.gtil.predict` (nthread=1) of the model loaded by Treelite's frontend.
- tl2cgen: the Treelite model compiled to a shared library with gcc, `Predictor(nthread=1)`.
- lleaves (LightGBM only): the model compiled with LLVM (llvmlite), `predict(n_jobs=1)`.

Rows (median of repeated calls within a time budget; the whole set repeated `--rounds` times,
engines interleaved within each round, the table shows the median of the round medians):

- *single row from a dict, µs*: a cycle over 1,000 records (dicts of column → value as read).
  Every other engine builds its one-row float matrix from the dict in the timed call (a
  category → code lookup per text column), as a service would.
- *single row, prebuilt matrix, µs*: the other engines on a prebuilt 1-row matrix (tabship
  still takes the dict: it has no other single-row form in Python).
- *100k-row batch, ms* and *rows/s*: the adult rows repeated to 100,000 (seeded permutation).
  tabship converts the DataFrame inside the timing; the others get their prebuilt float matrix
  (float32 where the engine computes in float32, float64 for LightGBM, Treelite and lleaves).

Check: every engine's P(income = >50K) on the 100k rows against tabship's, as max |difference|.
tabship must equal the library's own predict bit for bit (XGBoost's f32 result, LightGBM's f64);
the script exits non-zero otherwise. Other engines may differ by float rounding (ONNX Runtime
thresholds and sums in float32) and the difference is printed, so nobody times a wrong answer.

Ratios are alternative / tabship for times (> 1: tabship is faster) and tabship / alternative
for rows/s. The issue's targets are printed under each table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare  # noqa: E402  (median_time, Cycle, limit_threads, read_csv, cpu_model)

import tabship  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TARGET = "income"
POSITIVE = ">50K"
BATCH_ROWS = 100_000
SINGLE_RECORDS = 1_000


def load_data(data_dir):
    dirs = [Path(data_dir)] if data_dir else [ROOT.parent / "shared" / "data",
                                              ROOT.parent.parent / "shared" / "data"]
    path = next((d / "adult.csv" for d in dirs if (d / "adult.csv").exists()), None)
    if path is None:
        path = ROOT / "testdata" / "adult_sample.csv"
    df = compare.read_csv(path)
    # Missing texts become the category "?" (as in the original adult files), so no feature is
    # ever NaN: LightGBM then writes no `inf` threshold (its split "missing vs present" on a
    # NaN-missing feature), which tabship's LightGBM importer refuses for now.
    for c in compare.categorical_columns(df):
        df[c] = df[c].fillna("?")
    return path, df


class Encoded:
    """The adult features as one float matrix: numbers as they are, texts as category codes."""

    def __init__(self, X):
        self.columns = list(X.columns)
        self.cat = compare.categorical_columns(X)
        self.codes = {c: {v: float(i) for i, v in enumerate(X[c].astype("category").cat.categories)}
                      for c in self.cat}

    def frame(self, X):
        out = X.copy()
        for c in self.cat:
            out[c] = X[c].map(self.codes[c]).astype("float64")  # unseen/missing → NaN
        return out.astype("float64")

    def row(self, record, dtype):
        """One record → a 1-row matrix (what every other engine needs from a dict)."""
        codes = self.codes
        return np.array([[codes[c].get(record[c], np.nan) if c in codes else record[c]
                          for c in self.columns]], dtype=dtype)


def run(cmd):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout


def train_models(X_num, y, workdir):
    import lightgbm as lgb
    import xgboost as xgb

    xgb_clf = xgb.XGBClassifier(n_estimators=500, max_depth=6, tree_method="hist", n_jobs=2,
                                random_state=0)
    xgb_clf.fit(X_num, y)
    xgb_path = workdir / "xgboost.json"
    xgb_clf.get_booster().save_model(xgb_path)
    lgb_clf = lgb.LGBMClassifier(n_estimators=100, num_leaves=31, n_jobs=2, random_state=0,
                                 verbose=-1)
    lgb_clf.fit(X_num, y)
    lgb_path = workdir / "lightgbm.txt"
    lgb_clf.booster_.save_model(lgb_path)
    return {"xgboost": (xgb_clf, xgb_path), "lightgbm": (lgb_clf, lgb_path)}


def import_model(tabship_bin, library, model_path, reference, cat, out):
    cmd = [tabship_bin, "import", library, model_path, "--reference", reference, "--target",
           TARGET, "-o", out]
    if cat:
        cmd += ["--categorical", ",".join(cat)]
    run(cmd)
    return tabship.Pipeline.load(out)


class Engine:
    """One way of predicting: `one(record)` from a dict, `one_prebuilt(matrix)`, `batch()`;
    `p1(...)` gives P(positive) as float64 for the check."""

    def __init__(self, name, one, one_prebuilt, batch, p1):
        self.name, self.one, self.one_prebuilt, self.batch, self.p1 = (
            name, one, one_prebuilt, batch, p1)


def engines_for(library, clf, model_path, pipe, enc, big_frame, big_cat, workdir, notes):
    """Every engine that can run this model here (failures become notes)."""
    pos = pipe.classes.index(POSITIVE)
    f32 = np.ascontiguousarray(big_frame.to_numpy(dtype=np.float32))
    f64 = np.ascontiguousarray(big_frame.to_numpy(dtype=np.float64))
    engines = [Engine(
        "tabship", pipe.predict_proba, None,
        lambda: pipe.predict_proba(big_cat),
        lambda: np.asarray(pipe.predict_proba(big_cat))[:, pos].astype(np.float64))]

    if library == "xgboost":
        booster = clf.get_booster()
        booster.set_param({"nthread": 1})

        def xgb_p(m):
            return booster.inplace_predict(m)

        engines.append(Engine(
            "XGBoost inplace_predict", lambda r: xgb_p(enc.row(r, np.float32)), xgb_p,
            lambda: xgb_p(f32), lambda: np.asarray(xgb_p(f32), dtype=np.float64).ravel()))
    else:
        booster = clf.booster_

        def lgb_p(m):
            return booster.predict(m, num_threads=1)

        engines.append(Engine(
            "LightGBM predict", lambda r: lgb_p(enc.row(r, np.float64)), lgb_p,
            lambda: lgb_p(f64), lambda: np.asarray(lgb_p(f64), dtype=np.float64).ravel()))

    # ONNX Runtime via onnxmltools
    try:
        import onnxmltools
        import onnxruntime as ort
        from onnxmltools.convert.common.data_types import FloatTensorType

        types = [("input", FloatTensorType([None, f32.shape[1]]))]
        if library == "xgboost":
            # onnxmltools reads features only as f0, f1, ... (column order): a copy without names.
            unnamed = clf.get_booster().copy()
            unnamed.feature_names = None
            unnamed.feature_types = None
            onx = onnxmltools.convert_xgboost(unnamed, initial_types=types, target_opset=15)
        else:
            onx = onnxmltools.convert_lightgbm(clf, initial_types=types, zipmap=False,
                                               target_opset=15)
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(onx.SerializeToString(), so,
                                    providers=["CPUExecutionProvider"])
        outputs = [o.name for o in sess.get_outputs()]
        proba_name = outputs[1]

        def ort_p(m):
            return sess.run([proba_name], {"input": m})[0]

        engines.append(Engine(
            "ONNX Runtime", lambda r: ort_p(enc.row(r, np.float32)), ort_p,
            lambda: ort_p(f32), lambda: np.asarray(ort_p(f32), dtype=np.float64)[:, 1]))
    except Exception as e:  # noqa: BLE001 - a converter failure is reported, not fatal
        notes.append(f"ONNX Runtime: conversion failed ({type(e).__name__}: {e})")

    # Treelite (GTIL) and tl2cgen
    tl_model = None
    try:
        import treelite

        if library == "xgboost":
            tl_model = treelite.frontend.load_xgboost_model(str(model_path))
        else:
            tl_model = treelite.frontend.load_lightgbm_model(str(model_path))

        def tl_p(m):
            return treelite.gtil.predict(tl_model, m, nthread=1)

        tl_in = f32 if library == "xgboost" else f64
        dtype = tl_in.dtype
        engines.append(Engine(
            "Treelite GTIL", lambda r: tl_p(enc.row(r, dtype)), tl_p, lambda: tl_p(tl_in),
            lambda: np.asarray(tl_p(tl_in), dtype=np.float64).reshape(len(tl_in), -1)[:, -1]))
    except Exception as e:  # noqa: BLE001
        notes.append(f"Treelite: failed ({type(e).__name__}: {e})")
    if tl_model is not None:
        try:
            import tl2cgen

            lib = workdir / f"{library}_tl2cgen.so"
            t0 = time.perf_counter()
            tl2cgen.export_lib(tl_model, toolchain="gcc", libpath=str(lib),
                               params={"parallel_comp": 8}, nthread=2)
            notes.append(f"tl2cgen: compiled in {time.perf_counter() - t0:.0f} s (gcc)")
            predictor = tl2cgen.Predictor(str(lib), nthread=1)
            tl_in = f32 if library == "xgboost" else f64
            dtype = tl_in.dtype
            big_dm = tl2cgen.DMatrix(tl_in)

            def tc_p(m):
                return predictor.predict(tl2cgen.DMatrix(m))

            engines.append(Engine(
                "tl2cgen (compiled)", lambda r: tc_p(enc.row(r, dtype)), tc_p,
                lambda: predictor.predict(big_dm),
                lambda: np.asarray(predictor.predict(big_dm),
                                   dtype=np.float64).reshape(len(tl_in), -1)[:, -1]))
        except Exception as e:  # noqa: BLE001
            notes.append(f"tl2cgen: failed ({type(e).__name__}: {e})")

    # lleaves (LightGBM only)
    if library == "lightgbm":
        try:
            import lleaves

            ll = lleaves.Model(model_file=str(model_path))
            t0 = time.perf_counter()
            ll.compile(cache=str(workdir / "lleaves.o"))
            notes.append(f"lleaves: compiled in {time.perf_counter() - t0:.0f} s (LLVM)")

            def ll_p(m):
                return ll.predict(m, n_jobs=1)

            engines.append(Engine(
                "lleaves", lambda r: ll_p(enc.row(r, np.float64)), ll_p, lambda: ll_p(f64),
                lambda: np.asarray(ll_p(f64), dtype=np.float64).ravel()))
        except Exception as e:  # noqa: BLE001
            notes.append(f"lleaves: failed ({type(e).__name__}: {e})")
    return engines


def measure(engines, records, prebuilt, rounds, budgets):
    """Median over rounds (engines interleaved in each round) of each engine's median call."""
    samples = {e.name: {"single_dict": [], "single_prebuilt": [], "batch": []} for e in engines}
    with compare.limit_threads(1):
        min_batch = {}
        for e in engines:  # warm-up: first calls, lazy compilation, caches
            e.one(records[0])
            t = time.perf_counter()
            e.batch()
            # An engine slower than the budget per batch (Treelite's GTIL) gets one call a round.
            min_batch[e.name] = 3 if time.perf_counter() - t < budgets["batch"] else 1
        for _ in range(rounds):
            for e in engines:
                s = samples[e.name]
                s["single_dict"].append(compare.median_time(compare.Cycle(records, e.one),
                                                            budgets["single"])[0])
                if e.one_prebuilt is not None:
                    s["single_prebuilt"].append(compare.median_time(
                        compare.Cycle(prebuilt[e.name], e.one_prebuilt), budgets["single"])[0])
                s["batch"].append(compare.median_time(e.batch, budgets["batch"],
                                                      min_samples=min_batch[e.name])[0])
    out = {}
    for name, s in samples.items():
        out[name] = {k: (statistics.median(v) if v else None) for k, v in s.items()}
        out[name]["single_prebuilt"] = out[name]["single_prebuilt"] or out[name]["single_dict"]
        out[name]["rounds"] = {k: v for k, v in s.items()}
    return out


def fmt(x, scale):
    if x is None:
        return "–"
    v = x * scale
    return f"{v:,.0f}" if v >= 1000 else f"{v:.3g}" if v < 10 else f"{v:.1f}"


def table(title, results, diffs):
    names = list(results)
    ts = results["tabship"]
    head = "| " + title + " | " + " | ".join(names) + " |"
    lines = [head, "|---" + "|---:" * len(names) + "|"]
    rows = [("single row from a dict, µs", "single_dict", 1e6),
            ("single row, prebuilt matrix, µs", "single_prebuilt", 1e6),
            ("100k-row batch, ms", "batch", 1e3)]
    for label, key, scale in rows:
        lines.append(f"| {label} | " + " | ".join(fmt(results[n][key], scale) for n in names)
                     + " |")
    lines.append("| 100k-row batch, M rows/s | " + " | ".join(
        f"{BATCH_ROWS / results[n]['batch'] / 1e6:.2f}" for n in names) + " |")
    for label, key in (("single row from a dict", "single_dict"), ("100k-row batch", "batch")):
        lines.append(f"| ratio alt/tabship, {label} | " + " | ".join(
            f"{results[n][key] / ts[key]:.2f}×" for n in names) + " |")
    lines.append("| max \\|P − tabship's P\\| on 100k rows | " + " | ".join(
        f"{diffs[n]:.2g}" for n in names) + " |")
    return "\n".join(lines)


def targets(results):
    ts = results["tabship"]
    out = []
    if "lleaves" in results:
        ll = results["lleaves"]
        out.append(f"single row ≤ lleaves: tabship {ts['single_dict'] * 1e6:.2f} µs vs "
                   f"{ll['single_dict'] * 1e6:.2f} µs from a dict "
                   f"({ll['single_prebuilt'] * 1e6:.2f} µs prebuilt) → "
                   + ("met" if ts["single_dict"] <= ll["single_dict"] else "MISSED"))
        out.append(f"batch ≥ lleaves rows/s: tabship {BATCH_ROWS / ts['batch'] / 1e6:.2f} vs "
                   f"{BATCH_ROWS / ll['batch'] / 1e6:.2f} M rows/s → "
                   + ("met" if ts["batch"] <= ll["batch"] else
                      f"MISSED (lleaves {ts['batch'] / ll['batch']:.2f}× faster)"))
    if "ONNX Runtime" in results:
        r = results["ONNX Runtime"]["batch"] / ts["batch"]
        out.append(f"batch ≥ 3× ONNX Runtime: {r:.2f}× → " + ("met" if r >= 3 else "MISSED"))
    return out


def versions():
    v = {"python": platform.python_version(), "numpy": np.__version__, "pandas": pd.__version__}
    from importlib.metadata import version

    for dist in ("xgboost-cpu", "lightgbm", "onnxruntime", "onnxmltools", "treelite", "tl2cgen",
                 "lleaves", "llvmlite"):
        try:
            v[dist] = version(dist)
        except Exception as e:  # noqa: BLE001
            v[dist] = f"unavailable ({type(e).__name__})"
    v["tabship"] = getattr(tabship, "__version__", "?")
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=None,
                    help="directory of adult.csv [../shared/data beside the checkout or the "
                         "worktree's repository; else the committed sample]")
    ap.add_argument("--tabship", default=None, help="tabship CLI [target/release/tabship]")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--single-budget", type=float, default=0.5)
    ap.add_argument("--batch-budget", type=float, default=1.5)
    ap.add_argument("--models", default="xgboost,lightgbm")
    ap.add_argument("--out", default=None,
                    help="keep the models, artifacts and rows here (for benches/benches/imported.rs)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    tabship_bin = Path(args.tabship or target_dir / "release" / "tabship")
    if not tabship_bin.exists():
        sys.exit(f"{tabship_bin} not found: cargo build --release -p tabship-cli (or --tabship)")

    load0 = os.getloadavg()
    print(f"# imported models: {compare.cpu_model()}, {os.cpu_count()} cores, "
          f"load average {load0[0]:.2f} at start")
    print(json.dumps(versions()))
    data_path, df = load_data(args.data)
    X = df.drop(columns=[TARGET])
    y = (df[TARGET] == POSITIVE).astype(int).to_numpy()
    enc = Encoded(X)
    X_num = enc.frame(X)
    order = np.random.default_rng(42).permutation(len(df))
    big_rows = np.resize(order, BATCH_ROWS)
    big_frame = X_num.iloc[big_rows].reset_index(drop=True)
    big_cat = X.iloc[big_rows].reset_index(drop=True)
    for c in enc.cat:
        big_cat[c] = big_cat[c].astype("category")
    records = X.iloc[order[:SINGLE_RECORDS]].to_dict("records")

    tmp = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="tabship-imported-"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        reference = tmp / "reference.csv"
        df.to_csv(reference, index=False)
        # The batch rows as text, for the Rust bench (benches/benches/imported.rs).
        df.iloc[order[:10_000]].drop(columns=[TARGET]).to_csv(tmp / "rows.csv", index=False)
        t0 = time.perf_counter()
        models = train_models(X_num, y, tmp)
        print(f"trained both models on {len(df)} rows of {data_path} in "
              f"{time.perf_counter() - t0:.0f} s")
        report = {"versions": versions(), "data": str(data_path), "rows": len(df), "cases": {}}
        budgets = {"single": args.single_budget, "batch": args.batch_budget}
        failed = False
        for library in args.models.split(","):
            clf, model_path = models[library]
            notes = []
            pipe = import_model(tabship_bin, library, model_path, reference, enc.cat,
                                tmp / f"{library}.tabship")
            engines = engines_for(library, clf, model_path, pipe, enc, big_frame, big_cat, tmp,
                                  notes)
            p_ts = engines[0].p1()
            diffs = {}
            for e in engines:
                try:
                    diffs[e.name] = float(np.max(np.abs(e.p1() - p_ts)))
                except Exception as ex:  # noqa: BLE001
                    diffs[e.name] = float("nan")
                    notes.append(f"{e.name}: check failed ({type(ex).__name__}: {ex})")
            if diffs[engines[1].name] != 0.0:
                failed = True
                notes.append(f"tabship differs from {engines[1].name}: {diffs[engines[1].name]}")
            prebuilt = {e.name: [enc.row(r, np.float32 if library == "xgboost" else np.float64)
                                 for r in records] for e in engines}
            if "ONNX Runtime" in prebuilt:
                prebuilt["ONNX Runtime"] = [enc.row(r, np.float32) for r in records]
            results = measure(engines, records, prebuilt, args.rounds, budgets)
            title = ("XGBoost 500 trees × depth 6" if library == "xgboost"
                     else "LightGBM 100 trees × 31 leaves")
            print()
            print(table(title, results, diffs))
            print()
            for line in targets(results) + notes:
                print(f"- {line}")
            report["cases"][library] = {"results": results, "diffs": diffs, "notes": notes}
        load1 = os.getloadavg()
        print(f"\nload average {load1[0]:.2f} at the end")
        report["load"] = [load0, load1]
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=1, default=str))
    finally:
        if not args.out:
            shutil.rmtree(tmp, ignore_errors=True)
    if failed:
        sys.exit("tabship's predictions differ from the library's own")


if __name__ == "__main__":
    main()
