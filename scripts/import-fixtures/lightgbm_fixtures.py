"""Trains the small LightGBM models of the import parity suite and records LightGBM's own predictions.

Run with the project's environment (pinned lightgbm):

    .venv/bin/python scripts/import-fixtures/lightgbm_fixtures.py

and, for the fixture written by an older LightGBM 4.x (a throwaway venv, see
testdata/import/README.md):

    /tmp/lgb40/bin/python scripts/import-fixtures/lightgbm_fixtures.py --old

For each fixture NAME it writes, under testdata/import/lightgbm/:

- NAME.model.txt      the model as `Booster.save_model` writes it;
- NAME.reference.csv  the training frame (features and target): the reference data of `tabship import`;
- NAME.inputs.csv     rows to predict: held-out rows, one row exactly on every numeric split threshold
                      (and on the next double above it), NaN and values with |x| <= 1e-35 in every
                      numeric feature, missing and never-seen categories;
- NAME.expected.csv   per input row, LightGBM's `predict(raw_score=True)` and `predict()` of the model
                      loaded back from NAME.model.txt, as the 16 hex digits of each f64's bits
                      (`raw_K`, `pred_K` for output K).

Everything is seeded; the same LightGBM version writes the same files.
"""

import argparse
import csv
import math
import struct
import sys
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "testdata" / "import" / "lightgbm"
# LightGBM's kZeroThreshold: the float literal 1e-35f widened to double.
ZERO = float(np.float32(1e-35))
TINY = [0.0, -0.0, 1e-36, -1e-36, 1e-35, -1e-35, ZERO, -ZERO, math.nextafter(ZERO, 1.0)]

BASE = {
    "num_threads": 1,
    "deterministic": True,
    "force_row_wise": True,
    "seed": 7,
    "verbose": -1,
    "min_data_in_leaf": 5,
    "min_data_per_group": 5,
    "cat_smooth": 1.0,
}


def hexbits(x: float) -> str:
    return struct.pack(">d", float(x)).hex()


def split_thresholds(model_text: str) -> list[tuple[int, float]]:
    """(feature, threshold) of every numeric split in the model text."""
    out = []
    features = thresholds = None
    for line in model_text.splitlines():
        if line.startswith("split_feature="):
            features = [int(v) for v in line.split("=", 1)[1].split()]
        elif line.startswith("threshold="):
            thresholds = [float(v) for v in line.split("=", 1)[1].split()]
        elif line.startswith("decision_type="):
            kinds = [int(v) for v in line.split("=", 1)[1].split()]
            for f, t, d in zip(features or [], thresholds or [], kinds):
                if d & 1 == 0:
                    out.append((f, t))
    return sorted(set(out))


def input_rows(x: pd.DataFrame, held_out: pd.DataFrame, model_text: str, int_cats=(), n_base: int = 150) -> pd.DataFrame:
    """Held-out rows, then rows on every threshold, then NaN/tiny/unseen rows."""
    rows = [held_out.iloc[: n_base]]
    base = held_out.iloc[:20].reset_index(drop=True)
    numeric = [c for c in x.columns if not isinstance(x[c].dtype, pd.CategoricalDtype) and c not in int_cats]
    extra = []
    for i, (f, t) in enumerate(split_thresholds(model_text)):
        col = x.columns[f]
        for v in (t, math.nextafter(t, math.inf)):
            r = base.iloc[[i % len(base)]].copy()
            r[col] = v
            extra.append(r)
    for j, col in enumerate(numeric):
        for k, v in enumerate(TINY + [math.nan]):
            r = base.iloc[[(j + k) % len(base)]].copy()
            r[col] = v
            extra.append(r)
    for j, col in enumerate(int_cats):
        # Integer category codes: negative, never seen, missing, and the extremes seen.
        for k, v in enumerate([-1, 25, math.nan, 0, int(x[col].max())]):
            r = base.iloc[[(j + k) % len(base)]].copy()
            r[col] = v
            extra.append(r)
    for j, col in enumerate(c for c in x.columns if c not in numeric and c not in int_cats):
        for k, v in enumerate([None, "never-seen"]):
            r = base.iloc[[(j + k) % len(base)]].copy()
            cats = list(r[col].cat.categories)
            if v is not None and v not in cats:
                r[col] = r[col].cat.add_categories([v])
            r[col] = v
            extra.append(r)
    if extra:
        rows.append(pd.concat(extra))
    out = pd.concat(rows, ignore_index=True)
    for col in x.columns:
        if col not in numeric and col not in int_cats:
            out[col] = out[col].astype(str).where(out[col].notna(), None).astype("category")
    return out


def as_int_text(frame: pd.DataFrame, int_cats) -> pd.DataFrame:
    """Integer category codes spelled as integers (pandas writes a column with NaN as floats)."""
    out = frame.copy()
    for col in int_cats:
        out[col] = out[col].map(lambda v: "" if pd.isna(v) else str(int(v)))
    return out


def write_fixture(name, params, x, y, held_out, rounds, target="target", int_cats=(), labels=None):
    """`labels`: the reference data's target column when it is not `y` itself (text labels whose
    sorted order numbers the classes as `y` does)."""
    OUT.mkdir(parents=True, exist_ok=True)
    dataset = lgb.Dataset(x, y, categorical_feature=list(int_cats) if int_cats else "auto")
    booster = lgb.train({**BASE, **params}, dataset, num_boost_round=rounds)
    model_path = OUT / f"{name}.model.txt"
    booster.save_model(model_path)
    text = model_path.read_text()
    loaded = lgb.Booster(model_file=str(model_path))
    ref = x.copy()
    ref[target] = y if labels is None else labels
    as_int_text(ref, int_cats).to_csv(OUT / f"{name}.reference.csv", index=False)
    inputs = input_rows(x, held_out, text, int_cats)
    as_int_text(inputs, int_cats).to_csv(OUT / f"{name}.inputs.csv", index=False)
    raw = np.asarray(loaded.predict(inputs, raw_score=True)).reshape(len(inputs), -1)
    pred = np.asarray(loaded.predict(inputs)).reshape(len(inputs), -1)
    with open(OUT / f"{name}.expected.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        k = raw.shape[1]
        w.writerow([f"raw_{i}" for i in range(k)] + [f"pred_{i}" for i in range(k)])
        for r, p in zip(raw, pred):
            w.writerow([hexbits(v) for v in r] + [hexbits(v) for v in p])
    print(f"{name}: {booster.num_trees()} trees, {len(inputs)} rows", file=sys.stderr)


def generated(n: int, seed: int, nan: float) -> pd.DataFrame:
    """Numeric data with exact zeros, values inside LightGBM's zero band, and NaN."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({f"g{i}": rng.normal(size=n) for i in range(4)})
    x.loc[rng.random(n) < 0.2, "g0"] = 0.0
    x.loc[rng.random(n) < 0.1, "g1"] = 0.0
    tiny = rng.random(n) < 0.15
    x.loc[tiny, "g1"] = rng.choice([1e-36, -1e-36, 5e-36, -ZERO, ZERO], size=int(tiny.sum()))
    for c in x.columns:
        x.loc[rng.random(n) < nan, c] = np.nan
    return x


def label_of(x: pd.DataFrame) -> np.ndarray:
    g = x.fillna(0.0)
    return g["g0"] + 0.5 * g["g1"] - 0.7 * g["g2"] * (g["g3"] > 0)


def adult():
    df = pd.read_csv(REPO / "testdata" / "adult_sample.csv")
    cols = ["age", "workclass", "education_num", "marital_status", "occupation", "capital_gain",
            "hours_per_week", "gender"]
    x = df[cols].copy()
    for c in ["age", "education_num", "capital_gain", "hours_per_week"]:
        x[c] = x[c].astype("float64")
    for c in ["workclass", "marital_status", "occupation", "gender"]:
        x[c] = x[c].astype("category")
    y = (df["income"] == ">50K").astype(int).to_numpy()
    return x, y, df["income"].to_numpy()


def main_current():
    # Binary, numeric and categorical (adult).
    x, y, income = adult()
    # Text labels in the reference data: `<=50K` sorts before `>50K`, as 0 before 1.
    write_fixture("binary_adult", {"objective": "binary", "num_leaves": 15}, x.iloc[:800], y[:800],
                  x.iloc[800:], 20, labels=income[:800])

    # Regression (diamonds), with one categorical column.
    d = pd.read_csv(REPO / "testdata" / "diamonds_sample.csv")
    dx = d[["carat", "cut", "depth", "table", "x", "y", "z"]].copy()
    dx["cut"] = dx["cut"].astype("category")
    dy = d["price"].astype("float64").to_numpy()
    write_fixture("regression_diamonds", {"objective": "regression", "num_leaves": 15}, dx.iloc[:800],
                  dy[:800], dx.iloc[800:], 20)

    # Multiclass (iris), numeric only.
    iris = pd.read_csv(REPO / "testdata" / "iris.csv").sample(frac=1.0, random_state=3)
    ix = iris.drop(columns="species").astype("float64")
    iy = iris["species"].astype("category").cat.codes.to_numpy()
    write_fixture("multiclass_iris", {"objective": "multiclass", "num_class": 3, "num_leaves": 7},
                  ix.iloc[:110], iy[:110], ix.iloc[110:], 10)

    # NaN, zeros and values within the zero band (missing type NaN and None nodes).
    g = generated(900, 11, 0.15)
    gy = (label_of(g) > 0.1).astype(int).to_numpy()
    write_fixture("binary_nan", {"objective": "binary", "num_leaves": 15}, g.iloc[:400], gy[:400],
                  g.iloc[400:], 20)

    # zero_as_missing: missing type Zero nodes.
    gz = generated(900, 12, 0.1)
    write_fixture("regression_zero_missing", {"objective": "regression", "num_leaves": 15,
                                              "zero_as_missing": True},
                  gz.iloc[:400], label_of(gz).to_numpy()[:400], gz.iloc[400:], 20)

    # Multiclass with categorical features (many levels, missing in training).
    rng = np.random.default_rng(5)
    n = 900
    levels = [f"c{i:02d}" for i in range(14)]
    cx = pd.DataFrame({
        "num": rng.normal(size=n),
        "cat_a": pd.Categorical(rng.choice(levels, size=n), categories=levels),
        "cat_b": pd.Categorical(rng.choice(["red", "green", "blue"], size=n)),
    })
    cx.loc[rng.random(n) < 0.1, "cat_a"] = np.nan
    code = cx["cat_a"].cat.codes.to_numpy()
    cy = np.where(code < 0, 0, np.where(code % 3 == 0, 1, 2))
    cy = np.where((cx["num"] > 1.0) & (cx["cat_b"] == "red"), 0, cy)
    write_fixture("multiclass_categorical", {"objective": "multiclass", "num_class": 3, "num_leaves": 7,
                                             "max_cat_to_onehot": 4},
                  cx.iloc[:600], cy[:600], cx.iloc[600:], 8)

    # A categorical feature of integer codes (no pandas categories): the values are the codes.
    rng = np.random.default_rng(9)
    n = 900
    ix_ = pd.DataFrame({"num": rng.normal(size=n), "code": rng.integers(0, 20, size=n).astype("float64")})
    ix_.loc[rng.random(n) < 0.05, "num"] = np.nan
    iy_ = ((ix_["code"] % 4 == 1) | (ix_["num"] > 1.2)).astype(int).to_numpy()
    write_fixture("binary_int_categorical", {"objective": "binary", "num_leaves": 7}, ix_.iloc[:400],
                  iy_[:400], ix_.iloc[400:], 10, int_cats=("code",))

    # Many categories: bitsets of several 32-bit words.
    rng = np.random.default_rng(21)
    n = 1200
    many = [f"k{i:03d}" for i in range(90)]
    mx = pd.DataFrame({
        "num": rng.normal(size=n),
        "many": pd.Categorical(rng.choice(many, size=n), categories=many),
    })
    effect = rng.normal(size=len(many))
    my = effect[mx["many"].cat.codes.to_numpy()] + 0.3 * mx["num"].to_numpy()
    write_fixture("regression_many_categories", {"objective": "regression", "num_leaves": 7,
                                                 "max_cat_threshold": 64, "min_data_per_group": 3},
                  mx.iloc[:600], my[:600], mx.iloc[600:], 10)

    # DART: trees are saved already normalised, so prediction is a plain sum.
    write_fixture("binary_dart", {"objective": "binary", "num_leaves": 7, "boosting": "dart",
                                  "drop_rate": 0.3, "skip_drop": 0.0},
                  g.iloc[:400], gy[:400], g.iloc[400:], 12)

    # Random forests (average_output).
    rf = {"boosting": "rf", "bagging_fraction": 0.7, "bagging_freq": 1, "feature_fraction": 0.8,
          "num_leaves": 15}
    write_fixture("rf_regression", {**rf, "objective": "regression"}, dx.iloc[:800], dy[:800],
                  dx.iloc[800:], 10)
    # Classifiers average before the link: exact when the iterations are a power of two.
    write_fixture("rf_binary", {**rf, "objective": "binary"}, g.iloc[:400], gy[:400], g.iloc[400:], 16)
    write_fixture("rf_multiclass", {**rf, "objective": "multiclass", "num_class": 3, "num_leaves": 7},
                  ix.iloc[:110], iy[:110], ix.iloc[110:], 4)

    # Linear trees: must be refused.
    lx = ix.iloc[:110]
    write_fixture("linear_tree", {"objective": "regression", "linear_tree": True, "num_leaves": 4},
                  lx.drop(columns="petal_width"), lx["petal_width"].to_numpy(),
                  ix.iloc[110:].drop(columns="petal_width"), 5)


def main_old():
    version = lgb.__version__.replace(".", "")
    g = generated(900, 13, 0.15)
    gy = (label_of(g) > 0.1).astype(int).to_numpy()
    write_fixture(f"binary_nan_v{version}", {"objective": "binary", "num_leaves": 15}, g.iloc[:400],
                  gy[:400], g.iloc[400:], 15)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", action="store_true", help="write the older-LightGBM fixture only")
    args = parser.parse_args()
    main_old() if args.old else main_current()
