"""Frames unpickled from out-of-band buffers (pickle protocol 5, as Dask and Ray ship
partitions and blocks) may hold float64 columns at addresses that are not multiples of 8; the
Rust side reads `&[f64]`, so such columns are copied to aligned memory, not refused."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd

import tabship
from conftest import GOLDEN, TESTDATA, read_csv
from tabship import drift


def misaligned(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` pickled with out-of-band buffers and loaded from copies one byte off."""
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(frame, protocol=5, buffer_callback=buffers.append)
    moved = []
    for buffer in buffers:
        raw = buffer.raw()
        room = bytearray(len(raw) + 1)
        room[1:] = raw
        moved.append(memoryview(room)[1:])
    return pickle.loads(data, buffers=moved)


def test_misaligned_columns_predict_and_drift_as_aligned() -> None:
    pipeline = tabship.Pipeline.load(GOLDEN / "diamonds_forest_profile.tabship")
    diamonds = read_csv(TESTDATA / "diamonds_sample.csv")
    odd = misaligned(diamonds)
    assert not odd["carat"].to_numpy().flags.aligned  # the case under test
    np.testing.assert_array_equal(pipeline.predict(odd), pipeline.predict(diamonds))
    assert pipeline.drift(odd) == pipeline.drift(diamonds)
    assert drift.compare(odd["carat"], odd["depth"]) == drift.compare(
        diamonds["carat"], diamonds["depth"]
    )
