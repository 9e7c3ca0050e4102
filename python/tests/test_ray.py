"""`tabship.ray.predict` (Ray Data `map_batches` over an actor pool) and `tabship.ray.drift` on a
local two-CPU Ray instance: equal to in process, across several blocks."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import ray
import ray.data

import tabship
import tabship.ray
from conftest import GOLDEN, TESTDATA, read_csv, readme_python_block
from drift_equality import assert_merged_report_equal, shifted

# Starts a local Ray instance (about 10 s) and actor pools (about 5 s per execution).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    # Ray Data's default context sets its own deprecated fields when first built.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="ray.data.context")
        ray.data.DataContext.get_current()
    yield
    ray.shutdown()


def blocks(frame: pd.DataFrame, n: int) -> ray.data.Dataset:
    """``frame`` with a `row` id, as a Dataset of ``n`` blocks."""
    frame = frame.assign(row=np.arange(len(frame)))
    size = -(-len(frame) // n)
    dataset = ray.data.from_pandas([frame.iloc[i : i + size] for i in range(0, len(frame), size)])
    assert dataset.num_blocks() == n
    return dataset


def collect(dataset: ray.data.Dataset) -> pa.Table:
    """Every row, in `row` order (batches may finish in any order)."""
    table = pa.concat_tables(ray.get(dataset.to_arrow_refs()))
    return table.sort_by("row")


def test_predict_classifier_equals_in_process() -> None:
    pipeline = tabship.Pipeline.load(GOLDEN / "adult_forest.tabship")
    adult = read_csv(TESTDATA / "adult_sample.csv")
    scored = collect(
        tabship.ray.predict(blocks(adult, 6), pipeline, proba=True, label=True, batch_size=1000)
    )
    assert scored.column_names[-3:] == ["prediction", "<=50K", ">50K"]
    assert scored.num_rows == len(adult)
    np.testing.assert_array_equal(scored["row"].to_numpy(), np.arange(len(adult)))
    np.testing.assert_array_equal(
        np.asarray(scored["prediction"].to_pylist(), dtype=object), pipeline.predict(adult)
    )
    proba = np.column_stack([scored["<=50K"].to_numpy(), scored[">50K"].to_numpy()])
    np.testing.assert_array_equal(proba, pipeline.predict_proba(adult))


def test_predict_regressor_equals_in_process() -> None:
    pipeline = tabship.Pipeline.load(GOLDEN / "diamonds_forest.tabship")
    diamonds = read_csv(TESTDATA / "diamonds_sample.csv")
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # the only way to align predictions alone
    try:
        only = tabship.ray.predict(
            blocks(diamonds, 4), GOLDEN / "diamonds_forest.tabship", keep_columns=False
        )
        scored = pa.concat_tables(ray.get(only.to_arrow_refs()))
    finally:
        context.execution_options.preserve_order = False
    assert scored.schema == pa.schema([("prediction", pa.float64())])
    np.testing.assert_array_equal(scored["prediction"].to_numpy(), pipeline.predict(diamonds))


def test_drift_merges_blocks_into_the_single_process_report(profiled: tabship.Pipeline) -> None:
    adult = read_csv(TESTDATA / "adult_sample.csv")
    live = shifted(adult)
    want = profiled.drift(live, share=0.05)
    assert want.drifted and want.column("age").drifted
    merged = tabship.ray.drift(blocks(live, 6), profiled, batch_size=1000, share=0.05)
    assert_merged_report_equal(merged, want)


def test_bad_input_is_refused_before_anything_runs(profiled: tabship.Pipeline) -> None:
    adult = read_csv(TESTDATA / "adult_sample.csv").iloc[:100]
    lacking = ray.data.from_pandas(adult.drop(columns=["age", "workclass"]))
    missing = r"missing columns `age` \(a number\), `workclass`"
    with pytest.raises(tabship.SchemaError, match=missing) as info:
        tabship.ray.predict(lacking, profiled)
    assert info.value.column == "age"
    with pytest.raises(tabship.SchemaError, match="missing columns `age`"):
        tabship.ray.drift(lacking, profiled)
    clashing = ray.data.from_pandas(adult.assign(prediction=1))
    with pytest.raises(tabship.OptionError, match="already has a column `prediction`"):
        tabship.ray.predict(clashing, profiled)
    with pytest.raises(tabship.OptionError, match="share"):
        tabship.ray.drift(ray.data.from_pandas(adult), profiled, share=2.0)


def test_readme_ray_snippet_runs(profiled: tabship.Pipeline, tmp_path: Path) -> None:
    snippet = readme_python_block("tabship.ray.predict(")
    adult = read_csv(TESTDATA / "adult_sample.csv")
    names: dict[str, Any] = {
        "dataset": blocks(adult, 3),
        "pipeline": profiled,
        "out_dir": str(tmp_path / "scores"),
    }
    exec(compile(snippet, "README.md", "exec"), names)
    written = pq.read_table(tmp_path / "scores").sort_by("row")
    np.testing.assert_array_equal(
        np.asarray(written["prediction"].to_pylist(), dtype=object), profiled.predict(adult)
    )
    assert_merged_report_equal(names["report"], profiled.drift(adult))
