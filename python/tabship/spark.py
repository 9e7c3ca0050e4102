"""Batch scoring on Spark: :func:`predict_udf` turns a pipeline into an Arrow UDF.

::

    from pyspark.sql import functions as F
    import tabship.spark

    score = tabship.spark.predict_udf(spark, pipeline)
    scored = df.withColumn("score", score())          # the schema's columns, found by name
    scored.select("id", "score.prediction", "score.probability.*")

How it runs, and why:

- **Arrow, no pandas.** The UDF is a scalar iterator ``arrow_udf`` (pyspark 4.1+): each batch
  arrives as an Arrow ``StructArray`` whose fields are the columns, goes to the pipeline as a
  ``RecordBatch`` (numbers and strings handed to Rust without a per-value conversion), and the
  result goes back as Arrow arrays. pyspark's pandas UDFs would add a pandas round trip per
  batch, and cannot return the nested ``probability`` struct.
- **The artifact once per executor, loaded once per worker.** The artifact bytes travel as one
  broadcast variable; each Python worker loads the pipeline on its first batch and keeps it in a
  small cache keyed by the artifact's SHA-256, so later tasks on a reused worker
  (``spark.python.worker.reuse``, Spark's default) neither read the broadcast nor parse again.
- **Columns by name.** Whatever is passed is packed into one struct, so the pipeline sees the
  column names: the schema's columns are found by name in any order, extra columns are ignored,
  and a missing one is an error naming it (at the call when the columns are given by name,
  otherwise from the worker).
- **Errors name the column.** A value the pipeline cannot read fails the task with tabship's
  :class:`~tabship.SchemaError` (``row 1, column `age`: expected a number, got `forty```),
  which Spark raises on the driver as a ``PythonException`` carrying that message.

pyspark and pyarrow are imported by this module only (``import tabship`` does not import them).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from ._distributed import check_columns
from ._errors import SchemaError
from ._tabship import Pipeline

__all__ = ["PredictUdf", "predict_udf"]

# Pipelines loaded in this (worker) process, by artifact SHA-256; a few, most recent last.
_LOADED: OrderedDict[str, Pipeline] = OrderedDict()
_LOADED_MAX = 4
_LOADED_LOCK = threading.Lock()


def _loaded(digest: str, source: Any, threads: int) -> Pipeline:
    """The pipeline with artifact hash ``digest``, loaded from ``source`` (a broadcast variable
    or the bytes themselves) the first time this process needs it."""
    key = f"{digest}/{threads}"
    with _LOADED_LOCK:
        pipeline = _LOADED.get(key)
        if pipeline is not None:
            _LOADED.move_to_end(key)
            return pipeline
    data = source if isinstance(source, bytes) else source.value
    pipeline = Pipeline.from_bytes(data)
    if threads != pipeline.threads:
        pipeline = pipeline.with_threads(threads)
    with _LOADED_LOCK:
        _LOADED[key] = pipeline
        while len(_LOADED) > _LOADED_MAX:
            _LOADED.popitem(last=False)
    return pipeline


class _Scorer:
    """The UDF body Spark pickles to the workers: a hash, the broadcast handle and the output
    layout, no pipeline (the worker loads it through :func:`_loaded`)."""

    def __init__(
        self, digest: str, source: Any, threads: int, names: list[str], label: str, proba: bool
    ) -> None:
        self.digest = digest
        self.source = source
        self.threads = threads
        self.names = names  # the schema's columns
        self.label = label  # a pyarrow type factory: "string", "int64", "bool_" or "float64"
        self.proba = proba

    def __call__(self, batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        pipeline = _loaded(self.digest, self.source, self.threads)
        label_type = getattr(pa, self.label)()
        for batch in batches:
            rows = self._rows(batch)
            try:
                if self.proba:  # one pass for both
                    labels, probability = pipeline.predict_with_proba(rows)
                else:
                    labels, probability = pipeline.predict(rows), None
            except SchemaError as exc:
                raise _in_batch(exc, len(rows)) from None
            prediction = pa.array(labels, type=label_type)
            if probability is None:
                yield pa.StructArray.from_arrays([prediction], names=["prediction"])
                continue
            per_class = pa.StructArray.from_arrays(
                [pa.array(probability[:, j]) for j in range(probability.shape[1])],
                names=[str(c) for c in pipeline.classes],
            )
            yield pa.StructArray.from_arrays(
                [prediction, per_class], names=["prediction", "probability"]
            )

    def _rows(self, batch: Any) -> Any:
        """The batch's struct as a RecordBatch; ``udf(struct(...))`` arrives wrapped once more
        (a struct holding the user's struct), which is unwrapped here."""
        import pyarrow as pa

        rows = pa.RecordBatch.from_struct_array(batch)
        if (
            rows.num_columns == 1
            and rows.schema.names[0] not in self.names
            and pa.types.is_struct(rows.schema.types[0])
        ):
            rows = pa.RecordBatch.from_struct_array(rows.column(0))
        return rows


def _in_batch(exc: SchemaError, rows: int) -> SchemaError:
    """``exc`` saying that its row number counts within one Arrow batch, not the DataFrame."""
    if exc.row is None:
        return exc
    return SchemaError(
        f"{exc} (row {exc.row} of an Arrow batch of {rows} rows, not of the DataFrame)",
        column=exc.column,
        expected=exc.expected,
        received=exc.received,
        row=exc.row,
    )


def _quoted(name: str) -> str:
    """A column name as Spark reads it literally (dots and spaces part of the name)."""
    return "`" + name.replace("`", "``") + "`"


class PredictUdf:
    """A pipeline as a Spark column function: ``udf()`` scores the schema's columns by name,
    ``udf(*columns)`` or ``udf(struct(...))`` the given ones (names or ``Column``s, in any
    order; extra ones are ignored). A name is a top-level column's name, taken literally (a dot
    is part of it); nested fields and expressions are passed as ``Column``s, aliased to the
    schema's names. The result is a struct column, :attr:`return_type`:

    - ``prediction``: the label (string, long or boolean, as the classes are) or, for a
      regressor, the predicted value (double);
    - ``probability`` (classifiers, unless ``proba=False``): a struct with one double field per
      class, named by the class and in :attr:`classes` order, so ``score.probability.*`` gives
      one column per class and ``score.probability.`>50K``` the one wanted.
    """

    def __init__(self, udf: Any, return_type: Any, pipeline: Pipeline) -> None:
        self._udf = udf
        self.return_type = return_type
        self.schema = pipeline.schema
        self.classes = pipeline.classes

    def __call__(self, *columns: Any) -> Any:
        """The score column for ``columns`` (default: every schema column, by name)."""
        from pyspark.sql import functions as F

        if not columns:
            columns = tuple(self.schema)
        if all(isinstance(c, str) for c in columns):
            check_columns(self.schema, columns)
        # Names are taken literally; nested fields and expressions come as Columns.
        return self._udf(
            F.struct(*[F.col(_quoted(c)) if isinstance(c, str) else c for c in columns])
        )


def _label_type(pipeline: Pipeline) -> str:
    """The Arrow type name of the predicted label."""
    if pipeline.task != "classification":
        return "float64"
    classes = pipeline.classes
    if all(isinstance(c, bool) for c in classes):
        return "bool_"
    if all(isinstance(c, int) and not isinstance(c, bool) for c in classes):
        return "int64"
    if all(isinstance(c, str) for c in classes):
        return "string"
    raise SchemaError(
        f"classes {classes!r} mix types: a Spark column holds one type of label",
        expected="labels of one type",
        received=", ".join(sorted({type(c).__name__ for c in classes})),
    )


def _return_type(pipeline: Pipeline, label: str, proba: bool) -> Any:
    from pyspark.sql import types as T

    spark_label = {
        "float64": T.DoubleType(),
        "bool_": T.BooleanType(),
        "int64": T.LongType(),
        "string": T.StringType(),
    }[label]
    fields = [T.StructField("prediction", spark_label)]
    if proba:
        names = [str(c) for c in pipeline.classes]
        if len(set(names)) != len(names):
            raise SchemaError(
                f"classes {pipeline.classes!r} do not give distinct field names; "
                "use proba=False"
            )
        per_class = T.StructType([T.StructField(n, T.DoubleType()) for n in names])
        fields.append(T.StructField("probability", per_class))
    return T.StructType(fields)


def _source(spark: Any, data: bytes) -> Any:
    """A broadcast variable of the artifact on a classic session; on Spark Connect, which has
    no SparkContext, the bytes themselves (they then travel inside the UDF)."""
    # Checked by module name: importing pyspark.sql.connect to test isinstance would pull in
    # (and warn about) its client dependencies.
    if type(spark).__module__.startswith("pyspark.sql.connect"):
        return data
    return spark.sparkContext.broadcast(data)


def _iterator_udf(scorer: _Scorer) -> Any:
    """``scorer`` as the function ``arrow_udf`` wants: pyspark infers the iterator form from
    the type hints (``Iterator[pa.Array] -> Iterator[pa.Array]``) and warns when the form is
    given as ``functionType`` instead. The hints are set as objects, since pyarrow is not a
    module-level name here for ``get_type_hints`` to resolve."""
    import pyarrow as pa

    def score(batches: Iterator[Any]) -> Iterator[Any]:
        return scorer(batches)

    score.__annotations__ = {"batches": Iterator[pa.Array], "return": Iterator[pa.Array]}
    return score


def predict_udf(
    spark: Any, pipeline: Pipeline, *, proba: bool = True, threads: int | None = None
) -> PredictUdf:
    """A Spark column function scoring ``pipeline`` (see :class:`PredictUdf`).

    ``proba=False`` leaves out the class probabilities (a classifier then returns only its
    label). ``threads`` is the number of threads each task's pipeline predicts on; by default
    ``spark.task.cpus`` (1 unless configured), the cores Spark reserves per task.

    Needs pyspark 4.1 or newer (``arrow_udf``) and pyarrow.
    """
    from pyspark.sql import functions as F

    if not hasattr(F, "arrow_udf"):
        import pyspark

        raise ImportError(
            f"tabship.spark needs pyspark 4.1 or newer (arrow_udf), found {pyspark.__version__}"
        )
    if threads is None:
        threads = int(spark.conf.get("spark.task.cpus", "1"))
    classifier = pipeline.task == "classification"
    proba = proba and classifier
    label = _label_type(pipeline)
    return_type = _return_type(pipeline, label, proba)
    data = pipeline.to_bytes()
    scorer = _Scorer(
        hashlib.sha256(data).hexdigest(),
        _source(spark, data),
        threads,
        list(pipeline.schema),
        label,
        proba,
    )
    udf = F.arrow_udf(_iterator_udf(scorer), returnType=return_type)
    return PredictUdf(udf, return_type, pipeline)
