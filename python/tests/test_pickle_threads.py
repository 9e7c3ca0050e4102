"""Pickling reuses the artifact bytes; one pipeline is safe to use from several threads, and
releases the GIL while it computes."""

from __future__ import annotations

import copy
import pickle
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

import tabship
from conftest import GOLDEN, TESTDATA, read_csv


def test_pickle_round_trip_keeps_bytes_and_predictions() -> None:
    pipeline = tabship.Pipeline.load(GOLDEN / "adult_forest.tabship")
    df = read_csv(GOLDEN / "adult_inputs.csv")
    for protocol in range(3, pickle.HIGHEST_PROTOCOL + 1):
        data = pickle.dumps(pipeline, protocol=protocol)
        assert pipeline.to_bytes() in data  # the payload is the artifact itself (protocol 3+)
        clone = pickle.loads(data)
        assert isinstance(clone, tabship.Pipeline)
        assert clone.to_bytes() == pipeline.to_bytes()
        np.testing.assert_array_equal(clone.predict_proba(df), pipeline.predict_proba(df))
    deep = copy.deepcopy(pipeline)
    np.testing.assert_array_equal(deep.predict(df), pipeline.predict(df))


def test_trained_pipelines_pickle_too() -> None:
    pipeline = tabship.train(TESTDATA / "iris.csv", target="species", model="decision-tree")
    clone = pickle.loads(pickle.dumps(pipeline))
    assert clone.to_bytes() == pipeline.to_bytes()
    assert repr(clone) == repr(pipeline)


def test_four_threads_give_the_single_thread_results() -> None:
    pipeline = tabship.Pipeline.load(GOLDEN / "adult_forest.tabship")
    df = read_csv(TESTDATA / "adult_sample.csv").drop(columns=["income"])
    chunks = [df.iloc[i : i + 500] for i in range(0, len(df), 500)]
    records = df.iloc[:200].to_dict("records")
    want_batches = [pipeline.predict_proba(c) for c in chunks]
    want_records = [pipeline.predict(r) for r in records]

    def work(worker: int) -> tuple[list[np.ndarray], list[object]]:
        order = list(range(len(chunks)))[worker::4] + list(range(len(chunks)))[: worker * 2]
        batches = [(i, pipeline.predict_proba(chunks[i])) for i in order]
        labels = [pipeline.predict(r) for r in records]
        got = [np.empty(0)] * len(chunks)
        for i, b in batches:
            got[i] = b
        return [got[i] for i in order], labels

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, range(4)))
    for worker, (batches, labels) in enumerate(results):
        order = list(range(len(chunks)))[worker::4] + list(range(len(chunks)))[: worker * 2]
        for i, batch in zip(order, batches):
            np.testing.assert_array_equal(batch, want_batches[i])
        assert labels == want_records


def test_encoding_counters_add_up_across_threads() -> None:
    pipeline = tabship.Pipeline.load(GOLDEN / "adult_logistic.tabship")
    df = read_csv(GOLDEN / "adult_inputs.csv")
    single_thread = pipeline.encoding_stats()
    assert single_thread["rows"] == 0
    pipeline.predict(df)
    per_call = pipeline.encoding_stats()["columns"]["native_country"]["unknown"]
    pipeline.reset_encoding_stats()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: pipeline.predict(df), range(40)))
    stats = pipeline.encoding_stats()
    assert stats["rows"] == 40 * len(df)
    assert stats["columns"]["native_country"]["unknown"] == 40 * per_call > 0


def test_multithreaded_batches_equal_one_thread() -> None:
    pipeline = tabship.Pipeline.load(GOLDEN / "adult_forest.tabship")
    # At least 4096 rows per thread, or the core keeps the batch on one thread.
    df = pd.concat([read_csv(TESTDATA / "adult_sample.csv")] * 3, ignore_index=True)
    parallel = pipeline.with_threads(2)
    assert (pipeline.threads, parallel.threads) == (1, 2)
    np.testing.assert_array_equal(parallel.predict_proba(df), pipeline.predict_proba(df))
    assert pickle.loads(pickle.dumps(parallel)).threads == 1  # not part of the artifact
    with pytest.raises(ValueError, match="at least 1"):
        pipeline.with_threads(0)


def another_thread_ran_during(call: Callable[[], object]) -> bool:
    """Whether this thread ran Python code while `call` was running on another thread.

    The switch interval is set so long that the interpreter never takes the GIL away from the
    worker: this thread can only run again when the worker gives the GIL up by itself, which
    tabship does while it computes. Without that, `start()` returns only after `call` has
    finished. Deterministic either way; no timing is measured.
    """
    done = threading.Event()

    def worker() -> None:
        try:
            call()
        finally:
            done.set()

    old = sys.getswitchinterval()
    sys.setswitchinterval(30.0)
    try:
        thread = threading.Thread(target=worker)
        thread.start()
        ran_during = not done.is_set()
        thread.join()
    finally:
        sys.setswitchinterval(old)
    return ran_during


@pytest.mark.slow  # ~100k records predicted, a forest fitted on the whole adult sample
def test_the_gil_is_released_while_predicting_batches_and_training() -> None:
    pipeline = tabship.Pipeline.load(GOLDEN / "adult_forest.tabship")
    df = read_csv(TESTDATA / "adult_sample.csv").drop(columns=["income"])
    # Records (not a DataFrame): converting them never gives the GIL up, whereas pandas and
    # NumPy release it in their own copies, which would let this test pass for them.
    records = pd.concat([df] * 12, ignore_index=True).to_dict("records")  # ~100k rows
    # A few tries, in case the OS does not schedule this thread before a short call ends; a
    # binding that holds the GIL fails every try (checked by making `without_gil` keep it).
    assert any(another_thread_ran_during(lambda: pipeline.predict_proba(records)) for _ in range(5))
    # From a CSV path, the file is read and the forest fitted in Rust.
    assert another_thread_ran_during(
        lambda: tabship.train(TESTDATA / "adult_sample.csv", target="income",
                              model="random-forest", n_trees=20)
    )
