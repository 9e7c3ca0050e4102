"""Batch scoring and drift over a Dask DataFrame.

::

    import tabship.dask
    labels = tabship.dask.predict(ddf, pipeline)                   # a Dask Series
    proba = tabship.dask.predict(ddf, pipeline, proba=True)        # a column per class
    report = tabship.dask.drift(ddf, pipeline)                     # a DriftReport

Predictions are aligned with ``ddf`` (same partitions, same index) and equal, bit for bit, to
``pipeline.predict(ddf.compute())``. The pipeline is one node of the task graph (its artifact
bytes, keyed by their hash): each worker receives and loads it once and every partition task on
that worker uses the loaded copy, instead of every task carrying the artifact. Drift observes
each partition in a monitor on the worker, merges the monitors' counts in a tree (only counts
travel) and reports on the client: the report of ``pipeline.drift(ddf.compute())``, bit for
bit (the monitors' sums are exact, so the merge order does not matter).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import Any

import dask.base
import dask.dataframe as dd
import dask.dataframe.dispatch
import numpy as np
import pandas as pd
from dask.delayed import delayed

from ._distributed import (
    LABEL,
    as_pipeline,
    check_columns,
    check_drift_options,
    merge_states,
    monitor_state,
    output_columns,
    predict_columns,
)
from ._tabship import DriftMonitor, Pipeline
from .drift import DriftReport

__all__ = ["drift", "predict"]

# Dask's own functions, untyped there.
_delayed: Callable[..., Any] = delayed
_compute: Callable[..., tuple[Any, ...]] = dask.base.compute
_make_meta: Callable[[Any], Any] = dask.dataframe.dispatch.make_meta


def _shipped(pipeline: Pipeline) -> Any:
    """The pipeline as one graph node (a ``Delayed``) keyed by its artifact's hash: the same
    pipeline used twice in a graph is one node, and tasks depend on it instead of embedding
    it."""
    digest = hashlib.sha256(pipeline.to_bytes()).hexdigest()[:32]
    return _delayed(pipeline, name=f"tabship-pipeline-{digest}", traverse=False)


def _label_dtype(pipeline: Pipeline) -> Any:
    """The labels' pandas dtype: float64 for a regressor; for a classifier the dtype pandas
    gives its classes (``str`` for text, ``int64`` for integers)."""
    if pipeline.task != "classification":
        return np.dtype(np.float64)
    return pd.Series(list(pipeline.classes)).dtype


def _predict_partition(
    part: pd.DataFrame,
    pipeline: Pipeline,
    with_label: bool,
    proba_names: list[str],
    label_dtype: Any,
) -> pd.Series | pd.DataFrame:
    columns = predict_columns(pipeline, part, with_label, proba_names)
    if not proba_names:
        return pd.Series(columns[LABEL], index=part.index, name=LABEL, dtype=label_dtype)
    frame = pd.DataFrame(columns, index=part.index)
    if with_label:
        frame[LABEL] = frame[LABEL].astype(label_dtype)
    return frame


def predict(
    ddf: dd.DataFrame,
    pipeline: Pipeline | str | os.PathLike[str],
    *,
    proba: bool = False,
    label: bool | None = None,
) -> dd.Series | dd.DataFrame:
    """Predictions for every row of a Dask DataFrame, lazily, aligned with its partitions and
    index.

    - default: a Series ``prediction`` of labels (classifier) or values (regressor);
    - ``proba=True``: a DataFrame with one float64 column per class, named by the class (text)
      in ``pipeline.classes`` order;
    - ``proba=True, label=True``: the ``prediction`` column, then the probabilities.

    Columns are found by name (others are not read: only the schema's columns are selected,
    so a Parquet source reads no more). ``pipeline`` is a ``tabship.Pipeline`` or the path of
    a ``.tabship`` file. A column the schema needs and ``ddf`` lacks raises
    ``tabship.SchemaError`` naming it, before anything runs; bad values raise it from the
    task, as ``pipeline.predict`` would."""
    if not isinstance(ddf, dd.DataFrame):
        raise TypeError(f"expected a dask.dataframe.DataFrame, got {type(ddf).__name__}")
    pipeline = as_pipeline(pipeline)
    with_label, proba_names = output_columns(pipeline, proba, label)
    check_columns(pipeline.schema, ddf.columns)
    features = ddf[list(pipeline.schema)]
    label_dtype = _label_dtype(pipeline)
    # The meta is the function's output on the empty meta frame, so its dtypes and index are
    # those of every partition's output.
    meta = _predict_partition(_make_meta(features), pipeline, with_label, proba_names, label_dtype)
    result: dd.Series | dd.DataFrame = features.map_partitions(
        _predict_partition,
        _shipped(pipeline),
        with_label,
        proba_names,
        label_dtype,
        meta=meta,
        align_dataframes=False,
    )
    return result


def drift(
    ddf: dd.DataFrame,
    pipeline: Pipeline | str | os.PathLike[str],
    *,
    split_every: int = 8,
    **options: Any,
) -> DriftReport:
    """The drift of a Dask DataFrame against the pipeline's reference profile: the report of
    ``pipeline.drift(ddf.compute(), **options)``, without collecting the rows.

    Each partition is predicted and observed by a monitor on its worker, and the monitors'
    counts are merged in a tree, ``split_every`` at a time (only counts travel); the client
    reads the report. Counts add exactly, and the monitors keep their sums (Σ x, Σ x², the
    mass beyond the reference range) exactly and round them once when reporting, so every
    statistic equals the single-process report's bit for bit, whatever the partitioning and
    the order of the merges.

    ``options`` are ``pipeline.drift``'s (``share=0.3``, ``policy={...}``, ...), checked
    before anything runs, as are the columns (``tabship.SchemaError`` naming a missing one)."""
    if not isinstance(ddf, dd.DataFrame):
        raise TypeError(f"expected a dask.dataframe.DataFrame, got {type(ddf).__name__}")
    if split_every < 2:
        raise ValueError(f"split_every: expected at least 2, got {split_every}")
    pipeline = as_pipeline(pipeline)
    check_columns(pipeline.schema, ddf.columns)
    check_drift_options(pipeline, options)
    shipped = _shipped(pipeline)
    parts = ddf[list(pipeline.schema)].to_delayed()
    observe = _delayed(monitor_state, pure=True)
    merge = _delayed(_merge, pure=True)
    states: list[Any] = [observe(shipped, part) for part in parts]
    while len(states) > 1:
        states = [
            merge(shipped, *states[i : i + split_every])
            for i in range(0, len(states), split_every)
        ]
    state = states[0] if states else None
    (result,) = _compute(state)
    if result is None:  # no partitions: no rows
        return pipeline.drift_monitor().report(**options)
    return DriftMonitor._from_state(pipeline, result).report(**options)


def _merge(pipeline: Pipeline, *states: bytes) -> bytes:
    return merge_states(pipeline, states)
