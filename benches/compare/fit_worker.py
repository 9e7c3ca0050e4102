"""One Python fit in a fresh process, for benches/compare/fit.py (not meant to be run by hand).

    python fit_worker.py SPEC.json

SPEC (written by fit.py): {"contestant": "sklearn-rf" | "sklearn-hgb" | "lightgbm",
"data": CSV path, "target": column, "classification": bool, "split": split CSV (`row,set`,
rows counted from 1), "n_trees": int, "threads": int, "predictions": .npy path to write}.

Timed (perf_counter, "fit_seconds"): pandas `read_csv` of the whole CSV, selecting the train
rows, the preprocessing (one-hot pipeline for the forest; text columns to pandas `category` for
the boosters) and `fit`. Not timed: the interpreter start, the imports, reading the split file,
and predicting the test rows afterwards (saved for fit.py's metrics). The parent measures this
process's peak RSS (it includes the interpreter and the imported libraries: "baseline_rss_mb"
is the peak RSS before the CSV is read). Prints one JSON object on stdout.
"""

import json
import os
import resource
import sys
import time

import numpy as np
import pandas as pd

from holdout import one_hot_preprocessor, read_csv  # this directory (the script's sys.path[0])

# Settings shared with fit.py's tabship flags (see its docstring).
FOREST = {"max_depth": 10, "max_features": "sqrt", "min_samples_leaf": 1}
BOOSTING = {"learning_rate": 0.1, "leaves": 31, "bins": 255, "min_samples_leaf": 20, "l2": 0.0}


def text_columns(x):
    """Categorical = non-numeric columns (object dtype in pandas 2, `str` dtype in pandas 3)."""
    return [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c])]


def sklearn_forest(x, classification, spec):
    """holdout.py's one-hot pipeline (median imputer + scaler; constant imputer + one-hot with
    min_frequency=5) in front of scikit-learn's random forest on all cores."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.pipeline import Pipeline

    forest = RandomForestClassifier if classification else RandomForestRegressor
    model = forest(n_estimators=spec["n_trees"], **FOREST, n_jobs=-1, random_state=42)
    return Pipeline([("pre", one_hot_preprocessor(x)), ("model", model)]), x


def as_categories(x):
    """Text columns as pandas `category` (the boosters' native categorical input)."""
    return x.astype({c: "category" for c in text_columns(x)})


def sklearn_hgb(x, classification, spec):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    booster = HistGradientBoostingClassifier if classification else HistGradientBoostingRegressor
    model = booster(max_iter=spec["n_trees"], max_leaf_nodes=BOOSTING["leaves"],
                    learning_rate=BOOSTING["learning_rate"], max_bins=BOOSTING["bins"],
                    min_samples_leaf=BOOSTING["min_samples_leaf"],
                    l2_regularization=BOOSTING["l2"], early_stopping=False,
                    categorical_features="from_dtype", random_state=42)
    return model, as_categories(x)


def lightgbm(x, classification, spec):
    import lightgbm as lgb

    booster = lgb.LGBMClassifier if classification else lgb.LGBMRegressor
    model = booster(n_estimators=spec["n_trees"], num_leaves=BOOSTING["leaves"],
                    learning_rate=BOOSTING["learning_rate"], max_bin=BOOSTING["bins"],
                    min_child_samples=BOOSTING["min_samples_leaf"],
                    reg_lambda=BOOSTING["l2"], n_jobs=spec["threads"], random_state=42,
                    verbose=-1)
    return model, as_categories(x)


BUILDERS = {"sklearn-rf": sklearn_forest, "sklearn-hgb": sklearn_hgb, "lightgbm": lightgbm}


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    build = BUILDERS[spec["contestant"]]
    # Import the contestant's library before the clock starts (an empty frame suffices).
    build(pd.DataFrame({"a": [0.0]}), spec["classification"], spec)
    split = pd.read_csv(spec["split"])
    split["row"] -= 1  # tabship counts data rows from 1
    baseline = peak_rss_mb()

    started = time.perf_counter()
    df = read_csv(spec["data"])
    target = spec["target"]
    x, y = df.drop(columns=[target]), df[target]
    if spec["classification"]:
        y = y.astype(str)
    model, x = build(x, spec["classification"], spec)
    train = split.loc[split["set"] == "train", "row"].to_numpy()
    model.fit(x.iloc[train], y.iloc[train])
    fit_seconds = time.perf_counter() - started

    test = split.loc[split["set"] == "test", "row"].to_numpy()
    out = {"fit_seconds": fit_seconds, "baseline_rss_mb": baseline, "threads": spec["threads"],
           "pid": os.getpid()}
    if spec["classification"]:
        np.save(spec["predictions"], model.predict_proba(x.iloc[test]))
        out["classes"] = [str(c) for c in model.classes_]
    else:
        np.save(spec["predictions"], np.asarray(model.predict(x.iloc[test]), dtype=float))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
