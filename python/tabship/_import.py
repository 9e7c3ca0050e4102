"""``tabship.from_xgboost`` and ``tabship.from_lightgbm``: a booster saved to bytes in memory
and read by the native Rust importers (``crates/tabship-import``), exactly as
``tabship import xgboost|lightgbm`` reads a model file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._errors import ModelImportError
from ._sklearn import _reference_frame, reference_csv
from ._tabship import Pipeline, _import_model


def _reference(reference: Any) -> bytes:
    import os

    if isinstance(reference, (str, os.PathLike)):
        with open(reference, "rb") as f:
            return f.read()
    return reference_csv(_reference_frame(reference, None))


def from_xgboost(
    model: Any,
    reference: Any,
    *,
    target: str | None = None,
    categorical: Sequence[str] = (),
    name: str | None = None,
    version: str | None = None,
) -> Pipeline:
    """An XGBoost model (a ``Booster``, or a scikit-learn wrapper such as ``XGBClassifier``) as
    a tabship :class:`Pipeline` predicting bit for bit what XGBoost predicts (``predict`` /
    ``predict_proba``; XGBoost's ``float32`` results, widened exactly).

    The booster is saved as UBJSON in memory and read by the same native importer as
    ``tabship import xgboost``. ``reference`` (a DataFrame or a CSV path of rows like the
    training rows) gives the schema, the category ↔ code mapping when the model has none, and
    the drift profile; ``target`` names its label column (a classifier's labels are its sorted
    distinct values, else ``0..K``); ``categorical`` lists columns read as categories although
    the model reads codes. Unsupported models raise :class:`ModelImportError`.
    """
    booster = model.get_booster() if hasattr(model, "get_booster") else model
    if not hasattr(booster, "save_raw"):
        raise ModelImportError(
            f"`{type(model).__name__}` is not an XGBoost Booster or scikit-learn wrapper",
            step=type(model).__name__,
        )
    raw = bytes(booster.save_raw(raw_format="ubj"))
    return _import_model(
        "xgboost", raw, _reference(reference), target, list(categorical), name, version
    )


def from_lightgbm(
    model: Any,
    reference: Any,
    *,
    target: str | None = None,
    categorical: Sequence[str] = (),
    name: str | None = None,
    version: str | None = None,
) -> Pipeline:
    """A LightGBM model (a ``Booster`` or a scikit-learn wrapper such as ``LGBMClassifier``) as
    a tabship :class:`Pipeline`: ``model_to_string()`` read by the native importer of
    ``tabship import lightgbm``. Arguments as :func:`from_xgboost`."""
    booster = model.booster_ if hasattr(model, "booster_") else model
    if not hasattr(booster, "model_to_string"):
        raise ModelImportError(
            f"`{type(model).__name__}` is not a LightGBM Booster or scikit-learn wrapper",
            step=type(model).__name__,
        )
    text = booster.model_to_string().encode("utf-8")
    return _import_model(
        "lightgbm", text, _reference(reference), target, list(categorical), name, version
    )
