"""ONNX export (`Pipeline.to_onnx`, `tabship export --onnx`): every golden model, every
import fixture of XGBoost and LightGBM, scikit-learn imports and trained pipelines with the
encoder variants, a decision threshold and a target transform pass `onnx.checker` (full check)
and, run by ONNX Runtime on rows with missing values and never-seen categories, predict
tabship's labels on every row and its probabilities / values within the bounds of
docs/onnx.md. `pytest -s -k parity_table` after the others prints the measured differences.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import tabship
from conftest import GOLDEN, TESTDATA, read_csv, readme_python_block, run_cli
from tabship.onnx import inputs

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

# The bounds of docs/onnx.md: every addition is tabship's, in its order and precision; only the
# runtime's `exp`/`log` differ, by an ulp or two of the result.
F64 = 2.0**-50  # |Δp| for double probabilities (4 ulps of 1.0); relative |Δv| for values
F32 = 2.0**-22  # XGBoost's float32 links: 2 float32 ulps of 1.0

# (case, rows, largest |Δ| of probabilities or relative |Δ| of values), for the table.
RESULTS: list[tuple[str, int, float]] = []


def session(onnx_bytes: bytes) -> Any:
    model = onnx.load_from_string(onnx_bytes)
    onnx.checker.check_model(model, full_check=True)
    return ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])


def check(case: str, pipeline: tabship.Pipeline, rows: pd.DataFrame, bound: float = F64) -> float:
    """Runs the export of `pipeline` on `rows`: labels equal tabship's on every row, the
    largest difference within `bound`; returns (and records) that difference."""
    onnx_bytes = pipeline.to_onnx()
    assert onnx_bytes == pipeline.to_onnx(), f"{case}: the export is not deterministic"
    sess = session(onnx_bytes)
    names = [o.name for o in sess.get_outputs()]
    out = dict(zip(names, sess.run(None, inputs(pipeline, rows))))
    if pipeline.task == "classification":
        assert names == ["label", "probabilities"], case
        want = np.asarray(pipeline.predict(rows))
        got = out["label"]
        assert got.shape == (len(rows),), case
        mismatched = np.flatnonzero(want.astype(str) != got.astype(str))
        assert mismatched.size == 0, f"{case}: labels differ on rows {mismatched[:10]}"
        assert got.dtype.kind == want.dtype.kind or want.dtype.kind == "O", (case, got.dtype, want.dtype)
        proba = out["probabilities"]
        assert proba.dtype == np.float64 and proba.shape == (len(rows), len(pipeline.classes)), case
        worst = float(np.max(np.abs(proba - pipeline.predict_proba(rows))))
    else:
        assert names == ["value"], case
        want = np.asarray(pipeline.predict(rows), dtype=np.float64)
        got = out["value"]
        assert got.dtype == np.float64 and got.shape == (len(rows),), case
        worst = float(np.max(np.abs(got - want) / np.maximum(np.abs(want), np.finfo(float).tiny)))
    RESULTS.append((case, len(rows), worst))
    print(f"{case}: {len(rows)} rows, largest difference {worst:.3g}")
    assert worst <= bound, f"{case}: difference {worst} above {bound}"
    return worst


def golden_rows(data: str) -> pd.DataFrame:
    """The golden input rows (missing values, never-seen categories), or iris with missing
    measurements added."""
    if data == "iris":
        rows = read_csv(TESTDATA / "iris.csv")
        gaps = rows.head(3).copy()
        gaps.iloc[0, 0] = np.nan
        gaps.iloc[1, :4] = np.nan
        return pd.concat([rows, gaps], ignore_index=True)
    return read_csv(GOLDEN / f"{data}_inputs.csv")


GOLDEN_MODELS = [
    ("iris_logistic", "iris", F64),
    ("iris_tree", "iris", F64),
    ("adult_logistic", "adult", F64),
    ("adult_logistic_profile", "adult", F64),
    ("adult_forest", "adult", F64),
    ("diamonds_forest", "diamonds", F64),
    ("diamonds_forest_profile", "diamonds", F64),
    ("diamonds_ridge", "diamonds", F64),
    ("adult_xgboost", "adult", F32),
    ("adult_lightgbm", "adult", F64),
]


@pytest.mark.parametrize(("name", "data", "bound"), GOLDEN_MODELS, ids=[g[0] for g in GOLDEN_MODELS])
def test_golden_models_run_in_onnx_runtime_as_tabship_predicts(name: str, data: str, bound: float) -> None:
    pipeline = tabship.Pipeline.load(GOLDEN / f"{name}.tabship")
    check(name, pipeline, golden_rows(data), bound)


LIGHTGBM = TESTDATA / "import" / "lightgbm"
XGBOOST = TESTDATA / "import" / "xgboost"


def lightgbm_fixtures() -> list[str]:
    names = sorted(p.name.removesuffix(".model.txt") for p in LIGHTGBM.glob("*.model.txt"))
    return [n for n in names if n != "linear_tree"]  # refused by the importer


@pytest.mark.parametrize("name", lightgbm_fixtures())
def test_lightgbm_fixtures_missing_types_and_bitsets(name: str) -> None:
    lgb = pytest.importorskip("lightgbm")
    booster = lgb.Booster(model_str=(LIGHTGBM / f"{name}.model.txt").read_text())
    pipeline = tabship.from_lightgbm(booster, LIGHTGBM / f"{name}.reference.csv", target="target")
    check(f"lightgbm {name}", pipeline, read_csv(LIGHTGBM / f"{name}.inputs.csv"))


def xgboost_cases() -> list[Path]:
    return sorted(p for p in XGBOOST.glob("v*/*") if p.is_dir())


@pytest.mark.parametrize("case", xgboost_cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_xgboost_fixtures_in_float32(case: Path) -> None:
    xgb = pytest.importorskip("xgboost")
    model = case / "model.json"
    booster = xgb.Booster(model_file=str(model if model.exists() else case / "model.ubj"))
    pipeline = tabship.from_xgboost(booster, case / "rows.csv", target="target")
    check(f"xgboost {case.parent.name}/{case.name}", pipeline, read_csv(case / "rows.csv"), F32)


def sklearn_cases() -> list[tuple[str, str, Any]]:
    ensemble = pytest.importorskip("sklearn.ensemble")
    return [
        ("forest soft vote", "classification", ensemble.RandomForestClassifier(n_estimators=7, max_depth=6, random_state=0)),
        ("gradient boosting", "classification", ensemble.GradientBoostingClassifier(n_estimators=15, random_state=0)),
        ("hist gradient boosting", "regression", ensemble.HistGradientBoostingRegressor(max_iter=15, random_state=0)),
    ]


@pytest.mark.parametrize("index", range(3))
def test_sklearn_imports(index: int) -> None:
    from test_import_parity import adult, column_pipeline, diamonds, unseen

    case, task, model = sklearn_cases()[index]
    x, y = adult(600) if task == "classification" else diamonds(600)
    pipe = column_pipeline(x, model).fit(x, y)
    pipeline = tabship.from_sklearn(pipe, x)
    check(f"sklearn {case}", pipeline, pd.concat([x.head(100), unseen(x)], ignore_index=True))


def with_surprises(df: pd.DataFrame, target: str) -> pd.DataFrame:
    """`df`'s first rows without the target, then rows with a never-seen category, a missing
    value and the NA text `?` in every column."""
    rows = df.drop(columns=[target]).head(150).reset_index(drop=True)
    odd = rows.head(3).copy()
    for c in odd.columns:
        if pd.api.types.is_numeric_dtype(odd[c]):
            odd.loc[0, c] = np.nan
        else:
            odd.loc[0, c] = "never-seen"
            odd.loc[1, c] = np.nan
            odd.loc[2, c] = "?"
    return pd.concat([rows, odd], ignore_index=True)


TRAINED = [
    ("logistic, threshold 0.3, ordinal, most frequent, other slot", "adult", dict(model="logistic", threshold=0.3, encoding="ordinal", categorical_missing="most-frequent", missing_indicator=True, impute="mean", min_frequency=40, na_values=["?"])),
    ("logistic one-hot, indicator, scaled", "adult", dict(model="logistic", missing_indicator=True, scale=True, min_frequency=40, na_values=["?"])),
    ("logistic one-hot, most frequent, constant fill", "adult", dict(model="logistic", categorical_missing="most-frequent", impute="constant", fill_value=-1.0)),
    ("forest ordinal, threshold on the first class", "adult", dict(model="random-forest", n_trees=8, max_depth=6, encoding="ordinal", threshold=0.6, positive_class="<=50K")),
    ("extra trees", "diamonds", dict(model="extra-trees", n_trees=6, max_depth=6)),
    ("ridge log1p", "diamonds", dict(model="ridge", target_transform="log1p", scale=True, missing_indicator=True)),
    ("forest regression log1p", "diamonds", dict(model="random-forest", n_trees=5, max_depth=6, target_transform="log1p")),
    ("gradient boosting, missing numbers as NaN", "adult", dict(model="gradient-boosting", n_trees=20)),
    ("gradient boosting regression", "diamonds", dict(model="gradient-boosting", n_trees=20)),
]


@pytest.mark.parametrize(("case", "data", "options"), TRAINED, ids=[t[0] for t in TRAINED])
def test_trained_pipelines_thresholds_and_transforms(case: str, data: str, options: dict[str, Any]) -> None:
    target = "income" if data == "adult" else "price"
    df = read_csv(TESTDATA / f"{data}_sample.csv").head(1500)
    pipeline = tabship.train(df, target, **options)
    rows = with_surprises(df, target)
    check(f"trained {case}", pipeline, rows)
    if "threshold" in options:
        # The threshold decides some rows against the most probable class, so the graph's
        # threshold is what made the labels equal.
        most_probable = np.asarray(pipeline.classes, dtype=object)[np.argmax(pipeline.predict_proba(rows), axis=1)]
        assert (most_probable != np.asarray(pipeline.predict(rows), dtype=object)).any(), case


def test_cli_export_is_the_python_export_byte_for_byte(cli: Path, tmp_path: Path) -> None:
    for name in ("adult_logistic", "adult_lightgbm"):
        out = tmp_path / f"{name}.onnx"
        printed = run_cli(cli, "export", GOLDEN / f"{name}.tabship", "--onnx", out)
        pipeline = tabship.Pipeline.load(GOLDEN / f"{name}.tabship")
        assert out.read_bytes() == pipeline.to_onnx(), name
        assert f"{out.stat().st_size} bytes" in printed, printed
        written = tmp_path / f"{name}.python.onnx"
        assert pipeline.to_onnx(written) == written.read_bytes() == out.read_bytes()


def test_columns_named_as_outputs_are_refused(cli: Path, tmp_path: Path) -> None:
    df = read_csv(TESTDATA / "iris.csv").rename(columns={"sepal_width": "label"})
    pipeline = tabship.train(df, "species", model="decision-tree")
    with pytest.raises(tabship.ExportError, match=r"schema\.columns\[1\].*`label` has the name of a graph output"):
        pipeline.to_onnx()
    artifact = tmp_path / "renamed.tabship"
    pipeline.save(artifact)
    import subprocess

    proc = subprocess.run([str(cli), "export", str(artifact), "--onnx", str(tmp_path / "x.onnx")], capture_output=True, text=True, check=False)
    assert proc.returncode == 1 and "cannot export schema.columns[1] to ONNX" in proc.stderr, proc.stderr
    assert not (tmp_path / "x.onnx").exists()


def test_inputs_follow_the_contract() -> None:
    pipeline = tabship.Pipeline.load(GOLDEN / "adult_logistic.tabship")
    rows = pd.DataFrame({c: [None, 3.0] for c in pipeline.schema} | {"workclass": [None, "Private"], "education_num": [13, None]})
    feeds = inputs(pipeline, rows)
    assert list(feeds) == list(pipeline.schema)
    assert feeds["workclass"].tolist() == [[""], ["Private"]]
    assert feeds["age"].dtype == np.float64 and np.isnan(feeds["age"][0, 0]) and feeds["age"].shape == (2, 1)
    assert tabship.onnx.category_text(3.0) == "3" and tabship.onnx.category_text(0.5) == "0.5"
    # Numbers the core formats unlike Python's repr: the feed must carry the core's text.
    assert tabship.onnx.category_text(1e16) == "10000000000000000"
    assert tabship.onnx.category_text(1e-7) == "0.0000001"
    assert tabship.onnx.category_text(2**70) == tabship._tabship._number_as_category(2.0**70)
    assert tabship.onnx.category_text(np.int64(-12)) == "-12"
    with pytest.raises(KeyError, match="column `age`"):
        inputs(pipeline, {"workclass": ["Private"]})


def test_readme_onnx_snippet_runs(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    snippet = readme_python_block("to_onnx(")
    rows = read_csv(GOLDEN / "adult_inputs.csv")
    names: dict[str, Any] = {"pipeline": tabship.Pipeline.load(GOLDEN / "adult_forest.tabship"), "rows": rows}
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(snippet, "README.md", "exec"), names)
    finally:
        os.chdir(cwd)
    assert (names["labels"] == names["pipeline"].predict(rows)).all()


def test_parity_table() -> None:
    """Prints what the tests above measured (run after them: `pytest -s tests/test_onnx.py`)."""
    for case, n, worst in RESULTS:
        print(f"| {case} | {n} | {worst:.3g} |")
