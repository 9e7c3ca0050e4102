"""Holdout quality next to scikit-learn on the same split: accuracy within 2 points (adult,
iris), R² within 0.03 (diamonds), for the model families both offer. The scikit-learn pipeline
is the one of benches/compare/holdout.py (median imputer + scaler; constant imputer + one-hot
with min_frequency=5)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, r2_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

import tabship
from conftest import TESTDATA, read_csv

FOREST = {"n_trees": 50, "max_depth": 10}


def sklearn_pipeline(x: pd.DataFrame, model: Any) -> Pipeline:
    cat = [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c])]
    num = [c for c in x.columns if c not in cat]
    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), num),
        ("cat", make_pipeline(
            SimpleImputer(strategy="constant", fill_value="__missing__"),
            OneHotEncoder(handle_unknown="ignore", min_frequency=5)), cat),
    ])
    return Pipeline([("pre", pre), ("model", model)])


CASES = [
    # (data, target, tabship options, scikit-learn model, metric, tolerance)
    ("adult_sample.csv", "income", {"model": "logistic"},
     LogisticRegression(C=1.0, max_iter=1000), "accuracy", 0.02),
    ("adult_sample.csv", "income", {"model": "random-forest", **FOREST},
     RandomForestClassifier(n_estimators=50, max_depth=10, random_state=42), "accuracy", 0.02),
    ("iris.csv", "species", {"model": "logistic"},
     LogisticRegression(C=1.0, max_iter=1000), "accuracy", 0.02),
    ("iris.csv", "species", {"model": "decision-tree", "max_depth": 3},
     DecisionTreeClassifier(max_depth=3, random_state=42), "accuracy", 0.02),
    ("diamonds_sample.csv", "price", {"model": "ridge"}, Ridge(alpha=1.0), "r2", 0.03),
    ("diamonds_sample.csv", "price", {"model": "random-forest", "max_features": "all", **FOREST},
     RandomForestRegressor(n_estimators=50, max_depth=10, random_state=42), "r2", 0.03),
]


@pytest.mark.parametrize(
    ("data", "target", "options", "model", "metric", "tolerance"),
    # iris trains in milliseconds; adult and diamonds (forests of 50 trees) are the slow tier.
    [pytest.param(*c, marks=() if c[0] == "iris.csv" else pytest.mark.slow) for c in CASES],
    ids=[f"{c[0].split('_')[0].removesuffix('.csv')}-{c[2]['model']}" for c in CASES],
)
def test_holdout_quality_matches_scikit_learn(
    data: str, target: str, options: dict[str, Any], model: Any, metric: str, tolerance: float
) -> None:
    df = read_csv(TESTDATA / data)
    order = np.random.default_rng(42).permutation(len(df))
    cut = int(len(df) * 0.8)
    train, test = df.iloc[order[:cut]], df.iloc[order[cut:]]
    ours = tabship.train(train, target=target, test_fraction=0.0, **options)
    report = ours.evaluate(test)
    assert report["rows"] == len(test)
    x, y = train.drop(columns=[target]), train[target]
    theirs = sklearn_pipeline(x, model).fit(x, y)
    predicted = theirs.predict(test.drop(columns=[target]))
    if metric == "accuracy":
        sk = accuracy_score(test[target], predicted)
        ts = report["accuracy"]
        # evaluate() agrees with scoring predict() by hand.
        assert ts == pytest.approx((ours.predict(test) == test[target].to_numpy()).mean())
    else:
        sk = r2_score(test[target], predicted)
        ts = report["r2"]
    assert abs(ts - sk) <= tolerance, f"tabship {metric} {ts:.4f}, scikit-learn {sk:.4f}"
    assert ts > (0.8 if metric == "accuracy" else 0.85), f"{metric} {ts:.4f} is too low to mean anything"
