"""Input forms and bad input: every case is a clear exception or a defined result."""

from __future__ import annotations

import decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import tabship
from conftest import GOLDEN, TESTDATA, read_csv

ADULT = GOLDEN / "adult_logistic.tabship"
IRIS = GOLDEN / "iris_logistic.tabship"
DIAMONDS = GOLDEN / "diamonds_ridge.tabship"

FLOWER = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


@pytest.fixture
def adult() -> tabship.Pipeline:
    return tabship.Pipeline.load(ADULT)


@pytest.fixture
def iris() -> tabship.Pipeline:
    return tabship.Pipeline.load(IRIS)


@pytest.fixture
def person() -> dict[str, object]:
    df = read_csv(GOLDEN / "adult_inputs.csv")
    return dict(df.iloc[3].to_dict())


def test_record_gives_a_scalar_and_a_dict(iris: tabship.Pipeline) -> None:
    assert iris.predict(FLOWER) == "setosa"
    proba = iris.predict_proba(FLOWER)
    assert list(proba) == ["setosa", "versicolor", "virginica"]
    assert sum(proba.values()) == pytest.approx(1.0)


def test_missing_column_names_it(adult: tabship.Pipeline, person: dict[str, object]) -> None:
    del person["age"]
    with pytest.raises(tabship.SchemaError, match="missing column `age`") as info:
        adult.predict(person)
    assert info.value.column == "age"
    assert info.value.expected == "a number"
    assert isinstance(info.value, ValueError)
    df = read_csv(GOLDEN / "adult_inputs.csv").drop(columns=["occupation"])
    with pytest.raises(tabship.SchemaError, match="missing column `occupation`"):
        adult.predict(df)
    with pytest.raises(tabship.SchemaError, match="row 2: missing column `age`"):
        adult.predict([dict(person, age=30), person])


def test_text_in_a_numeric_column_names_column_value_and_row(
    adult: tabship.Pipeline, person: dict[str, object]
) -> None:
    with pytest.raises(tabship.SchemaError) as info:
        adult.predict(dict(person, age="forty"))
    assert str(info.value) == "column `age`: expected a number, got `forty`"
    assert (info.value.column, info.value.received, info.value.row) == ("age", "forty", None)
    df = read_csv(GOLDEN / "adult_inputs.csv").astype({"age": object})
    df.loc[4, "age"] = "forty"
    with pytest.raises(tabship.SchemaError) as info:
        adult.predict(df)
    assert str(info.value) == "row 5, column `age`: expected a number, got `forty`"
    assert info.value.row == 5


def test_numeric_text_and_numpy_scalars_are_numbers(
    adult: tabship.Pipeline, person: dict[str, object]
) -> None:
    want = adult.predict_proba(person)
    assert adult.predict_proba(dict(person, age=f" {person['age']} ")) == want
    assert adult.predict_proba(dict(person, age=np.float32(person["age"]))) == want  # type: ignore[arg-type]
    assert adult.predict_proba(dict(person, age=decimal.Decimal(str(person["age"])))) == want


def test_none_nan_and_pandas_missing_are_missing(
    adult: tabship.Pipeline, person: dict[str, object]
) -> None:
    adult.reset_encoding_stats()
    base = adult.predict_proba(dict(person, age=None, workclass=None))
    for missing in (float("nan"), pd.NA, np.nan, ""):
        assert adult.predict_proba(dict(person, age=missing, workclass=missing)) == base
    stats = adult.encoding_stats()
    assert stats["rows"] == 5
    assert stats["columns"]["workclass"]["missing"] == 5
    assert stats["columns"]["age"]["missing"] == 5
    df = pd.DataFrame([person, dict(person, age=None, workclass=None)])
    proba = adult.predict_proba(df)
    assert proba[1].tolist() == list(base.values())


def test_unseen_category_goes_to_the_unknown_slot_and_is_counted(
    adult: tabship.Pipeline, person: dict[str, object]
) -> None:
    adult.reset_encoding_stats()
    label = adult.predict(dict(person, occupation="Starship-captain"))
    assert label in adult.classes
    df = pd.DataFrame([dict(person, occupation="Starship-captain")] * 3)
    assert list(adult.predict(df)) == [label] * 3
    assert adult.encoding_stats()["columns"]["occupation"]["unknown"] == 4
    adult.reset_encoding_stats()
    assert adult.encoding_stats()["rows"] == 0


def test_infinity_is_refused(iris: tabship.Pipeline) -> None:
    with pytest.raises(tabship.SchemaError, match="expected a finite number"):
        iris.predict(dict(FLOWER, sepal_width=float("inf")))
    with pytest.raises(tabship.SchemaError, match=r"row 1, column `sepal_width`"):
        iris.predict(pd.DataFrame([dict(FLOWER, sepal_width=float("inf"))]))


def test_empty_inputs(iris: tabship.Pipeline) -> None:
    empty = pd.DataFrame({c: pd.Series([], dtype=float) for c in FLOWER})
    assert iris.predict(empty).shape == (0,)
    assert iris.predict_proba(empty).shape == (0, 3)
    assert iris.predict([]).shape == (0,)
    with pytest.raises(tabship.SchemaError, match="missing column `sepal_length`"):
        iris.predict(pd.DataFrame())


def test_numpy_arrays_in_schema_order(iris: tabship.Pipeline) -> None:
    df = read_csv(TESTDATA / "iris.csv")
    x = df[list(iris.schema)].to_numpy()
    assert x.dtype == np.float64
    np.testing.assert_array_equal(iris.predict(x), iris.predict(df))
    np.testing.assert_array_equal(iris.predict(x.astype(np.float32).astype(np.float64)), iris.predict(x))
    np.testing.assert_array_equal(iris.predict_proba(np.asfortranarray(x)), iris.predict_proba(df))
    np.testing.assert_array_equal(iris.predict(x.astype(object)), iris.predict(df))
    np.testing.assert_array_equal(iris.predict(x.astype(str)), iris.predict(df))


def test_object_numpy_arrays_hold_mixed_columns(adult: tabship.Pipeline) -> None:
    df = read_csv(GOLDEN / "adult_inputs.csv")
    x = df[list(adult.schema)].astype(object).to_numpy()
    np.testing.assert_array_equal(adult.predict_proba(x), adult.predict_proba(df))


def test_wrong_numpy_arrays_are_refused(iris: tabship.Pipeline) -> None:
    with pytest.raises(tabship.SchemaError, match="expected a 2-D array with 4 columns"):
        iris.predict(np.zeros((2, 3)))
    with pytest.raises(tabship.SchemaError, match="got 1 dimensions"):
        iris.predict(np.zeros(4))
    with pytest.raises(tabship.SchemaError, match="dtype `complex128`") as info:
        iris.predict(np.zeros((2, 4), dtype=complex))
    assert info.value.column == "sepal_length"
    with pytest.raises(tabship.SchemaError, match="dtype `datetime64"):
        iris.predict(np.zeros((2, 4), dtype="datetime64[s]"))


def test_unsupported_values_and_inputs(iris: tabship.Pipeline, adult: tabship.Pipeline, person: dict[str, object]) -> None:
    with pytest.raises(tabship.SchemaError, match=r"column `sepal_width`: expected a number .*got `\[1\] \(list\)`"):
        iris.predict(dict(FLOWER, sepal_width=[1]))
    with pytest.raises(tabship.SchemaError, match=r"column `workclass`: expected a category"):
        adult.predict(dict(person, workclass=object()))
    with pytest.raises(TypeError, match="got int"):
        iris.predict(3)  # type: ignore[arg-type]
    with pytest.raises(tabship.SchemaError, match="row 2: expected a record"):
        iris.predict([FLOWER, 5])


def test_categories_from_numbers_and_bools_match_text(adult: tabship.Pipeline, person: dict[str, object]) -> None:
    # Categories are compared as text: 3 and 3.0 are "3"; True is "True".
    base = adult.predict_proba(dict(person, workclass="3"))
    assert adult.predict_proba(dict(person, workclass=3)) == base
    assert adult.predict_proba(dict(person, workclass=3.0)) == base
    df = pd.DataFrame([dict(person, workclass=3.0)])
    assert adult.predict_proba(df)[0].tolist() == list(base.values())
    assert adult.predict_proba(dict(person, workclass=True)) == adult.predict_proba(dict(person, workclass="True"))


def test_dict_of_columns_and_arrow_and_records_agree(iris: tabship.Pipeline) -> None:
    df = read_csv(TESTDATA / "iris.csv")
    want = iris.predict_proba(df)
    np.testing.assert_array_equal(iris.predict_proba({c: df[c].tolist() for c in df.columns}), want)
    np.testing.assert_array_equal(iris.predict_proba(pa.Table.from_pandas(df)), want)
    np.testing.assert_array_equal(iris.predict_proba(df.to_dict("records")), want)
    arrow_backed = df.convert_dtypes(dtype_backend="pyarrow")
    np.testing.assert_array_equal(iris.predict_proba(arrow_backed), want)


def test_regression_gives_floats_and_refuses_probabilities() -> None:
    diamonds = tabship.Pipeline.load(DIAMONDS)
    df = read_csv(GOLDEN / "diamonds_inputs.csv")
    values = diamonds.predict(df)
    assert values.dtype == np.float64
    assert isinstance(diamonds.predict(df.iloc[0].to_dict()), float)
    with pytest.raises(tabship.TabshipError, match="predict_proba needs a classification pipeline"):
        diamonds.predict_proba(df)
    assert diamonds.classes == []
    report = diamonds.evaluate(df)
    assert set(report) == {"rows", "mae", "rmse", "r2", "skipped"}


def test_evaluate_counts_skipped_rows(adult: tabship.Pipeline) -> None:
    df = read_csv(GOLDEN / "adult_inputs.csv")
    df.loc[0, "income"] = None
    df.loc[1, "income"] = "unknown-label"
    report = adult.evaluate(df)
    assert report["skipped"] == {"missing_target": 1, "unknown_labels": 1}
    assert report["rows"] == len(df) - 2
    kept = df.iloc[2:]
    assert report["accuracy"] == pytest.approx((adult.predict(kept) == kept["income"]).mean())
    with pytest.raises(tabship.SchemaError, match="missing column `income`"):
        adult.evaluate(df.drop(columns=["income"]))


def test_artifact_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as missing:
        tabship.Pipeline.load(tmp_path / "nope.tabship")
    assert missing.value.filename == str(tmp_path / "nope.tabship")
    raw = bytearray(IRIS.read_bytes())
    with pytest.raises(tabship.ArtifactError, match="not a tabship artifact"):
        tabship.Pipeline.from_bytes(b"PK\x03\x04" + bytes(raw))
    raw[-1] ^= 0xFF
    with pytest.raises(tabship.ArtifactError, match="checksum mismatch"):
        tabship.Pipeline.from_bytes(bytes(raw))
    with pytest.raises(tabship.ArtifactError, match="truncated"):
        tabship.Pipeline.from_bytes(IRIS.read_bytes()[:40])
    assert issubclass(tabship.ArtifactError, tabship.TabshipError)
    with pytest.raises(TypeError):
        tabship.Pipeline.from_bytes("text")  # type: ignore[arg-type]


def test_repr_and_properties(adult: tabship.Pipeline) -> None:
    text = repr(adult)
    assert text.startswith('<tabship.Pipeline "adult" version "golden": logistic classification')
    assert '["<=50K", ">50K"]' in text
    assert adult.task == "classification"
    assert adult.format_version == "1.0"
    assert set(adult.metrics) >= {"accuracy", "log_loss"}
    assert adult.metadata["target"] == "income"
    assert len(adult.feature_names) > len(adult.schema)
    assert adult.cv_metrics is None
    assert tabship.__version__


def test_arrow_string_layouts_nulls_and_slices(adult: tabship.Pipeline) -> None:
    df = read_csv(GOLDEN / "adult_inputs.csv")
    df.loc[[2, 5], "occupation"] = None
    want = adult.predict_proba(df.astype({c: object for c, k in adult.schema.items() if k == "categorical"}))
    table = pa.Table.from_pandas(df, preserve_index=False)
    for string_type in (pa.string(), pa.large_string(), pa.string_view()):
        fields = [
            pa.field(f.name, string_type) if pa.types.is_string(f.type) or pa.types.is_large_string(f.type) else f
            for f in table.schema
        ]
        typed = table.cast(pa.schema(fields))
        np.testing.assert_array_equal(adult.predict_proba(typed), want, err_msg=str(string_type))
        # A slice starts at an offset into the same buffers.
        np.testing.assert_array_equal(adult.predict_proba(typed.slice(3, 20)), want[3:23])
    chunked = pa.concat_tables([table.slice(0, 10), table.slice(10)])
    np.testing.assert_array_equal(adult.predict_proba(chunked), want)
    # pandas' default `str` dtype (Arrow-backed) and object columns agree, nulls included.
    assert df["occupation"].dtype == "str"
    np.testing.assert_array_equal(adult.predict_proba(df), want)
    np.testing.assert_array_equal(adult.predict_proba(df.iloc[7:30]), want[7:30])


def test_a_dict_of_columns_is_not_a_record(iris: tabship.Pipeline) -> None:
    columns = {name: np.array([value, value + 1.0]) for name, value in FLOWER.items()}
    assert iris.predict(columns).shape == (2,)
    one = {name: [value] for name, value in FLOWER.items()}
    assert list(iris.predict(one)) == ["setosa"]
    assert iris.predict_proba(one).shape == (1, 3)
    # numpy scalars are values of a record.
    scalars = {name: np.float64(value) for name, value in FLOWER.items()}
    assert iris.predict(scalars) == "setosa"


def test_columns_match_by_name_extra_columns_are_ignored(adult: tabship.Pipeline) -> None:
    df = read_csv(GOLDEN / "adult_inputs.csv")
    want = adult.predict_proba(df)
    shuffled = df[list(reversed(df.columns))].assign(extra=1.0, note="x")
    np.testing.assert_array_equal(adult.predict_proba(shuffled), want)
    record = dict(df.iloc[0].to_dict(), extra=[1, 2], another=object())
    assert adult.predict_proba(record) == dict(zip(adult.classes, want[0].tolist()))


def test_a_pandas_series_is_one_record(adult: tabship.Pipeline) -> None:
    df = read_csv(GOLDEN / "adult_inputs.csv")
    row = df.iloc[5]
    assert adult.predict(row) == adult.predict(df)[5]
    assert list(adult.predict_proba(row).values()) == adult.predict_proba(df)[5].tolist()


def test_predict_with_proba_is_both_calls_in_one_pass() -> None:
    adult = tabship.Pipeline.load(GOLDEN / "adult_forest.tabship")
    rows = read_csv(GOLDEN / "adult_inputs.csv")
    labels, proba = adult.predict_with_proba(rows)
    np.testing.assert_array_equal(labels, adult.predict(rows))
    np.testing.assert_array_equal(proba, adult.predict_proba(rows))
    record = rows.iloc[0].to_dict()
    assert adult.predict_with_proba(record) == (adult.predict(record), adult.predict_proba(record))
    ridge = tabship.Pipeline.load(GOLDEN / "diamonds_ridge.tabship")
    with pytest.raises(tabship.TabshipError, match="classif"):
        ridge.predict_with_proba(read_csv(GOLDEN / "diamonds_inputs.csv"))
