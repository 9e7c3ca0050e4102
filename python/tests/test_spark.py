"""Batch scoring on Spark: `tabship.spark.predict_udf` on a real pyspark `local[2]` session
scores a million perturbed adult rows exactly as `predict` / `predict_proba` do in process (bit
for bit), scores a regressor and an integer-labelled classifier, finds columns by name in any
order, and refuses missing columns and unreadable values naming the column."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import tabship
from conftest import GOLDEN, TESTDATA, readme_python_block

pyspark = pytest.importorskip("pyspark")
from pyspark.errors import PythonException  # noqa: E402
from pyspark.sql import DataFrame, SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

import tabship.spark  # noqa: E402

# Starts a Spark driver (a JVM) and Python workers.
slow = pytest.mark.slow

ADULT_COLUMNS = list(tabship.Pipeline.load(GOLDEN / "adult_logistic.tabship").schema)


def read_arrow(path: os.PathLike[str]) -> pa.Table:
    """A CSV as Arrow (Spark reads pyarrow Tables without pandas), only empty fields missing."""
    convert = pacsv.ConvertOptions(null_values=[""], strings_can_be_null=True)
    return pacsv.read_csv(path, convert_options=convert)


def million_adult_rows(spark: SparkSession) -> DataFrame:
    """adult_sample's 8,141 rows × 123 copies (1,001,343 rows), each copy perturbed so the rows
    differ: ages and hours shifted (hours as fractional doubles), capital gains scaled, and some
    missing numbers, missing categories and categories never seen in training."""
    adult = spark.createDataFrame(read_arrow(TESTDATA / "adult_sample.csv"))
    k = F.col("k")
    copies = spark.range(123).withColumnRenamed("id", "k")
    return adult.crossJoin(F.broadcast(copies)).select(
        (F.col("age") + k % 7 - 3).alias("age"),
        F.when(k % 17 == 0, F.lit(None))
        .when(k % 29 == 1, F.concat(F.col("workclass"), F.lit("-unseen")))
        .otherwise(F.col("workclass"))
        .alias("workclass"),
        "education",
        F.when(k % 13 == 2, F.lit(None)).otherwise(F.col("education_num")).alias("education_num"),
        *ADULT_COLUMNS[4:9],
        (F.col("capital_gain") * (k % 3)).alias("capital_gain"),
        "capital_loss",
        (F.col("hours_per_week") + (k % 10) / 4.0).alias("hours_per_week"),
        "native_country",
    )


def assert_scores_equal(scores: pa.StructArray, pipeline: tabship.Pipeline, rows: Any) -> None:
    """The UDF's struct column equals in-process predict / predict_proba on the same rows."""
    expected = pipeline.predict(rows)
    got = scores.field("prediction").to_numpy(zero_copy_only=False)
    assert got.dtype.kind == expected.dtype.kind or expected.dtype == object
    np.testing.assert_array_equal(got, expected)
    if pipeline.task == "classification":
        proba = pipeline.predict_proba(rows)
        per_class = scores.field("probability")
        assert [f.name for f in per_class.type] == [str(c) for c in pipeline.classes]
        got_proba = np.column_stack([per_class.field(j).to_numpy() for j in range(proba.shape[1])])
        # Bit for bit: compare the float64 bit patterns, not values within a tolerance.
        np.testing.assert_array_equal(got_proba.view(np.uint64), proba.view(np.uint64))


@slow
def test_a_million_rows_equal_in_process(spark: SparkSession) -> None:
    pipeline = tabship.Pipeline.load(GOLDEN / "adult_logistic.tabship")
    score = tabship.spark.predict_udf(spark, pipeline)
    df = million_adult_rows(spark)
    # The inputs come back with their scores, so the in-process check reads the very rows.
    table = df.select("*", score().alias("score")).toArrow()
    assert table.num_rows == 8141 * 123
    assert table.schema.field("hours_per_week").type == pa.float64()
    assert table.column("workclass").null_count > 0
    assert_scores_equal(table.column("score").combine_chunks(), pipeline, table.drop(["score"]))


@slow
def test_columns_by_name_in_any_order_extras_ignored(spark: SparkSession) -> None:
    pipeline = tabship.Pipeline.load(GOLDEN / "adult_forest.tabship")
    df = spark.createDataFrame(read_arrow(TESTDATA / "adult_sample.csv"))
    reordered = df.select(*reversed(df.columns))  # `income` is an extra column
    score = tabship.spark.predict_udf(spark, pipeline)
    table = reordered.select(
        score().alias("by_default"),
        score(*reversed(ADULT_COLUMNS)).alias("by_names"),
        score(F.struct(*reordered.columns)).alias("by_struct"),
        *ADULT_COLUMNS,
    ).toArrow()
    rows = table.select(ADULT_COLUMNS)
    for name in ("by_default", "by_names", "by_struct"):
        assert_scores_equal(table.column(name).combine_chunks(), pipeline, rows)


@slow
def test_spark_number_types_score_as_their_values(spark: SparkSession) -> None:
    """int, short, float, decimal and double columns holding the same values score the same."""
    pipeline = tabship.Pipeline.load(GOLDEN / "adult_logistic.tabship")
    adult = read_arrow(TESTDATA / "adult_sample.csv")
    df = spark.createDataFrame(adult).select(
        F.col("age").cast("int").alias("age"),
        F.col("education_num").cast("short").alias("education_num"),
        F.col("capital_gain").cast("float").alias("capital_gain"),
        F.col("capital_loss").cast("decimal(12,2)").alias("capital_loss"),
        F.col("hours_per_week").cast("double").alias("hours_per_week"),
        *[c for c, kind in pipeline.schema.items() if kind == "categorical"],
    )
    score = tabship.spark.predict_udf(spark, pipeline)
    table = df.select(score().alias("s")).toArrow()  # one batch per partition, in order
    assert_scores_equal(table.column("s").combine_chunks(), pipeline, adult)


@slow
def test_regressor_and_integer_labels(spark: SparkSession) -> None:
    ridge = tabship.Pipeline.load(GOLDEN / "diamonds_ridge.tabship")
    diamonds = spark.createDataFrame(read_arrow(TESTDATA / "diamonds_sample.csv"))
    score = tabship.spark.predict_udf(spark, ridge)
    assert score.return_type.simpleString() == "struct<prediction:double>"
    table = diamonds.select(score().alias("s"), *ridge.schema).toArrow()
    assert_scores_equal(table.column("s").combine_chunks(), ridge, table.drop(["s"]))

    iris = read_arrow(TESTDATA / "iris.csv")
    species = iris.column("species").to_numpy(zero_copy_only=False)
    codes = np.unique(species, return_inverse=True)[1]  # 0, 1, 2
    features = iris.drop(["species"])
    classifier = tabship.train(features, codes, model="logistic")
    assert classifier.classes == [0, 1, 2]
    score = tabship.spark.predict_udf(spark, classifier)
    assert score.return_type.simpleString() == (
        "struct<prediction:bigint,probability:struct<0:double,1:double,2:double>>"
    )
    table = spark.createDataFrame(features).select(score().alias("s"), *features.column_names)
    scored = table.toArrow()
    assert_scores_equal(scored.column("s").combine_chunks(), classifier, scored.drop(["s"]))
    labels_only = tabship.spark.predict_udf(spark, classifier, proba=False)
    assert labels_only.return_type.simpleString() == "struct<prediction:bigint>"
    got = spark.createDataFrame(features).select(labels_only().alias("s")).toArrow()
    np.testing.assert_array_equal(
        got.column("s").combine_chunks().field("prediction").to_numpy(),
        classifier.predict(features),
    )


@slow
def test_missing_columns_refused_naming_them(spark: SparkSession) -> None:
    pipeline = tabship.Pipeline.load(GOLDEN / "adult_logistic.tabship")
    score = tabship.spark.predict_udf(spark, pipeline)
    # Named columns are checked at the call, before any job runs.
    with pytest.raises(tabship.SchemaError, match="missing column `age`") as raised:
        score(*ADULT_COLUMNS[1:])
    assert raised.value.column == "age"
    # A struct is checked by the worker; Spark raises its message on the driver.
    df = spark.createDataFrame(read_arrow(TESTDATA / "adult_sample.csv"))
    without_age = df.select(score(F.struct(*ADULT_COLUMNS[1:])).alias("s"))
    with pytest.raises(PythonException, match=r"SchemaError: missing column `age`"):
        without_age.collect()


@slow
def test_unreadable_values_refused_naming_the_column(spark: SparkSession) -> None:
    pipeline = tabship.Pipeline.load(GOLDEN / "adult_logistic.tabship")
    score = tabship.spark.predict_udf(spark, pipeline)
    df = spark.createDataFrame(read_arrow(TESTDATA / "adult_sample.csv")).limit(50)
    text_age = df.withColumn(
        "age", F.when(F.col("education") == "Bachelors", F.lit("forty")).otherwise("39")
    )
    # The row number counts within the worker's Arrow batch, and the message says so.
    forty = r"row \d+, column `age`: expected a number, got `forty` \(row \d+ of an Arrow batch"
    with pytest.raises(PythonException, match=forty):
        text_age.select(score().alias("s")).collect()
    dated = df.withColumn("capital_gain", F.current_date())
    with pytest.raises(PythonException, match=r"column `capital_gain`: expected a number"):
        dated.select(score().alias("s")).collect()


@slow
def test_readme_spark_snippet_runs(spark: SparkSession) -> None:
    snippet = readme_python_block("tabship.spark.predict_udf(")
    pipeline = tabship.Pipeline.load(GOLDEN / "adult_logistic.tabship")
    df = spark.createDataFrame(read_arrow(TESTDATA / "adult_sample.csv"))
    names: dict[str, Any] = {"spark": spark, "pipeline": pipeline, "df": df}
    exec(compile(snippet, "README.md", "exec"), names)
    high = names["likely_high"].toArrow()
    proba = pipeline.predict_proba(high)
    assert high.num_rows > 0
    assert (proba[:, 1] > 0.5).all()


def test_import_tabship_spark_imports_no_pyspark() -> None:
    """pyspark and pyarrow are imported when a UDF is made, not by `import tabship.spark`."""
    code = (
        "import sys, tabship, tabship.spark\n"
        "loaded = [m for m in ('pyspark', 'pyarrow', 'pandas') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=os.environ)
