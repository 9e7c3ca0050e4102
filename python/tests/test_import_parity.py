"""Parity of imported models: `tabship.from_sklearn` / `from_xgboost` / `from_lightgbm` predict
bit for bit what the source library predicts (`predict`, `predict_proba`), on the repository's
datasets and on generated data with one row exactly on every split threshold (and the `float32`
neighbours of each), with missing values and categoricals; saved artifacts score the same in
the CLI (`tabship predict`) and over HTTP (`tabship serve`, which also counts the unknown
categories). Linear models are measured in ulps, not bit for bit (BLAS summation order).
`pytest -s -k parity_matrix` after the others prints the matrix.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import tabship
from conftest import TESTDATA, read_csv, read_text_csv, run_cli

sk_ensemble = pytest.importorskip("sklearn.ensemble")
sk_tree = pytest.importorskip("sklearn.tree")
sk_compose = pytest.importorskip("sklearn.compose")
sk_pipeline = pytest.importorskip("sklearn.pipeline")
sk_pre = pytest.importorskip("sklearn.preprocessing")
sk_impute = pytest.importorskip("sklearn.impute")

# What the parity matrix of the report is made of: (case id, rows compared, max |difference|).
RESULTS: list[tuple[str, int, float]] = []


def bits(a: Any) -> Any:
    """The float64 bit patterns of `a` (float32 widened exactly first)."""
    return np.ascontiguousarray(np.asarray(a, dtype=np.float64)).view(np.uint64)


def assert_bits(case: str, got: Any, want: Any) -> None:
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want)
    if want.dtype == np.float32:
        # The source computed in float32: tabship's float64 must be that float32, widened.
        assert np.array_equal(got.astype(np.float32).astype(np.float64), got), case
    want = want.astype(np.float64)
    assert got.shape == want.shape, case
    diff = np.abs(got - want)
    worst = float(np.nanmax(diff)) if diff.size else 0.0
    RESULTS.append((case, int(got.shape[0]), worst))
    mismatch = np.flatnonzero((bits(got) != bits(want)).reshape(len(got), -1).any(axis=1))
    assert mismatch.size == 0, f"{case}: {mismatch.size} rows differ, first {mismatch[:5]}, max {worst}"


def check(case: str, pipeline: tabship.Pipeline, model: Any, x: pd.DataFrame, ours: pd.DataFrame | None = None) -> None:
    """`pipeline` on `ours` (default `x`) against `model` on `x`."""
    ours = x if ours is None else ours
    if pipeline.task == "classification":
        assert_bits(f"{case} proba", pipeline.predict_proba(ours), model.predict_proba(x))
        want = [str(v) for v in model.predict(x)]
        got = [str(v) for v in pipeline.predict(ours)]
        assert got == want, case
    else:
        assert_bits(case, pipeline.predict(ours), model.predict(x))


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


@functools.cache
def generated(n: int = 400, nan: bool = False, seed: int = 0) -> tuple[pd.DataFrame, Any, Any]:
    """Numbers on a coarse grid (so thresholds fall between values and on them), a binary, a
    three-class and a regression target."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(
        {
            "a": np.round(rng.normal(size=n), 2),
            "b": np.round(rng.uniform(-3, 3, size=n), 1),
            "c": rng.integers(0, 7, size=n).astype(float),
            "d": np.round(rng.exponential(size=n) * 100, 3),
        }
    )
    y_reg = x.a * 2 + np.sin(x.b) + x.c * 0.3 + rng.normal(scale=0.1, size=n)
    y_cls = (x.a + x.b * 0.3 > 0).astype(int) + (x.c > 4).astype(int)
    if nan:
        for col in x.columns:
            x.loc[rng.random(n) < 0.15, col] = np.nan
    return x, y_reg, y_cls


def thresholds_rows(x: pd.DataFrame, splits: list[tuple[int, float]], f32: bool) -> pd.DataFrame:
    """One row per split with its feature exactly on the threshold (and, for models comparing
    in float32, the float32 values just below and above it), the other features from row 0."""
    base = x.iloc[[0]]
    rows = []
    for feature, t in splits:
        if not np.isfinite(t):
            continue  # scikit-learn's split of the missing values alone
        values = [t]
        if f32:
            t32 = np.float32(t)
            values += [float(np.nextafter(t32, np.float32(-np.inf))), float(t32), float(np.nextafter(t32, np.float32(np.inf)))]
        for v in values:
            row = base.copy()
            row.iloc[0, feature] = v
            rows.append(row)
    return pd.concat(rows, ignore_index=True) if rows else base


def sk_splits(model: Any) -> list[tuple[int, float]]:
    """(feature, threshold) of every split of a scikit-learn tree model."""
    out: list[tuple[int, float]] = []
    estimators: Any
    if hasattr(model, "tree_"):
        estimators = [model]
    elif hasattr(model, "_predictors"):
        for iteration in model._predictors:
            for p in iteration:
                inner = p.nodes[p.nodes["is_leaf"] == 0]
                out += list(zip(inner["feature_idx"].tolist(), inner["num_threshold"].tolist()))
        return out
    else:
        estimators = np.ravel(model.estimators_)
    for est in estimators:
        t = est.tree_
        inner = t.children_left != -1
        out += list(zip(t.feature[inner].tolist(), t.threshold[inner].tolist()))
    return out


def with_thresholds(x: pd.DataFrame, model: Any, f32: bool) -> pd.DataFrame:
    extra = thresholds_rows(x, sk_splits(model), f32)
    nan_row = x.iloc[[0]].copy()
    nan_row.iloc[0, :] = np.nan
    return pd.concat([x, extra], ignore_index=True)


# --------------------------------------------------------------------------------------------
# scikit-learn: bare models on generated numbers, with and without NaN
# --------------------------------------------------------------------------------------------

REGRESSORS: dict[str, Callable[[], Any]] = {
    "DecisionTreeRegressor": lambda: sk_tree.DecisionTreeRegressor(max_depth=6, random_state=0),
    "RandomForestRegressor": lambda: sk_ensemble.RandomForestRegressor(n_estimators=8, max_depth=6, random_state=0),
    "ExtraTreesRegressor": lambda: sk_ensemble.ExtraTreesRegressor(n_estimators=8, max_depth=6, random_state=0),
    "GradientBoostingRegressor": lambda: sk_ensemble.GradientBoostingRegressor(n_estimators=20, max_depth=3, random_state=0),
    "HistGradientBoostingRegressor": lambda: sk_ensemble.HistGradientBoostingRegressor(max_iter=20, random_state=0),
}
CLASSIFIERS: dict[str, Callable[[], Any]] = {
    "RandomForestClassifier": lambda: sk_ensemble.RandomForestClassifier(n_estimators=15, max_depth=5, random_state=0),
    "ExtraTreesClassifier": lambda: sk_ensemble.ExtraTreesClassifier(n_estimators=15, max_depth=5, random_state=0),
    "DecisionTreeClassifier": lambda: sk_tree.DecisionTreeClassifier(max_depth=6, random_state=0),
    "ExtraTreeClassifier": lambda: sk_tree.ExtraTreeClassifier(max_depth=6, random_state=0),
    "GradientBoostingClassifier": lambda: sk_ensemble.GradientBoostingClassifier(n_estimators=15, max_depth=3, random_state=0),
    "HistGradientBoostingClassifier": lambda: sk_ensemble.HistGradientBoostingClassifier(max_iter=15, random_state=0),
}
# GradientBoosting* and the forests' trees take no NaN in scikit-learn 1.9 except these.
TAKES_NAN = {
    "RandomForestClassifier",
    "ExtraTreesClassifier",
    "DecisionTreeRegressor",
    "DecisionTreeClassifier",
    "RandomForestRegressor",
    "ExtraTreesRegressor",
    "HistGradientBoostingRegressor",
    "HistGradientBoostingClassifier",
    "ExtraTreeClassifier",
}
F32 = {"HistGradientBoostingRegressor": False, "HistGradientBoostingClassifier": False}


def bare_cases() -> list[Any]:
    cases = []
    for name in [*REGRESSORS, *CLASSIFIERS]:
        for nan in (False, True):
            marks = []
            if nan and name not in TAKES_NAN:
                continue
            cases.append(pytest.param(name, nan, id=f"{name}-{'nan' if nan else 'numeric'}", marks=marks))
    return cases


@functools.cache
def fitted_bare(name: str, nan: bool, binary: bool) -> tuple[Any, pd.DataFrame]:
    x, y_reg, y_cls = generated(nan=nan)
    if name in REGRESSORS:
        model = REGRESSORS[name]().fit(x, y_reg)
    else:
        y = (y_cls > 0).astype(int) if binary else y_cls
        model = CLASSIFIERS[name]().fit(x, y)
    return model, x


@pytest.mark.parametrize(("name", "nan"), bare_cases())
def test_sklearn_bare_models_predict_bit_for_bit(name: str, nan: bool) -> None:
    for binary in (True, False) if name in CLASSIFIERS else (False,):
        try:
            model, x = fitted_bare(name, nan, binary)
        except ValueError:
            pytest.skip(f"{name} takes no NaN")
        if not binary and name in CLASSIFIERS and "GradientBoosting" in name:
            # Multi-class boosting goes through numpy's SIMD exp: refused, naming why.
            with pytest.raises(tabship.ModelImportError) as info:
                tabship.from_sklearn(model, x)
            assert info.value.parameter == "n_classes_"
            continue
        pipeline = tabship.from_sklearn(model, x)
        rows = with_thresholds(x, model, F32.get(name, True))
        kind = "binary" if binary else ("3-class" if name in CLASSIFIERS else "regression")
        check(f"sklearn {name} {kind} {'nan' if nan else 'numeric'}", pipeline, model, rows)


def test_ordinal_codes_of_unseen_missing_values_are_refused() -> None:
    x, y = penguins()
    x = x.fillna({"island": "?"})
    encoder = sk_pre.OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    pipe = column_pipeline(x, sk_tree.DecisionTreeClassifier(max_depth=3))
    pipe.set_params(prep__cat=encoder)
    pipe.fit(x, y)
    with pytest.raises(tabship.ModelImportError) as info:
        tabship.from_sklearn(pipe, x)
    assert (info.value.step, info.value.parameter) == ("prep.cat", "handle_unknown")


def test_unsupported_steps_are_refused_naming_step_and_parameter() -> None:
    x, y, _ = generated()
    scaled = sk_pipeline.Pipeline(
        [("scale", sk_pre.MinMaxScaler()), ("tree", sk_tree.DecisionTreeRegressor(max_depth=3))]
    ).fit(x, y)
    with pytest.raises(tabship.ModelImportError) as info:
        tabship.from_sklearn(scaled, x)
    assert info.value.step == "scale"
    dropped = sk_pipeline.Pipeline(
        [
            ("ct", sk_compose.ColumnTransformer([("oh", sk_pre.OneHotEncoder(drop="first"), ["c"])], remainder="passthrough", sparse_threshold=0)),
            ("tree", sk_tree.DecisionTreeRegressor(max_depth=3)),
        ]
    ).fit(x, y)
    with pytest.raises(tabship.ModelImportError) as info:
        tabship.from_sklearn(dropped, x)
    assert (info.value.step, info.value.parameter) == ("ct.oh", "drop")


# --------------------------------------------------------------------------------------------
# scikit-learn pipelines on the repository's datasets (categoricals, NaN, unknown categories)
# --------------------------------------------------------------------------------------------


def penguins() -> tuple[pd.DataFrame, pd.Series]:
    df = read_csv(TESTDATA / "import" / "penguins_sample.csv")
    y = df.pop("species")
    return df, y


def adult(n: int = 1500) -> tuple[pd.DataFrame, pd.Series]:
    df = read_csv(TESTDATA / "adult_sample.csv").head(n)
    y = df.pop("income")
    return df, y


def diamonds(n: int = 1500) -> tuple[pd.DataFrame, pd.Series]:
    df = read_csv(TESTDATA / "diamonds_sample.csv").head(n)
    y = df.pop("price")
    return df, y


def column_pipeline(x: pd.DataFrame, model: Any, ordinal: bool = False, scale: bool = False, **ohe: Any) -> Any:
    cats = [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c])]
    nums = [c for c in x.columns if c not in cats]
    if ordinal:
        # handle_unknown="use_encoded_value" codes a missing value never seen in fit as -1,
        # which tabship refuses (tested below); "error" raises instead.
        encoder: Any = sk_pre.OrdinalEncoder()
    else:
        encoder = sk_pre.OneHotEncoder(handle_unknown=ohe.pop("handle_unknown", "ignore"), sparse_output=False, **ohe)
    numeric: Any = sk_pipeline.Pipeline(
        [("impute", sk_impute.SimpleImputer(strategy="median")), ("scale", sk_pre.StandardScaler() if scale else "passthrough")]
    )
    ct = sk_compose.ColumnTransformer([("cat", encoder, cats), ("num", numeric, nums)], sparse_threshold=0)
    return sk_pipeline.Pipeline([("prep", ct), ("model", model)])


def unseen(x: pd.DataFrame, unknown: bool = True) -> pd.DataFrame:
    """The first rows with a never-seen category in every text column (unless not `unknown`),
    a missing value everywhere (text columns: where fit saw one, unless `unknown`)."""
    rows = x.head(4).copy()
    for c in rows.columns:
        if not pd.api.types.is_numeric_dtype(rows[c]):
            if unknown:
                rows.loc[rows.index[0], c] = "never-seen"
            if unknown or x[c].isna().any():
                rows.loc[rows.index[1], c] = np.nan
        else:
            rows.loc[rows.index[2], c] = np.nan
    return rows


DATASET_CASES = [
    ("penguins", "tree", dict()),
    ("penguins-adelie", "gb", dict(min_frequency=5)),
    ("penguins-adelie", "hgb-ordinal", dict()),
    ("adult", "tree", dict()),
    ("adult-filled", "tree", dict(min_frequency=20, max_categories=8)),
    ("adult", "gb", dict()),
    ("adult", "forest", dict()),
    ("adult", "hgb-ordinal", dict()),
    ("diamonds", "forest", dict(scale=True)),
    ("diamonds", "hgb", dict()),
]


@functools.cache
def fitted_dataset(data: str, kind: str, options_key: str) -> tuple[Any, pd.DataFrame]:
    options = dict(eval(options_key))  # noqa: S307 - the test's own literal
    x, y = {"penguins": penguins, "penguins-adelie": penguins, "adult": adult, "adult-filled": adult, "diamonds": diamonds}[data]()
    if data == "penguins-adelie":
        y = (y == "Adelie").map({True: "Adelie", False: "other"})
    if data == "adult-filled":
        # Infrequent categories and a missing one in the same column are refused (their
        # slots' order differs), so this case has no missing text.
        x = x.fillna({c: "?" for c in x.columns if not pd.api.types.is_numeric_dtype(x[c])})
    classifier = data != "diamonds"
    model: Any
    if kind == "tree":
        model = sk_tree.DecisionTreeClassifier(max_depth=8, random_state=0)
    elif kind == "gb":
        model = sk_ensemble.GradientBoostingClassifier(n_estimators=15, max_depth=3, random_state=0)
    elif kind == "forest" and classifier:
        model = sk_ensemble.RandomForestClassifier(n_estimators=25, max_depth=10, random_state=0)
    elif kind == "forest":
        model = sk_ensemble.RandomForestRegressor(n_estimators=6, max_depth=8, random_state=0)
    elif classifier:
        model = sk_ensemble.HistGradientBoostingClassifier(max_iter=15, random_state=0)
    else:
        model = sk_ensemble.HistGradientBoostingRegressor(max_iter=15, random_state=0)
    scale = bool(options.pop("scale", False))
    pipe = column_pipeline(x, model, ordinal=kind.endswith("ordinal"), scale=scale, **options)
    return pipe.fit(x, y), x


@pytest.mark.parametrize(("data", "kind", "options"), DATASET_CASES, ids=[f"{d}-{k}" for d, k, _ in DATASET_CASES])
def test_sklearn_pipelines_on_datasets_predict_bit_for_bit(data: str, kind: str, options: dict[str, Any]) -> None:
    pipe, x = fitted_dataset(data, kind, repr(sorted(options.items())))
    pipeline = tabship.from_sklearn(pipe, x)
    check(f"sklearn {data} {kind}", pipeline, pipe, x)
    # Unknown categories through the Unknown slot (one-hot: all zeros; ordinal: -1) and
    # missing ones, as scikit-learn scores them.
    rows = unseen(x, unknown=not kind.endswith("ordinal"))
    check(f"sklearn {data} {kind} unknown", pipeline, pipe, rows)


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_hist_gradient_boosting_native_categoricals_bit_for_bit(task: str) -> None:
    """`categorical_features="from_dtype"` (pandas categories): its own ordinal encoder, bitset
    splits, NaN and unknown categories to each node's missing side."""
    x, y = penguins()
    x = x.copy()
    for c in ("island", "sex"):
        x[c] = x[c].astype("category")
    if task == "binary":
        model: Any = sk_ensemble.HistGradientBoostingClassifier(max_iter=15, random_state=0)
        target: Any = (y == "Adelie").astype(int)
    else:
        model = sk_ensemble.HistGradientBoostingRegressor(max_iter=15, random_state=0)
        target = x.pop("body_mass_g").fillna(0)
    model.fit(x, target)
    ours = x.astype({"island": object, "sex": object})
    pipeline = tabship.from_sklearn(model, ours)
    check(f"sklearn HistGradientBoosting {task} categorical", pipeline, model, x, ours)
    # Never-seen and missing categories.
    rows = x.head(4).copy()
    for c in ("island", "sex"):
        rows[c] = rows[c].cat.add_categories(["never-seen"])
        rows.loc[rows.index[0], c] = "never-seen"
        rows.loc[rows.index[1], c] = np.nan
    check(f"sklearn HistGradientBoosting {task} categorical unknown", pipeline, model, rows, rows.astype({"island": object, "sex": object}))


def test_hist_gradient_boosting_categorical_missing_sides_bit_for_bit() -> None:
    """Generated categories whose missing rows pull both ways, so categorical nodes send NaN
    (and so unknown categories) left as well as right."""
    rng = np.random.default_rng(1)
    n = 600
    g = pd.Series(rng.choice(list("abcdefgh"), n), dtype=object)
    effect = dict(zip("abcdefgh", [0, 5, 1, 6, 2, 7, 3, 8]))
    y = np.array([effect[v] for v in g]) + rng.normal(size=n)
    missing = rng.random(n) < 0.1
    g[missing] = np.nan
    y[missing] = rng.choice([0, 8], missing.sum())
    x = pd.DataFrame({"g": pd.Categorical(g), "h": pd.Categorical(rng.choice(list("xyz"), n)), "v": np.round(rng.normal(size=n), 2)})
    model = sk_ensemble.HistGradientBoostingRegressor(max_iter=20, random_state=0).fit(x, y)
    nodes = np.concatenate([p.nodes for it in model._predictors for p in it])
    sides = nodes[(nodes["is_categorical"] == 1) & (nodes["is_leaf"] == 0)]["missing_go_to_left"]
    assert set(sides.tolist()) == {0, 1}
    ours = x.astype({"g": object, "h": object})
    pipeline = tabship.from_sklearn(model, ours)
    rows = x.copy()
    rows["g"] = rows["g"].cat.add_categories(["never-seen"])
    rows.loc[rows.index[:50], "g"] = "never-seen"
    check("sklearn HistGradientBoosting categorical both sides", pipeline, model, rows, rows.astype({"g": object, "h": object}))


def test_seed_tutorial_pipeline_ships_in_one_call_and_scores_unknown_categories(tmp_path: Path) -> None:
    """The issue's check: a fitted OneHotEncoder + model as a scikit-learn Pipeline becomes a
    `.tabship` in one call; saved and loaded, a never-seen category is scored through the
    Unknown slot (as scikit-learn's handle_unknown='ignore' scores it) and counted."""
    x, y = adult()
    # The tutorial's encoder as scikit-learn's defaults leave it: sparse one-hot output.
    pipe = sk_pipeline.Pipeline(
        [
            (
                "prep",
                sk_compose.ColumnTransformer(
                    [
                        ("cat", sk_pre.OneHotEncoder(handle_unknown="ignore"), [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c])]),
                        ("num", sk_impute.SimpleImputer(), [c for c in x.columns if pd.api.types.is_numeric_dtype(x[c])]),
                    ]
                ),
            ),
            ("model", sk_ensemble.RandomForestClassifier(n_estimators=10, max_depth=8, random_state=0)),
        ]
    ).fit(x, y)
    assert pipe[0].sparse_output_
    path = tmp_path / "adult.tabship"
    tabship.from_sklearn(pipe, x, target="income", name="adult").save(path)
    loaded = tabship.Pipeline.load(path)
    rows = unseen(x)
    check("seed tutorial unknown", loaded, pipe, rows)
    record = rows.iloc[0].to_dict()
    assert loaded.predict(record) == pipe.predict(rows.iloc[[0]])[0]


# --------------------------------------------------------------------------------------------
# scikit-learn linear models: measured, not bit for bit (BLAS summation order, numpy's exp)
# --------------------------------------------------------------------------------------------

sk_linear = pytest.importorskip("sklearn.linear_model")

# Bounds over the largest differences measured in units in the last place (scikit-learn 1.9.1,
# numpy 2.4.6 with OpenBLAS 0.3.31 on x86-64: probabilities 64 ulps); the test fails if they
# grow. Dense regressions are not bounded in ulps: OpenBLAS picks its dot-product kernel, and
# with it the summation order, by CPU (768 ulps on one machine, 8192 on another, where terms of
# thousands cancel to a price near zero), so they are held to the rounding error a sum can make,
# `REGRESSION_ERROR_FACTOR · (n + 1) · eps · (Σ|w_i·x_i| + |b|)` per row.
MAX_ULPS = {"proba": 128, "sparse proba": 4}
REGRESSION_ERROR_FACTOR = 2
LINEAR_RESULTS: list[tuple[str, int, int, float, float]] = []


def ulps(got: Any, want: Any) -> int:
    """The largest distance in representable float64 values between `got` and `want`."""
    def ordered(a: Any) -> Any:
        i = np.asarray(a, dtype=np.float64).ravel().view(np.int64)
        return np.where(i < 0, np.int64(-(2**63)) - i, i)

    return int(np.max(np.abs(ordered(got) - ordered(want)))) if np.size(got) else 0


LINEAR_CASES = [
    ("diamonds", "LinearRegression"),
    ("diamonds", "Ridge"),
    ("diamonds", "Lasso"),
    ("diamonds", "ElasticNet"),
    ("adult", "LogisticRegression"),
    ("iris", "LogisticRegression"),
]


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize(("data", "name"), LINEAR_CASES, ids=[f"{d}-{n}" for d, n in LINEAR_CASES])
def test_sklearn_linear_models_within_measured_ulps(data: str, name: str, sparse: bool) -> None:
    """Dense output goes through BLAS (another summation order); sparse output through scipy's
    CSR product, which sums the stored entries in column order as tabship does: regressions
    bit-identical, probabilities within the link's difference (SciPy's expit against tabship's
    `e / (1 + e)` for negative scores)."""
    if data == "iris":
        x = read_csv(TESTDATA / "iris.csv")
        y = x.pop("species")
    else:
        x, y = {"diamonds": diamonds, "adult": adult}[data]()
    kwargs: dict[str, Any] = {"max_iter": 2000} if name in ("LogisticRegression", "Lasso", "ElasticNet") else {}
    if name in ("Lasso", "ElasticNet"):
        kwargs["alpha"] = 0.5
    model = getattr(sk_linear, name)(**kwargs)
    pipe = column_pipeline(x, model, scale=True)
    if sparse and data == "iris":
        pytest.skip("no categorical column: nothing is sparse")
    if sparse:
        pipe.set_params(prep__cat__sparse_output=True, prep__sparse_threshold=1.0)
    pipe.fit(x, y)
    with pytest.raises(tabship.ModelImportError, match="exact=False") as refused:
        tabship.from_sklearn(pipe, x)
    assert refused.value.step == "model" and "bit for bit" in str(refused.value)
    pipeline = tabship.from_sklearn(pipe, x, exact=False)
    if name == "LogisticRegression":
        # Unknown categories through the Unknown slot (all zeros), missing ones imputed.
        x = pd.concat([x, unseen(x)], ignore_index=True)
        got, want = pipeline.predict_proba(x), pipe.predict_proba(x)
        assert [str(v) for v in pipeline.predict(x)] == [str(v) for v in pipe.predict(x)]
        bound = MAX_ULPS["proba"]
    else:
        got, want = pipeline.predict(x), pipe.predict(x)
        bound = None
    distance = ulps(got, want)
    same = float(np.mean(bits(got) == bits(np.asarray(want))))
    worst = float(np.max(np.abs(np.asarray(got, dtype=np.float64) - np.asarray(want, dtype=np.float64))))
    LINEAR_RESULTS.append((f"sklearn {data} {name} {'sparse' if sparse else 'dense'}", len(x), distance, same, worst))
    if sparse:
        assert pipe[0].sparse_output_
        bound = 0 if name != "LogisticRegression" else MAX_ULPS["sparse proba"]
    if bound is None:
        z = pipe[:-1].transform(x)
        z = np.asarray(z.toarray() if hasattr(z, "toarray") else z, dtype=np.float64)
        model = pipe[-1]
        scale = np.abs(z) @ np.abs(np.ravel(model.coef_)) + abs(float(model.intercept_))
        allowed = REGRESSION_ERROR_FACTOR * (z.shape[1] + 1) * np.finfo(np.float64).eps * scale
        error = np.abs(np.asarray(got, dtype=np.float64) - np.asarray(want, dtype=np.float64))
        worst_row = int(np.argmax(error - allowed))
        assert np.all(error <= allowed), (
            f"{data} {name}: row {worst_row} differs by {error[worst_row]:.3e}, more than a sum's "
            f"rounding error {allowed[worst_row]:.3e} ({distance} ulps at worst)")
    else:
        assert distance <= bound, f"{data} {name}: {distance} ulps"


# --------------------------------------------------------------------------------------------
# XGBoost through the native importer
# --------------------------------------------------------------------------------------------

xgb = pytest.importorskip("xgboost")

XGB_OBJECTIVES = ["reg:squarederror", "binary:logistic", "multi:softprob"]


@functools.cache
def fitted_xgb(objective: str, case: str) -> tuple[Any, pd.DataFrame, pd.DataFrame]:
    params = dict(n_estimators=12, max_depth=4, learning_rate=0.3, random_state=0, tree_method="hist")
    if case == "categorical":
        x, y = penguins()
        x = x.copy()
        for c in ("island", "sex"):
            x[c] = x[c].astype("category")
        ours = x.copy()
        for c in ("island", "sex"):
            ours[c] = ours[c].astype(object)
        codes = {s: i for i, s in enumerate(sorted(y.unique()))}
        y_cls = y.map(codes)
        y_reg = x["body_mass_g"].fillna(0)
        x = x.drop(columns=["body_mass_g"])
        ours = ours.drop(columns=["body_mass_g"])
        params["enable_categorical"] = True
    else:
        x, y_reg, y_cls = generated(nan=case == "nan")
        ours = x
    if objective == "reg:squarederror":
        model = xgb.XGBRegressor(objective=objective, **params).fit(x, y_reg)
    elif objective == "binary:logistic":
        model = xgb.XGBClassifier(objective=objective, **params).fit(x, (y_cls > 0).astype(int))
    else:
        model = xgb.XGBClassifier(objective=objective, **params).fit(x, y_cls)
    return model, x, ours


def xgb_thresholds(model: Any, x: pd.DataFrame) -> list[tuple[int, float]]:
    trees = model.get_booster().trees_to_dataframe()
    numeric = trees[(trees.Feature != "Leaf") & trees.Split.notna()]
    out = []
    for f, t in zip(numeric.Feature, numeric.Split):
        if f in x.columns and x[f].dtype != "category":
            out.append((list(x.columns).index(f), float(t)))
    return out


@pytest.mark.parametrize("case", ["numeric", "nan", "categorical"])
@pytest.mark.parametrize("objective", XGB_OBJECTIVES)
def test_xgboost_predicts_bit_for_bit(objective: str, case: str) -> None:
    model, x, ours = fitted_xgb(objective, case)
    pipeline = tabship.from_xgboost(model, ours)
    if case != "categorical":
        rows = pd.concat([x, thresholds_rows(x, xgb_thresholds(model, x), True)], ignore_index=True)
        check(f"xgboost {objective} {case}", pipeline, model, rows)
    else:
        check(f"xgboost {objective} {case}", pipeline, model, x, ours)


# --------------------------------------------------------------------------------------------
# LightGBM through the native importer
# --------------------------------------------------------------------------------------------

LGB_OBJECTIVES = ["regression", "binary", "multiclass"]


@functools.cache
def fitted_lgb(objective: str, case: str) -> tuple[Any, pd.DataFrame, pd.DataFrame]:
    lgb = pytest.importorskip("lightgbm")
    params = dict(n_estimators=12, num_leaves=15, min_child_samples=5, random_state=0, verbose=-1)
    if case == "categorical":
        x, y = penguins()
        x = x.copy()
        for c in ("island", "sex"):
            x[c] = x[c].astype("category")
        ours = x.copy()
        for c in ("island", "sex"):
            ours[c] = ours[c].astype(object)
        y_cls = y.map({s: i for i, s in enumerate(sorted(y.unique()))})
        y_reg = x["body_mass_g"].fillna(0)
        x, ours = x.drop(columns=["body_mass_g"]), ours.drop(columns=["body_mass_g"])
    else:
        x, y_reg, y_cls = generated(nan=case == "nan")
        ours = x
    if objective == "regression":
        model = lgb.LGBMRegressor(objective=objective, **params).fit(x, y_reg)
    elif objective == "binary":
        model = lgb.LGBMClassifier(objective=objective, **params).fit(x, (y_cls > 0).astype(int))
    else:
        model = lgb.LGBMClassifier(objective=objective, **params).fit(x, y_cls)
    return model, x, ours


def lgb_thresholds(model: Any, x: pd.DataFrame) -> list[tuple[int, float]]:
    trees = model.booster_.trees_to_dataframe()
    numeric = trees[trees.decision_type == "<="]
    names = list(x.columns)
    # `inf` marks a split of the missing values alone: no finite row sits on it.
    return [
        (names.index(f), float(t))
        for f, t in zip(numeric.split_feature, numeric.threshold)
        if f in names and np.isfinite(float(t))
    ]


LGB_CASES = [
    pytest.param(objective, case, id=f"{objective}-{case}")
    for objective in LGB_OBJECTIVES
    for case in ("numeric", "nan", "categorical")
]


@pytest.mark.parametrize(("objective", "case"), LGB_CASES)
def test_lightgbm_predicts_bit_for_bit(objective: str, case: str) -> None:
    model, x, ours = fitted_lgb(objective, case)
    pipeline = tabship.from_lightgbm(model, ours)
    if case != "categorical":
        rows = pd.concat([x, thresholds_rows(x, lgb_thresholds(model, x), False)], ignore_index=True)
        check(f"lightgbm {objective} {case}", pipeline, model, rows)
    else:
        check(f"lightgbm {objective} {case}", pipeline, model, x, ours)


# --------------------------------------------------------------------------------------------
# The CLI scores saved artifacts exactly as Python does
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_predicts_imported_artifacts_identically(cli: Path, tmp_path: Path) -> None:
    built: list[tuple[str, tabship.Pipeline, pd.DataFrame]] = []
    model, x = fitted_bare("HistGradientBoostingClassifier", True, True)
    built.append(("hgb", tabship.from_sklearn(model, x), x))
    pipe, px = fitted_dataset("adult", "gb", repr(sorted({}.items())))
    built.append(("adult-gb", tabship.from_sklearn(pipe, px), unseen(px)))
    forest, fx = fitted_dataset("adult", "forest", repr(sorted({}.items())))
    built.append(("adult-forest", tabship.from_sklearn(forest, fx), fx))
    xm, xx, _ = fitted_xgb("multi:softprob", "nan")
    built.append(("xgb", tabship.from_xgboost(xm, xx), xx))
    lm, lx, lours = fitted_lgb("multiclass", "categorical")
    built.append(("lgb", tabship.from_lightgbm(lm, lours), lours))
    for name, pipeline, rows in built:
        path = tmp_path / f"{name}.tabship"
        pipeline.save(path)
        data = tmp_path / f"{name}.csv"
        rows.to_csv(data, index=False)
        out = tmp_path / f"{name}.out.csv"
        proba = ["--proba"] if pipeline.task == "classification" else []
        run_cli(cli, "predict", path, data, *proba, "-o", out)
        scored = read_text_csv(out)
        if pipeline.task == "classification":
            p = pipeline.predict_proba(rows)
            for k, cls in enumerate(pipeline.classes):
                assert [float(v) for v in scored[f"probability_{cls}"]] == p[:, k].tolist(), name
            assert list(scored["prediction"]) == [str(v) for v in pipeline.predict(rows)], name
        else:
            assert [float(v) for v in scored["prediction"]] == pipeline.predict(rows).tolist(), name


# --------------------------------------------------------------------------------------------
# HTTP: `tabship serve` scores imported artifacts as Python does, and counts unknown categories
# --------------------------------------------------------------------------------------------


def start_server(cli: Path, models: list[Path]) -> tuple[str, Any]:
    """`tabship serve MODELS --port 0 --json-logs` on loopback; (url, process) once ready (the
    "listening" log line, then /health/ready)."""
    import json
    import os
    import subprocess
    import threading

    requests = pytest.importorskip("requests")
    env = dict(os.environ, TABSHIP_ADMIN_TOKEN="parity-admin-token-0123")
    process = subprocess.Popen(
        [str(cli), "serve", *map(str, models), "--host", "127.0.0.1", "--port", "0", "--json-logs"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    url = None
    for line in process.stderr:
        if not line.startswith("{"):
            continue  # a plain notice before the JSON log starts
        event = json.loads(line)
        if event["fields"].get("message") == "listening":
            url = "http://" + event["fields"]["address"]
            break
    if url is None:
        process.kill()
        pytest.fail("the server did not start")
    stderr = process.stderr
    drain = threading.Thread(target=lambda: [None for _ in stderr], daemon=True)
    drain.start()
    process.drain = drain  # type: ignore[attr-defined]
    session = requests.Session()
    for _ in range(600):
        try:
            if session.get(url + "/health/ready", timeout=2).status_code == 200:
                return url, process
        except requests.ConnectionError:
            # Listening was logged before the socket accepts: retry until it does.
            threading.Event().wait(0.05)
    process.kill()
    pytest.fail("the server never became ready")


def records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in rows.to_dict(orient="records"):
        out.append({k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()})
    return out


@pytest.mark.slow
def test_http_scores_imported_artifacts_as_python_and_counts_unknowns(cli: Path, tmp_path: Path) -> None:
    import signal

    requests = pytest.importorskip("requests")
    x, y = adult()
    pipe = column_pipeline(x, sk_tree.DecisionTreeClassifier(max_depth=6, random_state=0)).fit(x, y)
    seed = tabship.from_sklearn(pipe, x, target="income", name="seed")
    xm, xx, _ = fitted_xgb("binary:logistic", "nan")
    xgb_rows = pd.concat([xx, thresholds_rows(xx, xgb_thresholds(xm, xx), True)], ignore_index=True)
    xgbp = tabship.from_xgboost(xm, xx, name="xgb")
    paths = []
    for name, p in (("seed", seed), ("xgb", xgbp)):
        path = tmp_path / f"{name}.tabship"
        p.save(path)
        paths.append(path)
    url, process = start_server(cli, paths)
    try:
        for name, pipeline, rows in (("seed", seed, unseen(x)), ("xgb", xgbp, xgb_rows.tail(300))):
            proba = pipeline.predict_proba(rows)
            labels = [str(v) for v in pipeline.predict(rows)]
            for i, record in enumerate(records(rows)):
                r = requests.post(f"{url}/models/{name}/predict", json=record, timeout=10)
                assert r.status_code == 200, r.text
                body = r.json()
                assert str(body["prediction"]) == labels[i], (name, i)
                got = [body["probabilities"][str(c)] for c in pipeline.classes]
                assert bits(got).tolist() == bits(proba[i]).tolist(), (name, i, got, proba[i])
        metrics = requests.get(url + "/metrics", headers={"Authorization": "Bearer parity-admin-token-0123"}, timeout=10).text
        unknown = [line for line in metrics.splitlines() if line.startswith("tabship_unknown_values") and 'model="seed"' in line]
        assert any(not line.endswith(" 0") for line in unknown), unknown
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0, "graceful shutdown exits 0"
        process.drain.join(timeout=15)  # the log's end: the pipe can be closed
        process.stderr.close()


def test_forest_classifiers_predict_the_mean_probability_not_the_majority() -> None:
    """scikit-learn's forests predict argmax(predict_proba); on these rows that differs from the
    trees' majority vote, and the import follows scikit-learn (the artifact's `soft_vote`)."""
    x, _, y = generated(n=400, seed=3)
    model = sk_ensemble.RandomForestClassifier(n_estimators=9, max_depth=4, random_state=0).fit(x, y)
    votes = np.stack([model.classes_[t.predict(x.to_numpy()).astype(int)] for t in model.estimators_])
    majority = [np.bincount(col, minlength=3).argmax() for col in votes.T.astype(int)]
    assert np.any(np.asarray(majority) != model.predict(x)), "no row tells the two rules apart"
    pipeline = tabship.from_sklearn(model, x)
    check("sklearn RandomForestClassifier soft vote", pipeline, model, x)


def test_sklearn_input_forms_and_chains() -> None:
    """A numpy-fitted model (columns x0, x1, ...), a CSV path as reference, numeric steps on
    every column without a ColumnTransformer, a missing indicator, a passthrough remainder, and
    an unfitted estimator refused."""
    x, y, _ = generated(nan=True)
    a = x.to_numpy()
    tree = sk_tree.DecisionTreeRegressor(max_depth=4, random_state=0).fit(a, y)
    pipeline = tabship.from_sklearn(tree, a)
    assert pipeline.feature_names == ["x0", "x1", "x2", "x3"]
    assert_bits("sklearn numpy input", pipeline.predict(a), tree.predict(a))
    steps = [
        sk_compose.ColumnTransformer(
            [("a", sk_impute.SimpleImputer(add_indicator=True), ["a"])],
            remainder="passthrough",
            sparse_threshold=0,
        ),
        sk_tree.DecisionTreeRegressor(max_depth=5, random_state=0),
    ]
    pipe = sk_pipeline.make_pipeline(*steps).fit(x, y)
    check("sklearn indicator and remainder", tabship.from_sklearn(pipe, x), pipe, x)
    chain = sk_pipeline.make_pipeline(
        sk_impute.SimpleImputer(), sk_pre.StandardScaler(), sk_tree.DecisionTreeRegressor(max_depth=5, random_state=0)
    ).fit(x, y)
    check("sklearn numeric chain", tabship.from_sklearn(chain, x), chain, x)
    with pytest.raises(tabship.ModelImportError, match="not fitted"):
        tabship.from_sklearn(sk_tree.DecisionTreeRegressor(), x)


def test_sklearn_reference_as_a_csv_path(tmp_path: Path) -> None:
    x, y, _ = generated(nan=True)
    path = tmp_path / "reference.csv"
    x.to_csv(path, index=False)
    tree = sk_tree.DecisionTreeRegressor(max_depth=4, random_state=0).fit(x, y)
    check("sklearn csv reference", tabship.from_sklearn(tree, path), tree, x)


def test_zz_parity_matrix_printed(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints the parity matrix gathered above (run the file with `pytest -s` to see it)."""
    with capsys.disabled():
        for case, rows, worst in RESULTS:
            print(f"PARITY {case}: {rows} rows, max diff {worst}")
        for case, rows, distance, same, worst in LINEAR_RESULTS:
            print(f"LINEAR {case}: {rows} rows, max {distance} ulps (max diff {worst:.3g}), {same:.1%} bit-identical")
