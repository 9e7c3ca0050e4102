"""The check that a drift report merged from shards equals the single-process one, bit for bit:
counts add exactly and the monitors' sums are exact, so no statistic depends on the merge order."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from tabship.drift import DriftReport


def shifted(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every other row's age 7 years more: a live sample that drifts."""
    older = np.where(np.arange(len(frame)) % 2 == 0, frame["age"] + 7, frame["age"])
    return frame.assign(age=older)


def _fields(report: DriftReport) -> Iterator[tuple[str, Any]]:
    """Every statistic of a report, by path."""
    for field in dataclasses.fields(report):
        if field.name not in ("columns", "prediction"):
            yield field.name, getattr(report, field.name)
    columns = list(report.columns) + ([report.prediction] if report.prediction else [])
    for c in columns:
        for name, value in dataclasses.asdict(c).items():
            yield f"{c.name}.{name}", value


def assert_merged_report_equal(merged: DriftReport, want: DriftReport) -> None:
    """Every statistic equal, bit for bit (a failure names the first field that differs)."""
    for (path, got), (_, expected) in zip(_fields(merged), _fields(want), strict=True):
        assert got == expected, path
    assert merged == want
