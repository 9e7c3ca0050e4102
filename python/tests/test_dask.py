"""Distributed batch scoring: a pipeline shipped to two Dask worker processes (pickled as its
artifact bytes) scores adult through `map_partitions` exactly as in process."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster

import tabship
from conftest import GOLDEN, TESTDATA, read_csv

# Starts a local cluster of two worker processes.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client() -> object:
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
    ) as cluster, Client(cluster) as client:
        yield client


def score(part: pd.DataFrame, pipeline: tabship.Pipeline) -> pd.DataFrame:
    proba = pipeline.predict_proba(part)
    return pd.DataFrame(
        {"prediction": pipeline.predict(part), "p_high": proba[:, 1]}, index=part.index
    )


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
