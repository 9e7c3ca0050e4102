"""What Python shares with the CLI: evaluate's `f1_macro` and per-class labels, no-row
evaluations, the class limit of `train`, and safe saves."""

from __future__ import annotations

from pathlib import Path

import pytest

import tabship
from conftest import GOLDEN, TESTDATA, read_csv


def test_evaluate_names_f1_macro_and_every_class() -> None:
    iris = tabship.Pipeline.load(GOLDEN / "iris_logistic.tabship")
    report = iris.evaluate(read_csv(TESTDATA / "iris.csv"))
    assert "f1_macro" in report and "macro_f1" not in report
    assert {"precision_macro", "recall_macro"} <= set(report)
    assert [c["class"] for c in report["per_class"]] == ["setosa", "versicolor", "virginica"]


def test_evaluate_without_rows_is_an_error() -> None:
    iris = tabship.Pipeline.load(GOLDEN / "iris_logistic.tabship")
    df = read_csv(TESTDATA / "iris.csv")
    with pytest.raises(tabship.SchemaError, match="no rows to evaluate"):
        iris.evaluate(df.iloc[:0])
    df["species"] = "tulip"
    with pytest.raises(tabship.SchemaError, match="150 with a label the model does not know"):
        iris.evaluate(df)


def test_train_refuses_a_continuous_target_as_classes() -> None:
    df = read_csv(TESTDATA / "diamonds_sample.csv")
    with pytest.raises(tabship.SchemaError, match="use --task regression") as e:
        tabship.train(df, target="price", task="classification")
    assert e.value.column == "price"
    # The limit is an option.
    iris = read_csv(TESTDATA / "iris.csv")
    with pytest.raises(tabship.SchemaError, match="3 classes"):
        tabship.train(iris, target="species", max_classes=2)


def test_save_writes_through_a_symlink_and_refuses_a_directory(tmp_path: Path) -> None:
    iris = tabship.Pipeline.load(GOLDEN / "iris_logistic.tabship")
    (tmp_path / "v3.tabship").write_bytes(b"old")
    current = tmp_path / "current.tabship"
    current.symlink_to("v3.tabship")
    iris.save(current)
    assert current.is_symlink()
    assert (tmp_path / "v3.tabship").read_bytes() == iris.to_bytes()
    with pytest.raises(OSError, match="a directory, not a regular file"):
        iris.save(tmp_path)
    assert tmp_path.is_dir()
