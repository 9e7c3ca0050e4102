"""Writes the XGBoost parity fixtures of crates/tabship-import (testdata/import/xgboost/).

For each case it trains a small XGBoost model on repo data (testdata/*.csv, /work/shared/data's
penguins copied in as testdata/import/penguins_sample.csv) with NaN injected, categorical
columns as pandas categories, and appends rows lying exactly on every numeric split threshold
of the model (and one row with every value missing). It saves the model as JSON and UBJSON, the
rows as `rows.csv` (features and target; also the reference data of the import), and what
XGBoost itself predicts for them as `expected.csv`: float32 bits in hex (`value`, or the class
index and `p0..pK-1`), so the Rust tests compare bit for bit.

Run with the pinned environment for the current version, and with throwaway environments for
the older ones (their files are committed; see testdata/import/README.md):

    .venv/bin/python scripts/import-fixtures/xgboost_fixtures.py
    /tmp/xgb17/bin/python scripts/import-fixtures/xgboost_fixtures.py   # xgboost 1.7.6
    /tmp/xgb21/bin/python scripts/import-fixtures/xgboost_fixtures.py   # xgboost-cpu 2.1.4
"""

import json
import os
import sys

import numpy as np
import pandas as pd
import xgboost as xgb

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VERSION = ".".join(xgb.__version__.split(".")[:2])
OUT = os.path.join(REPO, "testdata", "import", "xgboost", "v" + VERSION)
ROWS = 150
TREES = 6
# Older versions: a few cases and one format each keep the committed files small; together they
# cover both formats, categorical splits, NaN, per-class intercepts and every base_score spelling.
CURRENT = int(xgb.__version__.split(".")[0]) >= 3
OLD_CASES = {
    "adult_binary_cat": ("json", "ubj"),
    "diamonds_reg": ("json",),
    "penguins_softmax": ("ubj",),
}


def load(name, target, categorical, drop=()):
    df = pd.read_csv(os.path.join(REPO, "testdata", name), keep_default_na=False, na_values=[""])
    df = df.drop(columns=list(drop)).head(ROWS).reset_index(drop=True)
    for c in categorical:
        df[c] = df[c].astype("category")
    return df.drop(columns=[target]), df[target]


def with_nan(X, seed, fraction=0.1):
    """Blanks `fraction` of every column (numeric and categorical) at random."""
    rng = np.random.default_rng(seed)
    X = X.copy()
    for c in X.columns:
        mask = rng.random(len(X)) < fraction
        X.loc[mask, c] = np.nan
    return X


def splits(booster):
    """Every numeric split (feature index, float32 threshold) of the model."""
    model = json.loads(booster.save_raw("json"))
    out = set()
    for tree in model["learner"]["gradient_booster"]["model"]["trees"]:
        types = tree.get("split_type", [0] * len(tree["left_children"]))
        for i, left in enumerate(tree["left_children"]):
            if left != -1 and types[i] == 0:
                out.add((tree["split_indices"][i], float(np.float32(tree["split_conditions"][i]))))
    return sorted(out)


def threshold_rows(X, y, booster):
    """The first row with one feature set exactly on each threshold, then a row of missing values."""
    rows, labels = [], []
    for f, t in splits(booster):
        row = X.iloc[[0]].copy()
        row.iloc[0, f] = t
        rows.append(row)
        labels.append(y.iloc[0])
    empty = X.iloc[[0]].copy()
    for c in X.columns:
        empty[c] = np.nan if X[c].dtype != "category" else pd.Categorical([np.nan], categories=X[c].cat.categories)
    rows.append(empty)
    labels.append(y.iloc[0])
    Xt = pd.concat([X] + rows, ignore_index=True)
    for c in X.columns:
        if X[c].dtype == "category":
            Xt[c] = pd.Categorical(Xt[c], categories=X[c].cat.categories)
    return Xt, pd.concat([y, pd.Series(labels)], ignore_index=True)


def text(v):
    if isinstance(v, float) and np.isnan(v):
        return ""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return str(v)


def bits(v):
    return "%08x" % int(np.float32(v).view(np.uint32))


# The current version writes every case as JSON, and these also as UBJSON.
UBJ_CASES = {"adult_binary_cat", "adult_logitraw", "diamonds_reg", "penguins_softmax"}


def write(case, booster, X, y, expected):
    if CURRENT:
        formats = ("json", "ubj") if case in UBJ_CASES else ("json",)
    else:
        formats = OLD_CASES.get(case, ())
    if not formats:
        return
    d = os.path.join(OUT, case)
    os.makedirs(d, exist_ok=True)
    for ext in formats:
        booster.save_model(os.path.join(d, "model." + ext))
    with open(os.path.join(d, "rows.csv"), "w") as f:
        f.write(",".join(list(X.columns) + ["target"]) + "\n")
        for i in range(len(X)):
            f.write(",".join([text(X.iloc[i, j]) for j in range(X.shape[1])] + [text(y.iloc[i])]) + "\n")
    with open(os.path.join(d, "expected.csv"), "w") as f:
        f.write(expected)
    print(case, len(X), "rows")


def regression(case, X, y, objective="reg:squarederror", **params):
    m = xgb.XGBRegressor(n_estimators=TREES, max_depth=3, objective=objective,
                         enable_categorical=True, tree_method="hist", **params)
    m.fit(X, y)
    b = m.get_booster()
    Xt, yt = threshold_rows(X, y, b)
    pred = b.predict(xgb.DMatrix(Xt, enable_categorical=True))
    write(case, b, Xt, yt, "value\n" + "".join(bits(v) + "\n" for v in pred))


def classifier(case, X, y, objective, **params):
    labels = sorted(y.unique())
    yi = y.map({l: i for i, l in enumerate(labels)})
    m = xgb.XGBClassifier(n_estimators=TREES, max_depth=3, objective=objective,
                          enable_categorical=True, tree_method="hist", **params)
    m.fit(X, yi)
    b = m.get_booster()
    Xt, yt = threshold_rows(X, y, b)
    proba = m.predict_proba(Xt)
    classes = m.predict(Xt)
    k = proba.shape[1]
    lines = ["class," + ",".join("p%d" % c for c in range(k))]
    for c, p in zip(classes, proba):
        lines.append(str(int(c)) + "," + ",".join(bits(v) for v in p))
    write(case, b, Xt, yt, "\n".join(lines) + "\n")


def early_stopped(case, X, y):
    """multi:softprob stopped early on a validation set whose labels are shuffled, so that
    `best_iteration` is well below the trees in the file: `predict_proba` uses only those."""
    labels = sorted(y.unique())
    yi = y.map({l: i for i, l in enumerate(labels)})
    shuffled = yi.sample(frac=1.0, random_state=3).reset_index(drop=True)
    m = xgb.XGBClassifier(n_estimators=20, max_depth=3, objective="multi:softprob",
                          early_stopping_rounds=3, tree_method="hist")
    m.fit(X, yi, eval_set=[(X, shuffled)], verbose=False)
    b = m.get_booster()
    assert int(b.attr("best_iteration")) + 1 < b.num_boosted_rounds(), "stopped early"
    Xt, yt = threshold_rows(X, y, b)
    proba = m.predict_proba(Xt)
    classes = m.predict(Xt)
    lines = ["class," + ",".join("p%d" % c for c in range(proba.shape[1]))]
    for c, p in zip(classes, proba):
        lines.append(str(int(c)) + "," + ",".join(bits(v) for v in p))
    write(case, b, Xt, yt, "\n".join(lines) + "\n")


def softmax(case, X, y, **params):
    """multi:softmax through the Booster API: `predict` returns the class index."""
    labels = sorted(y.unique())
    yi = y.map({l: i for i, l in enumerate(labels)})
    params = dict(objective="multi:softmax", num_class=len(labels), max_depth=3,
                  tree_method="hist", **params)
    b = xgb.train(params, xgb.DMatrix(X, yi, enable_categorical=True), TREES)
    Xt, yt = threshold_rows(X, y, b)
    classes = b.predict(xgb.DMatrix(Xt, enable_categorical=True))
    write(case, b, Xt, yt, "class\n" + "".join("%d\n" % int(c) for c in classes))


def logitraw(case, X, y):
    """binary:logitraw: `Booster.predict` returns the raw margin."""
    yi = (y == sorted(y.unique())[1]).astype(int)
    b = xgb.train(dict(objective="binary:logitraw", max_depth=3, tree_method="hist", base_score=0.3),
                  xgb.DMatrix(X, yi, enable_categorical=True), TREES)
    Xt, yt = threshold_rows(X, y, b)
    pred = b.predict(xgb.DMatrix(Xt, enable_categorical=True))
    write(case, b, Xt, yt, "value\n" + "".join(bits(v) + "\n" for v in pred))


def main():
    adult_cats = ["workclass", "education", "marital_status", "occupation", "relationship", "race", "gender"]
    Xa, ya = load("adult_sample.csv", "income", adult_cats, drop=["native_country"])
    Xa = with_nan(Xa, 1)
    classifier("adult_binary_cat", Xa, ya, "binary:logistic", max_cat_to_onehot=1)
    Xn = with_nan(Xa.drop(columns=adult_cats), 2)
    logitraw("adult_logitraw", Xn, ya)
    Xd, yd = load("diamonds_sample.csv", "price", ["cut", "color", "clarity"])
    regression("diamonds_reg", with_nan(Xd.drop(columns=["cut", "color", "clarity"]), 3), yd)
    regression("diamonds_reg_cat", Xd, yd, max_cat_to_onehot=4)
    Xi, yi = load("iris.csv", "species", [])
    Xi = pd.concat([Xi.iloc[::3], Xi.iloc[1::3], Xi.iloc[2::3]]).reset_index(drop=True)
    yi = pd.concat([yi.iloc[::3], yi.iloc[1::3], yi.iloc[2::3]]).reset_index(drop=True)
    classifier("iris_softprob", with_nan(Xi, 4), yi, "multi:softprob")
    if CURRENT:
        early_stopped("iris_early_stopping", Xi, yi)
        # Boosted random forests: 2 trees per class and round (`tree_info` 0, 0, 1, 1, 2, 2, ...).
        classifier("iris_parallel_trees", with_nan(Xi, 6), yi, "multi:softprob",
                   num_parallel_tree=2, subsample=0.8, colsample_bynode=0.8, random_state=1)
    Xp, yp = load(os.path.join("import", "penguins_sample.csv"), "species", ["island", "sex"])
    softmax("penguins_softmax", with_nan(Xp, 5), yp, max_cat_to_onehot=1)


if __name__ == "__main__":
    sys.exit(main())
