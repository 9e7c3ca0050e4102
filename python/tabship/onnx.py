"""Feeding a pipeline exported with :meth:`tabship.Pipeline.to_onnx` to ONNX Runtime.

The export itself needs nothing but tabship; running it needs ``onnxruntime`` (the ``onnx``
extra: ``pip install "tabship[onnx]"``), which this module never imports. :func:`inputs` turns
a table into the graph's inputs as ``docs/onnx.md`` specifies them: one ``[N, 1]`` array per
schema column, ``float64`` with NaN for a missing number, ``str`` (object) with ``""`` for a
missing category.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ._tabship import Pipeline, _number_as_category

__all__ = ["category_text", "inputs"]


def category_text(value: Any) -> str:
    """A categorical value as the exported graph matches it, the text the pipeline compares it
    as: text as is, a missing value (``None``, NaN, pandas' ``NA``) as ``""``, a bool as
    ``"True"``/``"False"``, an integer as its digits, and any other number formatted by the
    core itself (``3.0`` as ``"3"``, ``0.1`` as ``"0.1"``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)) and -(2**63) <= value < 2**63:
        return str(int(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        return _number_as_category(float(value))
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return ""
    except ImportError:  # pragma: no cover - pandas is optional
        pass
    return str(value)


def _column(data: Any, name: str) -> Any:
    try:
        return data[name]
    except (KeyError, IndexError) as e:
        raise KeyError(f"column `{name}` of the pipeline's schema is not in the data") from e


def inputs(pipeline: Pipeline, data: Mapping[str, Any] | Any) -> dict[str, np.ndarray]:
    """The inputs of ``pipeline``'s ONNX graph for the rows of ``data`` (a pandas DataFrame or
    a dict of columns; extra columns are ignored): numeric columns as ``float64`` (missing
    values NaN; text is not parsed, pass numbers), categorical columns as ``str`` arrays
    through :func:`category_text`. Each array has shape ``[N, 1]``."""
    feeds: dict[str, np.ndarray] = {}
    for name, kind in pipeline.schema.items():
        column = _column(data, name)
        if kind == "numeric":
            try:
                import pandas as pd

                if isinstance(column, pd.Series):
                    column = column.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
            except ImportError:  # pragma: no cover - pandas is optional
                pass
            values = np.asarray(column, dtype=np.float64)
        else:
            values = np.array([category_text(v) for v in column], dtype=object)
        feeds[name] = values.reshape(-1, 1)
    return feeds
