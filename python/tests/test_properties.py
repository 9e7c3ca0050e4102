"""Property tests: whatever the values, a record predicts exactly what the same row predicts in
a batch (DataFrame, list of records), and errors are the same kind either way."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tabship
from conftest import GOLDEN

ADULT = tabship.Pipeline.load(GOLDEN / "adult_logistic.tabship")

numbers = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=False, width=64),
    st.integers(min_value=-(10**12), max_value=10**12),
)
categories = st.one_of(
    st.none(),
    st.sampled_from(["Private", "Self-emp-inc", "Bachelors", "Husband", "White", "Male", ""]),
    st.text(max_size=8),
    st.integers(min_value=-5, max_value=5),
)


@st.composite
def records(draw: st.DrawFn) -> dict[str, object]:
    return {
        name: draw(numbers if kind == "numeric" else categories)
        for name, kind in ADULT.schema.items()
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), min_size=1, max_size=5))
def test_records_predict_as_batches(rows: list[dict[str, object]]) -> None:
    singles = [ADULT.predict_proba(r) for r in rows]
    for r, proba in zip(rows, singles):
        assert all(math.isfinite(p) for p in proba.values())
    batch = ADULT.predict_proba(rows)
    frame = ADULT.predict_proba(pd.DataFrame(rows, dtype=object))
    want = np.array([list(p.values()) for p in singles])
    np.testing.assert_array_equal(batch, want)
    np.testing.assert_array_equal(frame, want)
    assert list(ADULT.predict(rows)) == [ADULT.predict(r) for r in rows]
