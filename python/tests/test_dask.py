"""Distributed batch scoring and drift on two Dask worker processes: a pipeline pickled into
`map_partitions`, and `tabship.dask.predict` / `tabship.dask.drift`, equal to in process."""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster

import tabship
import tabship.dask
from conftest import GOLDEN, TESTDATA, read_csv, readme_python_block
from drift_equality import assert_merged_report_equal, shifted

@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
    ) as cluster, Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    # Shuffled, so that an output aligned by position but not by index would show.
    return read_csv(TESTDATA / "adult_sample.csv").sample(frac=1.0, random_state=3)


def score(part: pd.DataFrame, pipeline: tabship.Pipeline) -> pd.DataFrame:
    proba = pipeline.predict_proba(part)
    return pd.DataFrame(
        {"prediction": pipeline.predict(part), "p_high": proba[:, 1]}, index=part.index
    )


@pytest.mark.slow  # starts a local cluster of two worker processes (about 4 s, once)
@pytest.mark.parametrize("artifact", ["adult_logistic", "adult_forest"])
def test_map_partitions_matches_in_process(client: Client, artifact: str) -> None:
    pipeline = tabship.Pipeline.load(GOLDEN / f"{artifact}.tabship")
    df = read_csv(TESTDATA / "adult_sample.csv")
    ddf = dd.from_pandas(df, npartitions=6)
    meta = pd.DataFrame({"prediction": pd.Series(dtype=object), "p_high": pd.Series(dtype=float)})
    result = ddf.map_partitions(score, pipeline, meta=meta).compute()
    assert len(result) == len(df)
    result = result.sort_index()
    np.testing.assert_array_equal(result["prediction"].to_numpy(dtype=object), pipeline.predict(df))
    np.testing.assert_array_equal(result["p_high"].to_numpy(), pipeline.predict_proba(df)[:, 1])
    # The work really ran in the worker processes.
    workers = client.run(lambda: __import__("os").getpid())
    assert len(workers) == 2


@pytest.mark.slow
def test_predict_classifier_equals_in_process(client: Client, adult: pd.DataFrame) -> None:
    pipeline = tabship.Pipeline.load(GOLDEN / "adult_forest.tabship")
    ddf = dd.from_pandas(adult, npartitions=6, sort=False)
    labels = tabship.dask.predict(ddf, pipeline)
    assert isinstance(labels, dd.Series) and labels.npartitions == 6
    got = labels.compute()
    assert got.name == "prediction"
    pd.testing.assert_index_equal(got.index, adult.index)
    np.testing.assert_array_equal(got.to_numpy(dtype=object), pipeline.predict(adult))

    both = tabship.dask.predict(ddf, pipeline, proba=True, label=True)
    assert list(both.columns) == ["prediction", "<=50K", ">50K"]
    frame = both.compute()
    assert frame.dtypes.to_dict() == both.dtypes.to_dict()  # the meta told the truth
    pd.testing.assert_index_equal(frame.index, adult.index)
    labels = frame["prediction"].to_numpy(dtype=object)
    np.testing.assert_array_equal(labels, pipeline.predict(adult))
    proba = frame[["<=50K", ">50K"]].to_numpy()
    np.testing.assert_array_equal(proba, pipeline.predict_proba(adult))
    proba = tabship.dask.predict(ddf, pipeline, proba=True).compute()
    assert list(proba.columns) == ["<=50K", ">50K"]
    np.testing.assert_array_equal(proba.to_numpy(), pipeline.predict_proba(adult))


@pytest.mark.slow
def test_predict_regressor_from_a_path(client: Client) -> None:
    path = GOLDEN / "diamonds_forest.tabship"
    diamonds = read_csv(TESTDATA / "diamonds_sample.csv")
    values = tabship.dask.predict(dd.from_pandas(diamonds, npartitions=4), path)
    assert values.dtype == np.float64
    got = values.compute()
    np.testing.assert_array_equal(got.to_numpy(), tabship.Pipeline.load(path).predict(diamonds))


@pytest.mark.slow
def test_drift_merges_partitions_into_the_single_process_report(
    client: Client, adult: pd.DataFrame, profiled: tabship.Pipeline
) -> None:
    # Half of the rows shifted, so that the report has drifted columns and a verdict to get right.
    live = shifted(adult)
    ddf = dd.from_pandas(live, npartitions=12, sort=False)
    want = profiled.drift(live, share=0.05)
    assert want.drifted and want.column("age").drifted

    # 12 monitors merged 3 at a time (a tree of three levels), and 8 at a time.
    for split_every in (3, 8):
        merged = tabship.dask.drift(ddf, profiled, split_every=split_every, share=0.05)
        assert_merged_report_equal(merged, want)


@pytest.mark.slow
def test_drift_of_a_regressor_equals_in_process(client: Client) -> None:
    pipeline = tabship.Pipeline.load(GOLDEN / "diamonds_forest_profile.tabship")
    diamonds = read_csv(TESTDATA / "diamonds_sample.csv")
    ddf = dd.from_pandas(diamonds, npartitions=5)
    assert_merged_report_equal(tabship.dask.drift(ddf, pipeline), pipeline.drift(diamonds))


def test_pipeline_is_one_graph_node(adult: pd.DataFrame, profiled: tabship.Pipeline) -> None:
    # Passed as a plain argument, the artifact is embedded in every partition's task; the
    # helper makes it one node that the tasks depend on (sent to each worker once).
    ddf = dd.from_pandas(adult, npartitions=6, sort=False)
    artifact = profiled.to_bytes()

    def holding_artifact(collection: Any) -> int:
        graph = dict(collection.__dask_graph__())
        return sum(artifact in pickle.dumps(task) for task in graph.values())

    meta = score(adult.iloc[:0], profiled)
    assert holding_artifact(ddf.map_partitions(score, profiled, meta=meta)) == 6
    assert holding_artifact(tabship.dask.predict(ddf, profiled, proba=True, label=True)) == 1


def test_missing_columns_are_named(adult: pd.DataFrame, profiled: tabship.Pipeline) -> None:
    ddf = dd.from_pandas(adult.drop(columns=["age", "workclass"]), npartitions=2)
    for call in (
        lambda: tabship.dask.predict(ddf, profiled),
        lambda: tabship.dask.drift(ddf, profiled),
    ):
        with pytest.raises(
            tabship.SchemaError,
            match=r"missing columns `age` \(a number\), `workclass` \(a category \(text\)\)",
        ) as info:
            call()
        assert info.value.column == "age"


def test_options_are_checked_before_anything_runs(
    adult: pd.DataFrame, profiled: tabship.Pipeline
) -> None:
    ddf = dd.from_pandas(adult, npartitions=2)
    with pytest.raises(tabship.OptionError, match="share"):
        tabship.dask.drift(ddf, profiled, share=2.0)
    with pytest.raises(tabship.OptionError, match="regressor"):
        tabship.dask.predict(ddf, GOLDEN / "diamonds_forest.tabship", proba=True)
    with pytest.raises(tabship.NoDriftProfileError):
        tabship.dask.drift(ddf, GOLDEN / "adult_logistic.tabship")
    with pytest.raises(TypeError, match="dask.dataframe.DataFrame"):
        tabship.dask.predict(adult, profiled)  # type: ignore[arg-type]


# dask 2026.8's Parquet writer calls `set_index(inplace=True)`, deprecated by pandas 3.1.
@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame:pandas.errors.Pandas4Warning")
def test_readme_dask_snippet_runs(
    adult: pd.DataFrame, profiled: tabship.Pipeline, tmp_path: Path
) -> None:
    snippet = readme_python_block("tabship.dask.predict(")
    names: dict[str, Any] = {
        "ddf": dd.from_pandas(adult, npartitions=4, sort=False),
        "pipeline": profiled,
        "out_dir": str(tmp_path / "scores"),
    }
    exec(compile(snippet, "README.md", "exec"), names)
    np.testing.assert_array_equal(
        names["labels"].compute().to_numpy(dtype=object), profiled.predict(adult)
    )
    written = pd.read_parquet(tmp_path / "scores").loc[adult.index]
    proba = written[["<=50K", ">50K"]].to_numpy()
    np.testing.assert_array_equal(proba, profiled.predict_proba(adult))
    assert_merged_report_equal(names["report"], profiled.drift(adult))


def test_import_tabship_imports_neither_dask_nor_ray() -> None:
    code = (
        "import sys, tabship\n"
        "loaded = {'dask', 'distributed', 'ray'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
