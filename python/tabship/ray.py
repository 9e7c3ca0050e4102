"""Batch scoring and drift over a Ray Dataset.

::

    import tabship.ray
    scored = tabship.ray.predict(dataset, pipeline)                 # + a `prediction` column
    scored = tabship.ray.predict(dataset, pipeline, proba=True, label=True)
    report = tabship.ray.drift(dataset, pipeline)                   # a DriftReport

``predict`` is ``Dataset.map_batches`` with a callable class over Arrow batches: the artifact
bytes are the actors' constructor argument, so each actor of the pool receives them once (Ray
moves arguments over 100 KB through its object store), loads the pipeline once and scores
every batch it is given with it. A plain function would have to load (parse and check) the
artifact again for every batch. Arrow batches reach the
pipeline without a copy of their numbers and strings, and the prediction columns are appended
to each batch, so an id column travels with its predictions.
"""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa
import ray
import ray.data

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
from ._errors import OptionError
from ._tabship import DriftMonitor, Pipeline
from .drift import DriftReport

__all__ = ["drift", "predict"]

STATE = "tabship_monitor_state"


class _Scorer:
    """One actor's pipeline, loaded once; scores Arrow batches."""

    def __init__(self, artifact: bytes, with_label: bool, proba_names: list[str], keep: bool):
        self.pipeline = Pipeline.from_bytes(artifact)
        self.with_label = with_label
        self.proba_names = proba_names
        self.keep = keep

    def __call__(self, batch: pa.Table) -> pa.Table:
        columns = predict_columns(self.pipeline, batch, self.with_label, self.proba_names)
        if not self.keep:
            return pa.table({name: pa.array(values) for name, values in columns.items()})
        for name, values in columns.items():
            batch = batch.append_column(name, pa.array(values))
        return batch


class _Observer:
    """One actor's pipeline, loaded once; turns each batch into a monitor's rows."""

    def __init__(self, artifact: bytes):
        self.pipeline = Pipeline.from_bytes(artifact)

    def __call__(self, batch: pa.Table) -> pa.Table:
        state = monitor_state(self.pipeline, batch)
        return pa.table({STATE: pa.array([state], type=pa.binary())})


def _columns(dataset: ray.data.Dataset) -> list[str]:
    names: list[str] | None = dataset.columns()
    if names is None:  # pragma: no cover - Ray could not tell the schema without executing
        raise OptionError("the dataset's columns are unknown: materialize it first")
    return names


def predict(
    dataset: ray.data.Dataset,
    pipeline: Pipeline | str | os.PathLike[str],
    *,
    proba: bool = False,
    label: bool | None = None,
    keep_columns: bool = True,
    batch_size: int | None = 4096,
    concurrency: int | tuple[int, int] | None = None,
) -> ray.data.Dataset:
    """A Dataset of the input rows with their predictions appended (lazily, as every Ray Data
    transformation):

    - default: a ``prediction`` column of labels (classifier) or values (regressor);
    - ``proba=True``: one float64 column per class, named by the class (text), in
      ``pipeline.classes`` order;
    - ``proba=True, label=True``: the ``prediction`` column, then the probabilities.

    ``keep_columns=False`` keeps only the prediction columns (row order is the batches' order,
    which Ray keeps only with ``DataContext.execution_options.preserve_order``). Columns are
    found by name; a column the schema needs and the dataset lacks raises
    ``tabship.SchemaError`` naming it before anything runs. ``batch_size`` rows per call;
    ``concurrency`` the actor pool's size (Ray's default when ``None``)."""
    if not isinstance(dataset, ray.data.Dataset):
        raise TypeError(f"expected a ray.data.Dataset, got {type(dataset).__name__}")
    pipeline = as_pipeline(pipeline)
    with_label, proba_names = output_columns(pipeline, proba, label)
    names = _columns(dataset)
    check_columns(pipeline.schema, names)
    if keep_columns:
        added = ([LABEL] if with_label else []) + proba_names
        clash = [n for n in added if n in names]
        if clash:
            raise OptionError(
                f"the dataset already has a column `{clash[0]}`, a prediction column's name: "
                "rename it or pass keep_columns=False"
            )
    return dataset.map_batches(
        _Scorer,
        fn_constructor_args=(pipeline.to_bytes(), with_label, proba_names, keep_columns),
        batch_format="pyarrow",
        batch_size=batch_size,
        concurrency=concurrency,
    )


def drift(
    dataset: ray.data.Dataset,
    pipeline: Pipeline | str | os.PathLike[str],
    *,
    batch_size: int | None = 16_384,
    concurrency: int | tuple[int, int] | None = None,
    **options: Any,
) -> DriftReport:
    """The drift of a Ray Dataset against the pipeline's reference profile: the report of
    ``pipeline.drift`` over all its rows, without collecting them.

    Actors (each loading the pipeline once) predict and observe each batch in a monitor and
    return only its counts, one row per batch; the driver merges them and reports. As for
    ``tabship.dask.drift``, counts and the monitors' sums are exact, so the report equals
    the single-process one bit for bit, in whatever order the batches ran. ``options`` are
    ``pipeline.drift``'s, checked before anything runs, as are the columns."""
    if not isinstance(dataset, ray.data.Dataset):
        raise TypeError(f"expected a ray.data.Dataset, got {type(dataset).__name__}")
    pipeline = as_pipeline(pipeline)
    check_columns(pipeline.schema, _columns(dataset))
    check_drift_options(pipeline, options)
    states = dataset.select_columns(list(pipeline.schema)).map_batches(
        _Observer,
        fn_constructor_args=(pipeline.to_bytes(),),
        batch_format="pyarrow",
        batch_size=batch_size,
        concurrency=concurrency,
    )
    merged = merge_states(pipeline, (row[STATE] for row in states.take_all()))
    return DriftMonitor._from_state(pipeline, merged).report(**options)
