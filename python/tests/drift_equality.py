"""The check that a drift report merged from shards equals the single-process one: every
count-based field bit for bit, the fields made of float sums to rounding."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tabship.drift import DriftReport

# Fields of a column's drift computed from float sums (Σ x, Σ x², Σ beyond the range) that a
# merge adds in another order than one pass does; every other field is made of counts.
FROM_SUMS = {"mean_shift", "std_ratio", "wasserstein"}


def shifted(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every other row's age 7 years more: a live sample that drifts."""
    older = np.where(np.arange(len(frame)) % 2 == 0, frame["age"] + 7, frame["age"])
    return frame.assign(age=older)


def _fields(report: DriftReport) -> Iterator[tuple[str, Any, bool]]:
    """Every statistic of a report: (path, value, comes from float sums)."""
    for field in dataclasses.fields(report):
        if field.name not in ("columns", "prediction"):
            yield field.name, getattr(report, field.name), False
    columns = list(report.columns) + ([report.prediction] if report.prediction else [])
    for c in columns:
        for name, value in dataclasses.asdict(c).items():
            decided_by_sums = name == "value" and c.statistic in FROM_SUMS
            yield f"{c.name}.{name}", value, name in FROM_SUMS or decided_by_sums


def assert_merged_report_equal(merged: DriftReport, want: DriftReport) -> None:
    """Counts and everything derived from them equal; what comes from float sums (scale-free:
    shares and multiples of a std) within 1e-12."""
    for (path, got, from_sums), (_, expected, _) in zip(
        _fields(merged), _fields(want), strict=True
    ):
        if from_sums and got is not None:
            assert got == pytest.approx(expected, rel=1e-12, abs=1e-12), path
        else:
            assert got == expected, path
