"""Spark batch scoring: tabship's UDF vs MLflow's `spark_udf`, the same model on the same rows.

Run from the repository root with the pinned env (pyspark, mlflow, scikit-learn, pyarrow from
.venv; Java 17 on the PATH) and the extension built in release mode (scripts/test.sh builds a
debug one, several times slower):

    (cd python && VIRTUAL_ENV=$PWD/../.venv ../.venv/bin/maturin develop --release --locked)

    .venv/bin/python benches/spark/spark_udf.py [--copies 34] [--repeats 3] [--models logistic,forest]

Not run by CI. What it does:

1. Reads ../shared/data/adult.csv beside the checkout (or --data), drops the rows with a missing value (so that
   scikit-learn sees the same inputs in process and through MLflow's pandas conversion, which
   turns missing strings into None, not NaN) and fits a scikit-learn Pipeline:
   ColumnTransformer(StandardScaler on the numeric columns, OneHotEncoder(handle_unknown=
   'ignore', min_frequency=5) on the text columns) followed by LogisticRegression(max_iter=1000)
   ("logistic") or RandomForestClassifier(100 trees, max_depth=10) ("forest").
2. Imports it with `tabship.from_sklearn` (the linear model with `exact=False`) and checks the two agree in process (labels equal;
   the largest probability difference is printed: 0 for the forest, a few ulps for the linear
   model, as documented in the README's "Bring your own model").
3. Logs the scikit-learn pipeline with `mlflow.sklearn.log_model` to a local file store
   (twice: `predict` and `pyfunc_predict_fn="predict_proba"`).
4. Builds --copies × 30,162 rows in Spark (local[2], 127.0.0.1): each copy's ages shifted and
   hours moved by quarter hours, so rows differ; cached in memory before timing.
5. Times, on the cached rows: tabship's UDF with labels and probabilities, tabship's UDF with
   labels only, MLflow's UDF with labels (`predict`), MLflow's UDF with probabilities
   (`predict_proba`). Each is `df.select(udf(...)).write.format("noop")` (every row computed,
   nothing written): one warm-up, then --repeats runs, median. The labels of both UDFs are
   collected once and compared row by row.
6. In-process reference on the same rows (one process, one thread): tabship
   `predict_with_proba` on the Arrow table, scikit-learn `predict` + `predict_proba` on pandas.

Prints the machine, the versions and a markdown table (rows/s; ratio = tabship / MLflow).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

REPO = Path(__file__).resolve().parents[2]


def read_adult(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, keep_default_na=False, na_values=[""]).dropna().reset_index(drop=True)
    # A double column, as the perturbed rows have quarter hours (MLflow's schema enforcement
    # refuses doubles for a column the signature records as long).
    df["hours_per_week"] = df["hours_per_week"].astype(np.float64)
    return df


def sklearn_pipeline(X: pd.DataFrame, model: str):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    cat = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    num = [c for c in X.columns if c not in cat]
    pre = ColumnTransformer([
        ("num", StandardScaler(), num),
        ("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=5), cat),
    ])
    estimator = (
        LogisticRegression(max_iter=1000)
        if model == "logistic"
        else RandomForestClassifier(n_estimators=100, max_depth=10, random_state=42, n_jobs=1)
    )
    return Pipeline([("pre", pre), ("model", estimator)])


def spark_session():
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("tabship-bench-spark")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "3g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def many_rows(spark, adult: pd.DataFrame, copies: int):
    from pyspark.sql import functions as F

    base = spark.createDataFrame(pa.Table.from_pandas(adult, preserve_index=False))
    k = F.col("k")
    df = base.crossJoin(F.broadcast(spark.range(copies).withColumnRenamed("id", "k"))).select(
        *[
            (F.col("age") + k % 7 - 3).alias("age") if c == "age"
            else (F.col(c) + (k % 10) / 4.0).alias(c) if c == "hours_per_week"
            else F.col(c)
            for c in adult.columns
        ]
    )
    df = df.repartition(2).cache()
    df.count()
    return df


def timed(run, repeats: int) -> float:
    run()  # warm-up: Python workers started, models loaded
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        run()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def noop(column):
    return lambda: column.write.format("noop").mode("overwrite").save()


def bench_model(model_name: str, adult: pd.DataFrame, spark, store: Path, args) -> list[tuple]:
    import mlflow
    import mlflow.sklearn
    from mlflow.models import infer_signature
    from pyspark.sql import functions as F
    from threadpoolctl import threadpool_limits

    import tabship
    import tabship.spark

    X = adult.drop(columns="income")
    y = adult["income"]
    sk = sklearn_pipeline(X, model_name).fit(X, y)
    # Linear models are imported within a few ulps (exact=False: scikit-learn's BLAS sums in
    # its own order); trees exactly.
    pipeline = tabship.from_sklearn(
        sk, reference=X, target="income", exact=model_name != "logistic"
    )
    labels_equal = bool((pipeline.predict(X) == sk.predict(X)).all())
    max_dp = float(np.abs(pipeline.predict_proba(X) - sk.predict_proba(X)).max())
    print(f"[{model_name}] in process on {len(X)} rows: labels equal {labels_equal}, "
          f"largest |Δp| {max_dp:.3g}", flush=True)
    assert labels_equal

    # MLflow 3 saves with skops and asks to trust scikit-learn's tree storage explicitly.
    trusted = {"skops_trusted_types": ["sklearn.tree._tree.Tree"]} if model_name == "forest" else {}
    signature = infer_signature(X.head(100), sk.predict(X.head(100)))
    with mlflow.start_run():
        predict_info = mlflow.sklearn.log_model(
            sk, name="predict", signature=signature, **trusted
        )
        proba_sig = infer_signature(X.head(100), sk.predict_proba(X.head(100)))
        proba_info = mlflow.sklearn.log_model(
            sk, name="proba", signature=proba_sig, pyfunc_predict_fn="predict_proba", **trusted
        )
    ml_predict = mlflow.pyfunc.spark_udf(
        spark, predict_info.model_uri, result_type="string", env_manager="local"
    )
    ml_proba = mlflow.pyfunc.spark_udf(
        spark, proba_info.model_uri, result_type="array<double>", env_manager="local"
    )
    ts_full = tabship.spark.predict_udf(spark, pipeline)
    ts_label = tabship.spark.predict_udf(spark, pipeline, proba=False)

    df = many_rows(spark, adult, args.copies)
    n = df.count()
    cols = list(X.columns)
    # The same rows through both UDFs: labels equal row by row.
    both = df.select(
        ts_label(*cols)["prediction"].alias("tabship"), ml_predict(*cols).alias("mlflow")
    ).toArrow()
    mismatches = int(np.sum(
        both.column("tabship").to_numpy(zero_copy_only=False)
        != both.column("mlflow").to_numpy(zero_copy_only=False)
    ))
    print(f"[{model_name}] {n} rows in Spark: labels differing between the UDFs: {mismatches}",
          flush=True)
    assert mismatches == 0

    rows = []
    runs = [
        ("tabship UDF, label + probabilities", df.select(ts_full(*cols).alias("s")), "full"),
        ("MLflow spark_udf, predict_proba", df.select(ml_proba(*cols).alias("s")), "full"),
        ("tabship UDF, label only (proba=False)", df.select(ts_label(*cols).alias("s")), "label"),
        ("MLflow spark_udf, predict", df.select(ml_predict(*cols).alias("s")), "label"),
    ]
    for name, frame, kind in runs:
        seconds = timed(noop(frame), args.repeats)
        rows.append((model_name, name, kind, n, seconds))
        print(f"[{model_name}] {name}: {seconds:.2f} s, {n / seconds:,.0f} rows/s", flush=True)

    table = df.toArrow()
    local = table.to_pandas()
    single = pipeline.with_threads(1)

    def tabship_in_process() -> None:
        single.predict_with_proba(table)

    def sklearn_in_process() -> None:
        with threadpool_limits(1):
            sk.predict(local)
            sk.predict_proba(local)

    for name, run in [("tabship in process, 1 thread", tabship_in_process),
                      ("scikit-learn in process, 1 thread", sklearn_in_process)]:
        seconds = timed(run, args.repeats)
        rows.append((model_name, name, "full", n, seconds))
        print(f"[{model_name}] {name}: {seconds:.2f} s, {n / seconds:,.0f} rows/s", flush=True)
    df.unpersist()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "adult.csv")
    parser.add_argument("--copies", type=int, default=34)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default="logistic,forest")
    args = parser.parse_args()
    # MLflow and pyspark warn about their own future changes; not what is measured here.
    warnings.simplefilter("ignore", FutureWarning)
    warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer", category=UserWarning)

    import mlflow
    import pyspark
    import sklearn

    import tabship

    adult = read_adult(args.data)
    spark = spark_session()
    with tempfile.TemporaryDirectory(prefix="tabship-bench-spark-") as tmp:
        # A local file store (MLflow 3 asks for this opt-in; a database store would do too).
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        mlflow.set_tracking_uri(f"file://{tmp}/mlruns")
        results = []
        for model in args.models.split(","):
            results += bench_model(model, adult, spark, Path(tmp), args)
    spark.stop()

    print()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"versions: tabship {tabship.__version__}, pyspark {pyspark.__version__}, mlflow "
          f"{mlflow.__version__}, scikit-learn {sklearn.__version__}, pyarrow {pa.__version__}, "
          f"python {platform.python_version()}")
    print()
    print("| model | scorer | rows | median s | rows/s | tabship / MLflow |")
    print("|---|---|---:|---:|---:|---:|")
    for model, name, kind, n, seconds in results:
        mlflow_row = next(
            s for m, nm, k, _, s in results if m == model and k == kind and nm.startswith("MLflow")
        )
        ratio = f"{mlflow_row / seconds:.1f}×" if name.startswith("tabship UDF") else ""
        print(f"| {model} | {name} | {n:,} | {seconds:.2f} | {n / seconds:,.0f} | {ratio} |")


if __name__ == "__main__":
    main()
