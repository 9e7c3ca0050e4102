"""What the Dask and Ray helpers share: the pipeline from a path or object, the columns a batch
must have, the output columns of a prediction, and a drift monitor's rows as bytes (so a
partition's counts travel without the pipeline that pickling a monitor would carry along)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ._errors import OptionError, SchemaError
from ._tabship import DriftMonitor, Pipeline

LABEL = "prediction"


def as_pipeline(pipeline: Pipeline | str | os.PathLike[str]) -> Pipeline:
    """A loaded pipeline, or the one at a ``.tabship`` path."""
    if isinstance(pipeline, Pipeline):
        return pipeline
    if isinstance(pipeline, (str, os.PathLike)):
        return Pipeline.load(pipeline)
    raise TypeError(
        f"expected a tabship.Pipeline or the path of a .tabship file, got {type(pipeline).__name__}"
    )


def check_columns(schema: Mapping[str, str], columns: Iterable[str]) -> None:
    """Raises ``SchemaError`` naming every column of ``schema`` (a pipeline's) the data lacks
    (before any work is scheduled: a cluster would otherwise report it from the first task to
    fail)."""
    present = set(columns)
    missing = [(n, k) for n, k in schema.items() if n not in present]
    if not missing:
        return

    def what(kind: str) -> str:
        return "a number" if kind == "numeric" else "a category (text)"

    listed = ", ".join(f"`{n}` ({what(k)})" for n, k in missing)
    plural = "s" if len(missing) > 1 else ""
    raise SchemaError(
        f"missing column{plural} {listed}: the pipeline needs {'them' if plural else 'it'} "
        f"(the data has {len(present)} column{'s' if len(present) != 1 else ''}; schema: "
        f"{', '.join(schema)})",
        column=missing[0][0],
        expected=what(missing[0][1]),
        received="no such column",
    )


def output_columns(pipeline: Pipeline, proba: bool, label: bool | None) -> tuple[bool, list[str]]:
    """``(with_label, probability column names)`` of a prediction: the label alone by default;
    with ``proba=True`` one float column per class (named by the class, in
    ``pipeline.classes`` order), preceded by the label when ``label=True``."""
    with_label = (not proba) if label is None else label
    if not proba:
        if not with_label:
            raise OptionError("label=False without proba=True leaves nothing to predict")
        return True, []
    if pipeline.task != "classification":
        raise OptionError("proba=True: a regressor predicts values, not class probabilities")
    names = [str(c) for c in pipeline.classes]
    if with_label and LABEL in names:
        raise OptionError(
            f"a class is named `{LABEL}`, the label column's name: pass label=False"
        )
    return with_label, names


def predict_columns(
    pipeline: Pipeline, batch: Any, with_label: bool, proba_names: Sequence[str]
) -> dict[str, np.ndarray]:
    """The prediction columns of one batch, in output order."""
    labels: Any = None
    proba: Any = None
    if with_label and proba_names:
        labels, proba = pipeline.predict_with_proba(batch)  # one pass for both
    elif with_label:
        labels = pipeline.predict(batch)
    elif proba_names:
        proba = pipeline.predict_proba(batch)
    out: dict[str, np.ndarray] = {}
    if labels is not None:
        out[LABEL] = np.asarray(labels)
    if proba is not None:
        proba = np.asarray(proba)
        for j, name in enumerate(proba_names):
            out[name] = proba[:, j]
    return out


def monitor_state(pipeline: Pipeline, batch: Any) -> bytes:
    """The rows (and predictions) of one batch as a cumulative monitor's state."""
    monitor = pipeline.drift_monitor()
    monitor.predict(batch)
    return state_of(monitor)


def state_of(monitor: DriftMonitor) -> bytes:
    """A monitor's rows (MessagePack), without its pipeline."""
    _, (_, state) = monitor.__reduce__()
    return bytes(state)


def merge_states(pipeline: Pipeline, states: Iterable[bytes]) -> bytes:
    """Several monitors' rows, merged exactly (counts add; the exact sums add), in any order."""
    merged = pipeline.drift_monitor()
    for state in states:
        merged.merge(DriftMonitor._from_state(pipeline, state))
    return state_of(merged)


def check_drift_options(pipeline: Pipeline, options: dict[str, Any]) -> None:
    """Raises for a pipeline without a profile or invalid report options before any work is
    scheduled (an empty monitor's report reads them)."""
    pipeline.drift_monitor().report(**options)
