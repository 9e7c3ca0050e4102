"""``tabship.train``: fit a pipeline from a DataFrame, a dict of columns, a pyarrow Table or a
CSV path, with the options of ``tabship train``."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from . import _convert
from ._tabship import Pipeline, _train_columns, _train_csv


def train(
    data: Any,
    target: str,
    model: str | None = None,
    *,
    task: str | None = None,
    categorical: Sequence[str] = (),
    numeric: Sequence[str] = (),
    min_frequency: int | float = 5,
    encoding: str = "one-hot",
    categorical_missing: str = "slot",
    impute: str = "median",
    fill_value: float = 0.0,
    missing_indicator: bool = False,
    scale: bool | None = None,
    test_fraction: float = 0.2,
    seed: int = 42,
    cv: int | None = None,
    name: str | None = None,
    version: str = "1",
    alpha: float = 1.0,
    l1_ratio: float = 0.5,
    tol: float = 1e-4,
    max_iter: int = 1000,
    solver: str | None = None,
    n_trees: int = 100,
    max_depth: int | None = None,
    min_samples_leaf: int = 1,
    min_samples_split: int = 2,
    max_features: str | int | float = "sqrt",
    threads: int | None = None,
    class_weight: str | Mapping[str | int, float] | None = None,
    threshold: str | float | None = None,
    positive_class: str | int | None = None,
    target_transform: str | None = None,
) -> Pipeline:
    """Fits a pipeline (schema, encoders, model) and measures it on a holdout split.

    ``data`` is a pandas DataFrame, a dict of columns, a pyarrow Table, or the path of a CSV
    file (read exactly as ``tabship train`` reads it: a column whose every value is a number is
    numeric). For in-memory data the dtype decides: integer and float columns are numeric;
    text, bool and category columns are categorical. ``categorical`` / ``numeric`` override
    that per column.

    ``model`` is one of ``logistic``, ``linear``, ``ridge``, ``lasso``, ``elastic-net``,
    ``decision-tree``, ``random-forest``, ``extra-trees`` (default: logistic for
    classification, ridge for regression; ``_`` may stand for ``-``). The other options are the
    CLI's (``tabship train --help``) with ``_`` for ``-``; ``version`` is ``--model-version``.
    With ``cv=k`` the pipeline's ``cv_metrics`` hold k-fold cross-validation results.

    Imbalanced classes and skewed targets: ``class_weight="balanced"`` or ``{"yes": 5, "no": 1}``
    weights the classes in the fit as scikit-learn does (logistic regression only);
    ``threshold`` stores a binary classifier's decision threshold — a probability (``0.3``),
    ``"f1"``, ``"precision=0.9"`` or ``"recall=0.8"``, chosen on the holdout — for the positive
    class (``positive_class``, default the second class in sorted order), applied to every label
    the pipeline predicts; ``target_transform="log1p"`` fits a regressor on ``log1p(y)`` and
    predicts ``expm1`` of its output (targets must be > -1).

    A logistic regression that reaches ``max_iter`` before its gradient falls below ``tol``
    still returns its model and emits a :class:`UserWarning` saying so.

    The GIL is released while fitting. Raises :class:`tabship.OptionError` for an invalid
    option, :class:`tabship.SchemaError` for unusable data and :class:`tabship.TrainingError`
    when the model cannot be fitted.
    """
    options: dict[str, Any] = {
        "target": target,
        "model": model,
        "task": task,
        "categorical": list(categorical),
        "numeric": list(numeric),
        "min_frequency": min_frequency,
        "encoding": encoding,
        "categorical_missing": categorical_missing,
        "impute": impute,
        "fill_value": fill_value,
        "missing_indicator": missing_indicator,
        "scale": scale,
        "test_fraction": test_fraction,
        "seed": seed,
        "name": name,
        "version": version,
        "alpha": alpha,
        "l1_ratio": l1_ratio,
        "tol": tol,
        "max_iter": max_iter,
        "solver": solver,
        "n_trees": n_trees,
        "max_depth": max_depth,
        "min_samples_leaf": min_samples_leaf,
        "min_samples_split": min_samples_split,
        "max_features": max_features,
        "threads": threads,
        "class_weight": dict(class_weight) if isinstance(class_weight, Mapping) else class_weight,
        "threshold": threshold,
        "positive_class": positive_class,
        "target_transform": target_transform,
    }
    if isinstance(data, (str, os.PathLike)):
        return _train_csv(os.fspath(data), options, cv)
    frame = _convert.training_frame(data)
    kinds = _convert.training_kinds(frame, list(categorical), list(numeric))
    entries = _convert.to_columns(frame, kinds)
    return _train_columns(entries, kinds, options, cv)
