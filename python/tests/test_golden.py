"""The golden artifacts of the Rust suite load in Python and predict exactly (bit for bit) what
`testdata/golden/*.expected.csv` records, through every input path."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import tabship
from conftest import GOLDEN, TESTDATA, read_csv, read_text_csv

# (name, inputs, format version): the same table as crates/tabship/tests/it/golden.rs.
CASES = [
    ("iris_logistic", TESTDATA / "iris.csv", "1.0"),
    ("adult_logistic", GOLDEN / "adult_inputs.csv", "1.0"),
    ("diamonds_ridge", GOLDEN / "diamonds_inputs.csv", "1.0"),
    ("iris_tree", TESTDATA / "iris.csv", "1.1"),
    ("adult_forest", GOLDEN / "adult_inputs.csv", "1.1"),
    ("diamonds_forest", GOLDEN / "diamonds_inputs.csv", "1.1"),
    # Imported from XGBoost 3.2: f32 comparisons and sums, missing directions, categorical splits.
    ("adult_xgboost", GOLDEN / "adult_inputs.csv", "1.5"),
    # Imported from LightGBM 4.7: float64 comparisons, missing types, categorical splits.
    ("adult_lightgbm", GOLDEN / "adult_inputs.csv", "1.5"),
]
IDS = [c[0] for c in CASES]


def expected(name: str) -> pd.DataFrame:
    return read_text_csv(GOLDEN / f"{name}.expected.csv")


def check(pipeline: tabship.Pipeline, name: str, labels: object, proba: object) -> None:
    want = expected(name)
    if pipeline.task == "classification":
        assert list(np.asarray(labels)) == list(want["prediction"])
        proba = np.asarray(proba)
        for k, cls in enumerate(pipeline.classes):
            column = [float(x) for x in want[f"probability_{cls}"]]
            assert proba[:, k].tolist() == column, f"{name} probability_{cls}"
    else:
        assert np.asarray(labels).tolist() == [float(x) for x in want["prediction"]]


@pytest.mark.parametrize(("name", "inputs", "version"), CASES, ids=IDS)
def test_golden_loads_and_keeps_its_bytes(name: str, inputs: object, version: str) -> None:
    raw = (GOLDEN / f"{name}.tabship").read_bytes()
    pipeline = tabship.Pipeline.load(GOLDEN / f"{name}.tabship")
    assert pipeline.format_version == version
    assert pipeline.to_bytes() == raw
    assert tabship.Pipeline.from_bytes(raw).to_bytes() == raw
    assert pipeline.metadata["version"] == "golden"


@pytest.mark.parametrize(("name", "inputs", "version"), CASES, ids=IDS)
def test_golden_predictions_are_exact_from_text(name: str, inputs: object, version: str) -> None:
    pipeline = tabship.Pipeline.load(GOLDEN / f"{name}.tabship")
    df = read_text_csv(inputs)  # type: ignore[arg-type]
    proba = pipeline.predict_proba(df) if pipeline.task == "classification" else None
    check(pipeline, name, pipeline.predict(df), proba)


@pytest.mark.parametrize(("name", "inputs", "version"), CASES, ids=IDS)
def test_golden_predictions_are_exact_from_typed_frames(
    name: str, inputs: object, version: str
) -> None:
    pipeline = tabship.Pipeline.load(GOLDEN / f"{name}.tabship")
    df = read_csv(inputs)  # type: ignore[arg-type]
    classification = pipeline.task == "classification"
    check(pipeline, name, pipeline.predict(df), pipeline.predict_proba(df) if classification else None)
    # pandas categoricals, a pyarrow Table and a list of records give the same numbers.
    categorical = df.copy()
    for column, kind in pipeline.schema.items():
        if kind == "categorical":
            categorical[column] = categorical[column].astype("category")
    table = pa.Table.from_pandas(df, preserve_index=False)
    records = df.astype(object).where(df.notna(), None).to_dict("records")
    for variant in (categorical, table, records):
        check(
            pipeline,
            name,
            pipeline.predict(variant),
            pipeline.predict_proba(variant) if classification else None,
        )


@pytest.mark.parametrize(("name", "inputs", "version"), CASES, ids=IDS)
def test_golden_single_records_are_exact(name: str, inputs: object, version: str) -> None:
    pipeline = tabship.Pipeline.load(GOLDEN / f"{name}.tabship")
    df = read_csv(inputs)  # type: ignore[arg-type]
    want = expected(name)
    for i, record in enumerate(df.to_dict("records")):
        record = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()}
        got = pipeline.predict(record)
        if pipeline.task == "classification":
            assert got == want["prediction"][i]
            proba = pipeline.predict_proba(record)
            assert list(proba) == pipeline.classes
            for cls, p in proba.items():
                assert p == float(want[f"probability_{cls}"][i])
        else:
            assert got == float(want["prediction"][i])
