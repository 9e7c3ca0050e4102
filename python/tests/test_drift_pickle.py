"""Pickling the stateful drift objects (`DriftMonitor`, the detectors and the trackers), as Dask,
Ray or Spark do to ship them to a worker or checkpoint them: a restored object continues exactly
where the original stopped, and a corrupt state is refused with a clear error."""

from __future__ import annotations

import pickle
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

import tabship
from conftest import TESTDATA, read_csv
from tabship.drift import ADWIN, DDM, PageHinkley, WindowedAccuracy, WindowedF1, WindowedMae

@pytest.fixture(scope="module")
def pipeline(profiled: tabship.Pipeline) -> tabship.Pipeline:
    return profiled


@pytest.fixture(scope="module")
def live() -> pd.DataFrame:
    return read_csv(TESTDATA / "adult_sample.csv").iloc[:900]


def round_trip(obj: Any) -> Any:
    return pickle.loads(pickle.dumps(obj))


@pytest.mark.parametrize(
    "make",
    [
        lambda p: p.drift_monitor(),
        lambda p: p.drift_monitor(200, blocks=8),
        lambda p: p.drift_monitor(250, kind="tumbling"),
    ],
    ids=["cumulative", "sliding", "tumbling"],
)
def test_monitor_resumes_exactly_after_a_pickle(
    pipeline: tabship.Pipeline, live: pd.DataFrame, make: Callable[[tabship.Pipeline], Any]
) -> None:
    chunks = [live.iloc[i : i + 70] for i in range(0, len(live), 70)]
    whole = make(pipeline)
    for chunk in chunks:
        whole.predict(chunk)
    half = make(pipeline)
    for chunk in chunks[:6]:
        half.predict(chunk)
    restored = round_trip(half)
    assert type(restored) is type(half)
    assert (restored.kind, restored.window, restored.blocks) == (half.kind, half.window, half.blocks)
    assert restored.report() == half.report()
    for chunk in chunks[6:]:
        restored.predict(chunk)
    assert (restored.rows, restored.total_rows) == (whole.rows, whole.total_rows)
    assert restored.report() == whole.report()
    assert restored.last_complete_report() == whole.last_complete_report()
    # The copy is independent of the original.
    assert half.total_rows == 6 * 70


STREAM = np.r_[np.random.default_rng(7).random(3000) < 0.1, np.random.default_rng(8).random(2000) < 0.5].astype(
    float
)


@pytest.mark.parametrize(
    "make",
    [lambda: DDM(), lambda: PageHinkley(threshold=20.0), lambda: ADWIN(delta=0.01)],
    ids=["DDM", "PageHinkley", "ADWIN"],
)
@pytest.mark.parametrize("cut", [0, 1234, 3100, 5000])
def test_detector_resumes_exactly_after_a_pickle(make: Callable[[], Any], cut: int) -> None:
    whole = make()
    expected = whole.update_many(STREAM)
    assert expected, "the stream has a change to find"
    first = make()
    drifts = first.update_many(STREAM[:cut])
    restored = round_trip(first)
    assert repr(restored) == repr(first)
    assert (restored.state, restored.drifts) == (first.state, first.drifts)
    drifts += [cut + i for i in restored.update_many(STREAM[cut:])]
    assert drifts == expected
    assert restored.drifts == whole.drifts and repr(restored) == repr(whole)


def test_trackers_resume_exactly_after_a_pickle() -> None:
    rng = np.random.default_rng(3)
    predicted, actual = rng.integers(0, 3, 800), rng.integers(0, 3, 800)
    values, truth = rng.normal(size=800), rng.normal(size=800)
    cases: list[tuple[Any, Callable[[Any, slice], None]]] = [
        (lambda: WindowedAccuracy(100), lambda t, s: t.update_many(predicted[s], actual[s])),
        (lambda: WindowedF1(100), lambda t, s: t.update_many(predicted[s] == 1, actual[s] == 1)),
        (lambda: WindowedMae(100), lambda t, s: t.update_many(values[s], truth[s])),
    ]
    for make, feed in cases:
        whole, half = make(), make()
        feed(whole, slice(None))
        feed(half, slice(0, 345))
        restored = round_trip(half)
        assert (restored.window, len(restored), restored.value) == (half.window, len(half), half.value)
        feed(restored, slice(345, None))
        assert (len(restored), restored.value) == (len(whole), whole.value), type(whole).__name__


def corrupt(obj: Any, state: bytes) -> Any:
    loader, args = obj.__reduce__()
    return loader(*args[:-1], state)


@pytest.mark.parametrize(
    "make",
    [DDM, PageHinkley, ADWIN, lambda: WindowedAccuracy(5), lambda: WindowedF1(5), lambda: WindowedMae(5)],
    ids=["DDM", "PageHinkley", "ADWIN", "WindowedAccuracy", "WindowedF1", "WindowedMae"],
)
def test_a_corrupt_detector_or_tracker_state_is_refused(make: Callable[[], Any]) -> None:
    obj = make()
    name = type(obj).__name__
    for bad in [b"", b"\xc1garbage", pickle.dumps(obj)[:10]]:
        with pytest.raises(tabship.ArtifactError, match=f"invalid pickled state of a `{name}`"):
            corrupt(obj, bad)


def unpack(state: bytes) -> Any:
    """The inner state of a pickled object's envelope."""
    import msgpack  # type: ignore[import-untyped]  # noqa: PLC0415

    envelope = msgpack.unpackb(state)
    assert envelope["format"] == 1
    return envelope["state"]


def repack(obj: Any, state: Any, **envelope: Any) -> bytes:
    import msgpack  # noqa: PLC0415

    header = {"format": 1, "class": type(obj).__name__} | envelope
    return bytes(msgpack.packb(header | {"state": state}))


def test_a_state_of_another_format_or_class_is_refused() -> None:
    ddm = DDM()
    ddm.update_many(np.zeros(50))
    state = unpack(ddm.__reduce__()[1][0])
    assert corrupt(ddm, repack(ddm, state)).__reduce__() == ddm.__reduce__(), "repack is faithful"
    with pytest.raises(tabship.ArtifactError, match="state format 2 was written by another"):
        corrupt(ddm, repack(ddm, state, format=2))
    with pytest.raises(tabship.ArtifactError, match="this is the state of a `PageHinkley`"):
        corrupt(ddm, repack(ddm, state, **{"class": "PageHinkley"}))


def test_inconsistent_states_are_refused_with_the_field() -> None:
    accuracy = WindowedAccuracy(3)
    for c in [True, False, True]:
        accuracy.update(c)
    state = unpack(accuracy.__reduce__()[1][0])
    state["correct"] = 3
    with pytest.raises(tabship.TabshipError, match="accuracy.correct"):
        corrupt(accuracy, repack(accuracy, state))
    state["correct"], state["window"] = 2, 2
    with pytest.raises(tabship.TabshipError, match="at most `2` values, got `3`"):
        corrupt(accuracy, repack(accuracy, state))
    adwin = ADWIN()
    adwin.update_many(np.zeros(100))
    inner, last, delta = unpack(adwin.__reduce__()[1][0])
    inner["width"] = 10**6
    with pytest.raises(tabship.ArtifactError, match="adwin.width"):
        corrupt(adwin, repack(adwin, [inner, last, delta]))
    inner["width"], inner["delta"] = 100, float("nan")
    with pytest.raises(tabship.ArtifactError, match="delta"):
        corrupt(adwin, repack(adwin, [inner, last, delta]))


def test_a_corrupt_monitor_state_is_refused(pipeline: tabship.Pipeline, live: pd.DataFrame) -> None:
    monitor = pipeline.drift_monitor(100, blocks=4)
    monitor.observe(live.iloc[:150])
    for bad in [b"", b"\x93\x01\x02"]:
        with pytest.raises(tabship.ArtifactError, match="invalid pickled state of a `DriftMonitor`"):
            corrupt(monitor, bad)
    state = unpack(monitor.__reduce__()[1][1])
    state["blocks"][0]["columns"].pop()
    with pytest.raises(tabship.ArtifactError, match=r"invalid saved state field `monitor.blocks\[0\]`"):
        corrupt(monitor, repack(monitor, state))
    state = unpack(monitor.__reduce__()[1][1])
    state["blocks"] = state["blocks"] * 3
    with pytest.raises(tabship.ArtifactError, match="expected 1 to 4 blocks, got `12`"):
        corrupt(monitor, repack(monitor, state))
    state = unpack(monitor.__reduce__()[1][1])
    state["total_rows"] = 1
    with pytest.raises(tabship.ArtifactError, match="monitor.total_rows"):
        corrupt(monitor, repack(monitor, state))
    # The original is untouched and still pickles.
    assert round_trip(monitor).report() == monitor.report()
