"""`tabship.train`: data forms, the CLI's options, and option/data errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import tabship
from conftest import TESTDATA, read_csv

IRIS = TESTDATA / "iris.csv"


def test_data_forms_give_the_same_pipeline() -> None:
    df = read_csv(IRIS)
    from_path = tabship.train(IRIS, target="species")
    from_str = tabship.train(str(IRIS), target="species")
    from_frame = tabship.train(df, target="species")
    from_dict = tabship.train({c: df[c].tolist() for c in df.columns}, target="species")
    from_arrow = tabship.train(pa.Table.from_pandas(df), target="species")
    want = from_path.predict_proba(df)
    for other in (from_str, from_frame, from_dict, from_arrow):
        np.testing.assert_array_equal(other.predict_proba(df), want)
        assert other.metadata["data_fingerprint"] == from_path.metadata["data_fingerprint"]
        assert other.metrics == from_path.metrics


def test_options_reach_the_artifact() -> None:
    df = read_csv(TESTDATA / "adult_sample.csv")
    pipeline = tabship.train(
        df, target="income", model="random_forest", n_trees=5, max_depth=4,
        min_frequency=0.01, categorical=["education_num"], name="churn", version="7",
        seed=3, threads=1,
    )
    assert pipeline.schema["education_num"] == "categorical"
    meta = pipeline.metadata
    assert (meta["name"], meta["version"], meta["algorithm"]) == ("churn", "7", "random-forest")
    assert meta["hyperparameters"]["n_trees"] == 5
    assert meta["hyperparameters"]["seed"] == 3
    again = tabship.train(
        df, target="income", model="random-forest", n_trees=5, max_depth=4,
        min_frequency=0.01, categorical=["education_num"], name="churn", version="7",
        seed=3, threads=2,
    )
    # The seed makes forests reproducible whatever the thread count.
    np.testing.assert_array_equal(again.predict_proba(df), pipeline.predict_proba(df))


def test_a_logistic_fit_stopped_by_max_iter_warns() -> None:
    with pytest.warns(UserWarning, match=r"iteration limit \(max_iter 3\)") as record:
        pipeline = tabship.train(TESTDATA / "adult_sample.csv", target="income", max_iter=3)
    assert record[0].filename == __file__, "the warning points at the caller"
    assert pipeline.metadata["hyperparameters"]["max_iter"] == 3
    assert pipeline.metadata["hyperparameters"]["tol"] == 1e-4


def test_regression_with_cv_and_numeric_override() -> None:
    df = read_csv(TESTDATA / "diamonds_sample.csv").astype({"depth": str})
    with pytest.raises(tabship.SchemaError):
        # A text column is categorical unless overridden; as a target it is not a number.
        tabship.train(df, target="depth", task="regression")
    pipeline = tabship.train(df, target="price", numeric=["depth"], cv=3)
    assert pipeline.task == "regression"
    assert pipeline.schema["depth"] == "numeric"
    assert pipeline.cv_metrics is not None
    assert set(pipeline.cv_metrics["r2"]) == {"mean", "std"}
    assert pipeline.cv_metrics["r2"]["mean"] > 0.8


def test_option_errors() -> None:
    df = read_csv(IRIS)
    with pytest.raises(tabship.OptionError, match="unknown model `boosting`"):
        tabship.train(df, target="species", model="boosting")
    with pytest.raises(tabship.OptionError, match="test-fraction"):
        tabship.train(df, target="species", test_fraction=1.5)
    with pytest.raises(tabship.OptionError, match="no column `petal`"):
        tabship.train(df, target="species", categorical=["petal"])
    with pytest.raises(tabship.OptionError, match="does not do classification"):
        tabship.train(df, target="species", model="ridge", task="classification")
    with pytest.raises(tabship.OptionError, match="max-features"):
        tabship.train(df, target="species", model="random-forest", max_features="most")
    with pytest.raises(TypeError, match="option `n_trees`"):
        tabship.train(df, target="species", n_trees="many")  # type: ignore[arg-type]
    assert issubclass(tabship.OptionError, ValueError)


def test_data_errors(tmp_path: Path) -> None:
    df = read_csv(IRIS)
    with pytest.raises(tabship.SchemaError, match="`nope`"):
        tabship.train(df, target="nope")
    with pytest.raises(FileNotFoundError):
        tabship.train(tmp_path / "missing.csv", target="species")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3\n")
    with pytest.raises(tabship.SchemaError, match="bad.csv"):
        tabship.train(bad, target="b")
    with pytest.raises(TypeError, match="training data must be"):
        tabship.train(np.zeros((3, 3)), target="a")
    with pytest.raises(tabship.SchemaError, match=r"row 3, column `sepal_width`: expected a number"):
        odd = df.astype({"sepal_width": object})
        odd.loc[2, "sepal_width"] = "wide"
        tabship.train(odd, target="species", numeric=["sepal_width"])


def test_categorical_dtype_and_missing_values_train() -> None:
    df = read_csv(TESTDATA / "adult_sample.csv").head(3000)
    typed = df.astype({c: "category" for c in ("workclass", "race")})
    a = tabship.train(df, target="income")
    b = tabship.train(typed, target="income")
    assert a.metadata["data_fingerprint"] == b.metadata["data_fingerprint"]
    with_gaps = df.copy()
    with_gaps.loc[::7, "age"] = np.nan
    with_gaps.loc[::5, "workclass"] = None
    pipeline = tabship.train(with_gaps, target="income")
    assert np.isfinite(pipeline.predict_proba(with_gaps)).all()
    assert isinstance(pipeline, tabship.Pipeline)
    assert pd.api.types.is_object_dtype(pipeline.predict(df).dtype)


def test_integer_labels_come_back_as_integers(tmp_path: Path) -> None:
    df = read_csv(IRIS)
    df["label"] = (df.pop("species") == "setosa").astype(int)
    pipeline = tabship.train(df, target="label")
    assert pipeline.task == "classification"
    assert pipeline.classes == [0, 1]
    predicted = pipeline.predict(df)
    assert predicted.dtype == np.int64
    np.testing.assert_array_equal(predicted, df["label"].to_numpy())
    one = pipeline.predict(df.drop(columns=["label"]).iloc[0].to_dict())
    assert type(one) is int and one == 1
    assert set(pipeline.predict_proba(df.iloc[0].to_dict())) == {0, 1}
    report = pipeline.evaluate(df)
    assert report["accuracy"] == 1.0
    path = tmp_path / "binary.tabship"
    pipeline.save(path)
    assert tabship.Pipeline.load(path).classes == [0, 1]
