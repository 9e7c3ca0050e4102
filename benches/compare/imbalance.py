"""Imbalanced classes: a loan-default-like table from adult (five of every six `>50K` rows left
out, about 5% positives), tabship and scikit-learn on the same split, with and without class
weights and a stored threshold. Prints the holdout recall of the minority class and the share of
rows predicted positive.

Run from the repository root after `bash scripts/python-env.sh` and a release build:

    .venv/bin/python benches/compare/imbalance.py [--tabship target/release/tabship] [--data ../shared/data/adult.csv]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

TARGET, POSITIVE = "income", ">50K"


def sklearn_pipeline(num: list[str], cat: list[str], class_weight: str | None) -> Pipeline:
    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), num),
        ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value="__missing__"),
                              OneHotEncoder(handle_unknown="ignore", min_frequency=5)), cat),
    ])
    return Pipeline([("pre", pre), ("model", LogisticRegression(C=1.0, max_iter=1000,
                                                                 class_weight=class_weight))])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tabship", default="target/release/tabship")
    ap.add_argument("--data", default="../shared/data/adult.csv")
    args = ap.parse_args()
    df = pd.read_csv(args.data, skipinitialspace=True)
    positive_rows = np.flatnonzero(df[TARGET] == POSITIVE)
    drop = [r for i, r in enumerate(positive_rows) if (i + 1) % 6 != 0]
    df = df.drop(index=drop).reset_index(drop=True)
    print(f"{len(df)} rows, {np.mean(df[TARGET] == POSITIVE):.1%} `{POSITIVE}`")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "loan_like.csv"
        df.to_csv(data, index=False)
        split = Path(tmp) / "split.csv"
        for label, extra in [("tabship logistic", []),
                             ("tabship --class-weight balanced", ["--class-weight", "balanced"]),
                             ("tabship --threshold f1", ["--threshold", "f1"]),
                             ("tabship --threshold recall=0.8", ["--threshold", "recall=0.8"])]:
            model = Path(tmp) / "m.tabship"
            subprocess.run([args.tabship, "train", str(data), "--target", TARGET, "-o", str(model),
                            "--write-split", str(split), "--no-drift-profile", *extra],
                           check=True, capture_output=True)
            sets = pd.read_csv(split)
            test = df.iloc[sets.loc[sets["set"] == "test", "row"].to_numpy()]
            test_csv = Path(tmp) / "test.csv"
            test.to_csv(test_csv, index=False)
            out = subprocess.run([args.tabship, "predict", str(model), str(test_csv)],
                                 check=True, capture_output=True, text=True).stdout
            predicted = pd.read_csv(pd.io.common.StringIO(out))["prediction"].to_numpy()
            rows.append((label, test[TARGET].to_numpy(), predicted))
        train = df.iloc[sets.loc[sets["set"] == "train", "row"].to_numpy()]
    features = [c for c in df.columns if c != TARGET]
    num = [c for c in features if pd.api.types.is_numeric_dtype(df[c])]
    cat = [c for c in features if c not in num]
    for label, weight in [("scikit-learn LogisticRegression", None),
                          ("scikit-learn class_weight='balanced'", "balanced")]:
        p = sklearn_pipeline(num, cat, weight).fit(train[features], train[TARGET])
        rows.append((label, test[TARGET].to_numpy(), p.predict(test[features])))
    print(f"| model | recall of `{POSITIVE}` | precision | predicted `{POSITIVE}` | accuracy |")
    print("|---|---|---|---|---|")
    for label, truth, predicted in rows:
        hit = (predicted == POSITIVE) & (truth == POSITIVE)
        recall = hit.sum() / (truth == POSITIVE).sum()
        precision = hit.sum() / max((predicted == POSITIVE).sum(), 1)
        print(f"| {label} | {recall:.3f} | {precision:.3f} | {np.mean(predicted == POSITIVE):.1%} "
              f"| {np.mean(predicted == truth):.4f} |")


if __name__ == "__main__":
    main()
