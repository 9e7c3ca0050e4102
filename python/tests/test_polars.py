"""polars DataFrames and LazyFrames, and lists of rows, as input: the same numbers as pandas."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import polars as pl
import pytest

import tabship
from conftest import GOLDEN, PROFILED, TESTDATA, read_csv

ADULT = GOLDEN / "adult_logistic.tabship"


@pytest.fixture(scope="module")
def adult() -> tabship.Pipeline:
    return tabship.Pipeline.load(ADULT)


@pytest.fixture(scope="module")
def inputs() -> pd.DataFrame:
    return read_csv(GOLDEN / "adult_inputs.csv")


def test_polars_frame_predicts_as_pandas(adult: tabship.Pipeline, inputs: pd.DataFrame) -> None:
    frame = pl.from_pandas(inputs)
    np.testing.assert_array_equal(adult.predict(frame), adult.predict(inputs))
    np.testing.assert_array_equal(adult.predict_proba(frame), adult.predict_proba(inputs))


def test_polars_evaluate_equals_pandas(adult: tabship.Pipeline) -> None:
    labelled = read_csv(TESTDATA / "adult_sample.csv").iloc[:2000]
    want = adult.evaluate(labelled)
    assert adult.evaluate(pl.from_pandas(labelled)) == want
    assert adult.evaluate(pl.from_pandas(labelled).lazy()) == want


def test_polars_categorical_and_nulls(adult: tabship.Pipeline, inputs: pd.DataFrame) -> None:
    # Categorical (dictionary with uint32 indices) and null text/numbers read as pandas'
    # category dtype and NaN/None are read.
    frame = pl.from_pandas(inputs).with_columns(
        pl.col("workclass").cast(pl.Categorical),
        pl.when(pl.int_range(pl.len()) % 3 == 0).then(None).otherwise(pl.col("age")).alias("age"),
        pl.when(pl.int_range(pl.len()) % 4 == 0)
        .then(None)
        .otherwise(pl.col("occupation"))
        .alias("occupation"),
    )
    expected = inputs.assign(
        workclass=inputs["workclass"].astype("category"),
        age=inputs["age"].where(np.arange(len(inputs)) % 3 != 0),
        occupation=inputs["occupation"].where(np.arange(len(inputs)) % 4 != 0, None),
    )
    np.testing.assert_array_equal(adult.predict_proba(frame), adult.predict_proba(expected))


def test_lazy_frame_collects_only_the_schema_columns(
    adult: tabship.Pipeline, inputs: pd.DataFrame
) -> None:
    # An extra column whose evaluation fails: projecting it out proves it is never computed.
    lazy = pl.from_pandas(inputs).lazy().with_columns(
        boom=pl.col("age").cast(pl.String).str.to_datetime(strict=True)
    )
    np.testing.assert_array_equal(adult.predict(lazy), adult.predict(inputs))
    np.testing.assert_array_equal(adult.predict_proba(lazy), adult.predict_proba(inputs))


def test_polars_missing_column_is_named(adult: tabship.Pipeline, inputs: pd.DataFrame) -> None:
    frame = pl.from_pandas(inputs).drop("age")
    with pytest.raises(tabship.SchemaError, match="missing column `age`"):
        adult.predict(frame)
    with pytest.raises(tabship.SchemaError, match="missing column `age`"):
        adult.predict(frame.lazy())


def test_polars_drift_equals_pandas(profiled: tabship.Pipeline) -> None:
    live = read_csv(TESTDATA / "adult_sample.csv")
    from_pandas = profiled.drift(live).to_dict()
    for frame in (pl.from_pandas(live), pl.from_pandas(live).lazy()):
        assert profiled.drift(frame).to_dict() == from_pandas


def test_train_from_polars_equals_pandas() -> None:
    iris = read_csv(TESTDATA / "iris.csv")
    want = tabship.train(iris, "species", version="1", seed=7)
    for frame in (pl.from_pandas(iris), pl.from_pandas(iris).lazy()):
        got = tabship.train(frame, "species", version="1", seed=7)
        assert got.schema == want.schema
        assert got.metrics == want.metrics
        np.testing.assert_array_equal(got.predict_proba(iris), want.predict_proba(iris))


def test_list_of_rows_in_schema_order(adult: tabship.Pipeline, inputs: pd.DataFrame) -> None:
    ordered = inputs[list(adult.schema)]
    rows = ordered.astype(object).where(ordered.notna(), None).values.tolist()
    np.testing.assert_array_equal(adult.predict(rows), adult.predict(inputs))
    np.testing.assert_array_equal(adult.predict_proba(rows), adult.predict_proba(inputs))
    tuples = [tuple(r) for r in rows]
    np.testing.assert_array_equal(adult.predict(tuples), adult.predict(inputs))


def test_list_of_rows_wrong_width_or_mixed(adult: tabship.Pipeline, inputs: pd.DataFrame) -> None:
    rows = inputs[list(adult.schema)].astype(object).values.tolist()
    width = len(adult.schema)
    with pytest.raises(
        tabship.SchemaError, match=rf"row 2: expected {width} values in schema order \(age, "
    ) as info:
        adult.predict([rows[0], rows[1][:-1]])
    assert info.value.row == 2
    with pytest.raises(tabship.SchemaError, match="row 2: expected a list of"):
        adult.predict([rows[0], dict(zip(adult.schema, rows[1], strict=True))])
    with pytest.raises(tabship.SchemaError, match="rows as lists are read only when"):
        adult.predict([dict(zip(adult.schema, rows[1], strict=True)), rows[0]])


def test_polars_stays_optional() -> None:
    # Neither importing tabship nor predicting from pandas imports polars.
    code = (
        "import sys, tabship, pandas as pd\n"
        f"p = tabship.Pipeline.load({str(ADULT)!r})\n"
        f"p.predict(pd.read_csv({str(GOLDEN / 'adult_inputs.csv')!r}))\n"
        "assert 'polars' not in sys.modules, 'polars was imported'\n"
        "assert 'sklearn' not in sys.modules, 'sklearn was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_polars_without_pyarrow(tmp_path: object) -> None:
    # pyarrow is optional too: polars columns then go through numpy, with the same numbers.
    code = f"""
import sys
sys.modules["pyarrow"] = None  # import pyarrow raises ImportError
# scikit-learn too (its dataframe checks read a blocked `sys.modules["pyarrow"]` as a module).
sys.modules["sklearn"] = None
import csv
import numpy as np, polars as pl, tabship

pipeline = tabship.Pipeline.load({str(ADULT)!r})
schema = pipeline.schema
with open({str(GOLDEN / "adult_inputs.csv")!r}) as f:
    rows = list(csv.DictReader(f))
records = [
    {{k: None if v == "" else float(v) if schema[k] == "numeric" else v
      for k, v in r.items() if k in schema}}
    for r in rows
]
frame = pl.DataFrame(records).with_columns(pl.col("workclass").cast(pl.Categorical))
want = pipeline.predict_proba(records)
assert np.array_equal(pipeline.predict_proba(frame), want)
assert np.array_equal(pipeline.predict_proba(frame.lazy()), want)
iris = pl.read_csv({str(TESTDATA / "iris.csv")!r})
trained = tabship.train(iris, "species")
assert list(trained.schema) == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
model = tabship.Classifier().fit(iris.drop("species"), iris["species"])
assert model.score(iris.drop("species"), iris["species"]) > 0.9
"""
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True)


def test_polars_monitor_observes_as_pandas(profiled: tabship.Pipeline) -> None:
    live = read_csv(TESTDATA / "adult_sample.csv").iloc[:3000]
    want = profiled.drift_monitor(1000)
    want.observe(live.iloc[:1700], profiled.predict(live.iloc[:1700]))
    want.predict(live.iloc[1700:])
    frame = pl.from_pandas(live)
    got = profiled.drift_monitor(1000)
    got.observe(frame[:1700], profiled.predict(frame[:1700]))
    got.predict(frame[1700:].lazy())
    assert got.report() == want.report()
    assert got.total_rows == 3000


def test_polars_numbers_and_arrow_text_are_not_copied() -> None:
    # Float64 columns reach the core in polars' own buffer; text is copied once, by polars
    # (its string views → Arrow large_string in `to_arrow()`), and read from that buffer.
    from tabship import _convert

    frame = pl.DataFrame(
        {"x": np.random.default_rng(0).random(1000), "s": ["a", "bb"] * 500, "i": range(1000)}
    )
    kinds = [("x", "numeric"), ("s", "categorical"), ("i", "numeric")]
    entries = {e[0]: e for e in _convert.to_columns(frame, kinds)}
    assert entries["x"][1] == "f64"
    assert np.shares_memory(entries["x"][2], frame["x"].to_numpy(allow_copy=False))
    table = frame.to_arrow()
    (text,) = _convert.to_columns(table, [("s", "categorical")])
    assert text[1] == "utf8"
    data = table.column("s").chunk(0).buffers()[2]
    assert np.shares_memory(text[3], np.frombuffer(data, dtype=np.uint8))


def test_polars_input_never_goes_through_pandas() -> None:
    # pandas blocked: every entry point reads polars (through Arrow) with the numbers of the
    # same data as a pyarrow Table.
    code = f"""
import sys
sys.modules["pandas"] = None  # import pandas raises ImportError
sys.modules["sklearn"] = None
import numpy as np, polars as pl, tabship

pipeline = tabship.Pipeline.load({str(PROFILED)!r})
frame = pl.read_csv({str(TESTDATA / "adult_sample.csv")!r})
table = frame.to_arrow()
for data in (frame, frame.lazy()):
    assert np.array_equal(pipeline.predict(data), pipeline.predict(table))
    assert np.array_equal(pipeline.predict_proba(data), pipeline.predict_proba(table))
    assert pipeline.evaluate(data) == pipeline.evaluate(table)
    assert pipeline.drift(data) == pipeline.drift(table)
    monitor = pipeline.drift_monitor()
    monitor.observe(data, pipeline.predict(table))
    assert monitor.report() == pipeline.drift(table)
iris = pl.read_csv({str(TESTDATA / "iris.csv")!r})
want = tabship.train(iris.to_arrow(), "species", seed=7)
for data in (iris, iris.lazy()):
    assert tabship.train(data, "species", seed=7).metrics == want.metrics
"""
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True)
