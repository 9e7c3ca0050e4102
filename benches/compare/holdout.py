"""Holdout comparison: tabship vs scikit-learn on exactly the same train/test rows.

Run from the repository root, after `bash scripts/python-env.sh`:

    .venv/bin/python benches/compare/holdout.py [--tabship PATH] [--data DIR]

For each case, `tabship train ... --write-split SPLIT.csv --json` fits a model and
reports its holdout metrics; the split file (`row,set`, 0-based data rows) is then
used to fit the scikit-learn equivalent on the same train rows and score the same
test rows. Prints a markdown table; exits non-zero on any failure.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import (accuracy_score, f1_score, log_loss, mean_absolute_error,
                             r2_score, roc_auc_score, root_mean_squared_error)
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

REPO = Path(__file__).resolve().parents[2]

# (dataset, target, tabship model)
CASES = [
    ("adult", "income", "logistic"),
    ("iris", "species", "logistic"),
    ("diamonds", "price", "ridge"),
    ("diamonds", "price", "linear"),
]

SKLEARN_MODELS = {
    "logistic": lambda: LogisticRegression(C=1.0, max_iter=1000),  # tabship alpha=1 = 1/C
    "ridge": lambda: Ridge(alpha=1.0),
    "linear": lambda: LinearRegression(),
}


def read_csv(path):
    """Only empty fields are missing (no 'NA'/'null' guessing)."""
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def run_tabship(tabship, data, target, model, tmp):
    stem = f"{data.stem}_{model}"
    split, out = tmp / f"{stem}_split.csv", tmp / f"{stem}.tabship"
    cmd = [str(tabship), "train", str(data), "--target", target, "--model", model,
           "--seed", "42", "--test-fraction", "0.2", "--write-split", str(split),
           "--json", "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"tabship failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    return json.loads(proc.stdout), read_csv(split)


def one_hot_preprocessor(X):
    """Median imputer + scaler for numbers; constant imputer + one-hot (min_frequency=5) for
    categories (also fit.py's forest preprocessing)."""
    # Categorical = non-numeric columns (object dtype in pandas 2, `str` dtype in pandas 3).
    cat = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    num = [c for c in X.columns if c not in cat]
    return ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), num),
        ("cat", make_pipeline(
            SimpleImputer(strategy="constant", fill_value="__missing__"),
            OneHotEncoder(handle_unknown="ignore", min_frequency=5)), cat),
    ])


def sklearn_pipeline(X, model):
    return Pipeline([("pre", one_hot_preprocessor(X)), ("model", SKLEARN_MODELS[model]())])


def sklearn_metrics(pipe, X_test, y_test, classification):
    if not classification:
        pred = pipe.predict(X_test)
        return {"r2": r2_score(y_test, pred), "mae": mean_absolute_error(y_test, pred),
                "rmse": root_mean_squared_error(y_test, pred)}
    pred, proba = pipe.predict(X_test), pipe.predict_proba(X_test)
    classes = pipe.classes_
    m = {"accuracy": accuracy_score(y_test, pred),
         "f1_macro": f1_score(y_test, pred, average="macro"),
         "log_loss": log_loss(y_test, proba, labels=classes)}
    if len(classes) == 2:
        m["roc_auc"] = roc_auc_score(y_test == classes[1], proba[:, 1])
    return m


def compare(tabship, data_dir, dataset, target, model, tmp):
    data = data_dir / f"{dataset}.csv"
    report, split = run_tabship(tabship, data, target, model, tmp)
    df = read_csv(data)

    if list(split.columns) != ["row", "set"] or not split["set"].isin(["train", "test"]).all():
        sys.exit(f"{dataset}: unexpected split file columns/values")
    train_rows = split.loc[split["set"] == "train", "row"].to_numpy()
    test_rows = split.loc[split["set"] == "test", "row"].to_numpy()
    if (len(train_rows), len(test_rows)) != (report["train_rows"], report["test_rows"]):
        sys.exit(f"{dataset}: split sizes {len(train_rows)}/{len(test_rows)} != "
                 f"tabship's {report['train_rows']}/{report['test_rows']}")
    if not split["row"].is_unique or split["row"].min() < 0 or split["row"].max() >= len(df):
        sys.exit(f"{dataset}: split rows are duplicated or out of range")

    X, y = df.drop(columns=[target]), df[target]
    classification = report["task"] == "classification"
    pipe = sklearn_pipeline(X, model)
    t0 = time.perf_counter()
    pipe.fit(X.iloc[train_rows], y.iloc[train_rows])
    sk_fit = time.perf_counter() - t0
    sk = sklearn_metrics(pipe, X.iloc[test_rows], y.iloc[test_rows], classification)

    rows = []
    for name in sorted(report["metrics"]):
        ts = report["metrics"][name]
        if name not in sk:
            sys.exit(f"{dataset}/{model}: no sklearn counterpart for tabship metric {name}")
        if not (np.isfinite(ts) and np.isfinite(sk[name])):
            sys.exit(f"{dataset}/{model}: non-finite {name}: tabship {ts}, sklearn {sk[name]}")
        rows.append((dataset, model, name, ts, sk[name], ts - sk[name],
                     report["fit_seconds"], sk_fit))
    missing = set(sk) - set(report["metrics"])
    if missing:
        sys.exit(f"{dataset}/{model}: tabship JSON lacks metrics {sorted(missing)}")
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tabship", type=Path, default=REPO / "target/release/tabship")
    ap.add_argument("--data", type=Path, default=REPO / "../shared/data")
    args = ap.parse_args()

    rows = []
    with tempfile.TemporaryDirectory(prefix="tabship-holdout-") as tmp:
        for dataset, target, model in CASES:
            rows += compare(args.tabship.resolve(), args.data.resolve(), dataset, target,
                            model, Path(tmp))

    print("| dataset | model | metric | tabship | sklearn | diff (tabship - sklearn) "
          "| tabship fit s | sklearn fit s |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for d, m, name, ts, sk, diff, tfit, sfit in rows:
        print(f"| {d} | {m} | {name} | {ts:.6g} | {sk:.6g} | {diff:+.3g} | {tfit:.3f} | {sfit:.3f} |")


if __name__ == "__main__":
    main()
