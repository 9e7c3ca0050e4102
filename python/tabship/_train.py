"""``tabship.train``: fit a pipeline from a DataFrame, a dict of columns, a pyarrow Table or a
CSV path, with the options of ``tabship train``."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from . import _convert
from ._errors import SchemaError
from ._tabship import Pipeline, _retrain, _train_columns, _train_csv


def train(
    data: Any,
    target: Any,
    model: str | None = None,
    *,
    task: str | None = None,
    max_classes: int = 200,
    categorical: Sequence[str] = (),
    numeric: Sequence[str] = (),
    min_frequency: int | float = 5,
    encoding: str = "one-hot",
    categorical_missing: str = "slot",
    impute: str | None = None,
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
    min_samples_leaf: int | None = None,
    min_samples_split: int = 2,
    max_features: str | int | float = "sqrt",
    tree_learner: str | None = None,
    max_bins: int = 255,
    threads: int | None = None,
    learning_rate: float = 0.1,
    max_leaves: int = 31,
    min_child_weight: float = 1e-3,
    l2: float = 0.0,
    early_stopping_rounds: int | None = None,
    validation_fraction: float = 0.1,
    na_values: Sequence[str] = (),
    keep_default_na: bool = True,
    delimiter: str | None = None,
    file_encoding: str | None = None,
    decimal: str = ".",
    class_weight: str | Mapping[str | int, float] | None = None,
    threshold: str | float | None = None,
    positive_class: str | int | None = None,
    target_transform: str | None = None,
) -> Pipeline:
    """Fits a pipeline (schema, encoders, model) and measures it on a holdout split.

    ``data`` is a pandas DataFrame, a dict of columns, a pyarrow Table, a polars DataFrame or
    LazyFrame, or the path of a CSV file (read exactly as ``tabship train`` reads it: a column
    whose every value is a number is numeric), and ``target`` the name of its target column.
    For in-memory data the dtype decides: integer and float columns are numeric; text, bool and
    category columns are categorical. ``categorical`` / ``numeric`` override that per column.

    ``train(X, y)`` works too, as scikit-learn is called: ``target`` is then the target values
    (a pandas or polars Series, a numpy array, a list), one per row of ``X``, and ``X`` holds
    the features only; it may also be a 2-D numpy array or a list of rows, whose columns are
    named ``x0``, ``x1``, ... (as scikit-learn names unnamed features). The target column is
    named after the Series (``y.name``), else ``target``. :class:`tabship.Classifier` and
    :class:`tabship.Regressor` wrap this as scikit-learn estimators.

    ``model`` is one of ``logistic``, ``linear``, ``ridge``, ``lasso``, ``elastic-net``,
    ``decision-tree``, ``random-forest``, ``extra-trees``, ``gradient-boosting`` (default:
    logistic for classification, ridge for regression; ``_`` may stand for ``-``). The other
    options are the CLI's (``tabship train --help``) with ``_`` for ``-``; ``version`` is
    ``--model-version``. With ``cv=k`` the pipeline's ``cv_metrics`` hold k-fold
    cross-validation results. ``tree_learner`` picks the learner of the other tree models:
    ``"hist"`` (tabship's histogram learner, ``max_bins`` bins per feature; classification with
    ``extra-trees`` too, and ``impute="nan"`` keeps missing numbers missing) or ``"smartcore"``
    (the default).

    Gradient boosting (``model="gradient-boosting"``) fits ``n_trees`` rounds of trees grown
    leaf-wise up to ``max_leaves`` leaves (logistic loss for two classes, softmax for more,
    squared error for regression), each leaf adding ``learning_rate`` times its Newton step
    (``min_child_weight``, ``l2``, ``max_depth``, ``min_samples_leaf`` — default 20 for
    boosting, 1 otherwise). ``early_stopping_rounds=n`` holds out ``validation_fraction`` of the
    training rows and keeps the best round's trees. Missing numbers stay missing by default
    (``impute="nan"``: a learned side at every split; ``impute`` defaults to ``"median"`` for
    the other models).

    Missing values: empty fields and ``NaN`` always; in numeric columns also the usual spellings
    (``tabship.DEFAULT_NA_VALUES``: ``NA``, ``N/A``, ``null``, ``NULL``, ``None``, ``nan``, ``?``,
    ``-``, ...) unless ``keep_default_na=False``; ``na_values`` adds texts that are missing in
    every column, categorical ones included (``--na-values``). The policy is stored in the
    artifact, so prediction reads input the same way. A CSV path is read with ``delimiter``
    (default ``,``), ``file_encoding`` (default ``utf-8``; ``latin-1``, ``windows-1252``...) and
    ``decimal`` (``.`` or ``,``), as ``--delimiter``, ``--file-encoding`` and ``--decimal``.

    A column that is numeric except for a few texts (``n.a.``, ``unknown``) is read as
    categorical and a :class:`UserWarning` names the texts and their counts.

    Imbalanced classes and skewed targets: ``class_weight="balanced"`` or ``{"yes": 5, "no": 1}``
    weights the classes in the fit as scikit-learn does (logistic regression and gradient
    boosting);
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
    if isinstance(na_values, str):
        na_values = [na_values]
    options: dict[str, Any] = {
        "target": target,
        "model": model,
        "task": task,
        "max_classes": max_classes,
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
        "tree_learner": tree_learner,
        "max_bins": max_bins,
        "threads": threads,
        "learning_rate": learning_rate,
        "max_leaves": max_leaves,
        "min_child_weight": min_child_weight,
        "l2": l2,
        "early_stopping_rounds": early_stopping_rounds,
        "validation_fraction": validation_fraction,
        "na_values": list(na_values),
        "keep_default_na": keep_default_na,
        "class_weight": dict(class_weight) if isinstance(class_weight, Mapping) else class_weight,
        "threshold": threshold,
        "positive_class": positive_class,
        "target_transform": target_transform,
    }
    if not isinstance(target, str):
        if isinstance(data, (str, os.PathLike)):
            raise TypeError(
                "a CSV file holds its target column: give its name as `target`, "
                f"got {type(target).__name__}"
            )
        entries, kinds, options["target"] = xy_columns(data, target, categorical, numeric)
        return _train_columns(entries, kinds, options, cv)
    if isinstance(data, (str, os.PathLike)):
        options.update(delimiter=delimiter, file_encoding=file_encoding, decimal=decimal)
        return _train_csv(os.fspath(data), options, cv)
    if delimiter is not None or file_encoding is not None or decimal != ".":
        raise TypeError(
            "delimiter, file_encoding and decimal apply to a CSV path; "
            "for in-memory data pass them to the reader (pandas.read_csv)"
        )
    frame = _convert.training_frame(data)
    kinds = _convert.training_kinds(frame, list(categorical), list(numeric))
    entries = _convert.to_columns(frame, kinds)
    return _train_columns(entries, kinds, options, cv)


def xy_columns(
    x: Any, y: Any, categorical: Sequence[str] = (), numeric: Sequence[str] = ()
) -> tuple[list[_convert.Entry], list[tuple[str, str]], str]:
    """Features ``x`` and target values ``y`` as the entries and kinds ``_train_columns``
    takes, and the target column's name (``y.name``, else ``target``)."""
    frame, names, _ = _convert.named_frame(x)
    values, y_name, _ = _convert.target_values(y)
    return xy_entries(frame, names, values, y_name, categorical, numeric)


def xy_entries(
    frame: Any,
    names: Sequence[str],
    values: Any,
    y_name: str | None,
    categorical: Sequence[str] = (),
    numeric: Sequence[str] = (),
) -> tuple[list[_convert.Entry], list[tuple[str, str]], str]:
    """``xy_columns`` from a ``_convert.named_frame`` and ``_convert.target_values``."""
    n = _convert.n_rows(frame)
    if n is None and isinstance(frame, dict):
        n = len(next(iter(frame.values()))) if frame else 0
    if n is not None and n != len(values):
        raise SchemaError(
            f"X has {n} rows but y has {len(values)} values: give one target value per row",
            expected=f"{n} target values",
            received=f"{len(values)}",
        )
    if y_name is None:
        y_name = "target"
        taken = set(names)
        suffix = 1
        while y_name in taken:
            y_name = f"target_{suffix}"
            suffix += 1
    elif y_name in names:
        raise SchemaError(
            f"y is named `{y_name}`, like a column of X: X must not hold the target "
            "(drop that column, or rename y)",
            column=y_name,
        )
    entries, kinds = _convert.feature_columns(frame, categorical, numeric)
    entry, kind = _convert.target_entry(y_name, values)
    return [*entries, entry], [*kinds, (y_name, kind)], y_name


def retrain(
    champion: Pipeline | str | os.PathLike[str],
    new: str | os.PathLike[str],
    *,
    with_old: str | os.PathLike[str] | None = None,
    old_window: int | None = None,
    reason: str | None = None,
    version: str | None = None,
    threads: int | None = None,
) -> Pipeline:
    """Refits ``champion`` (a :class:`Pipeline` or an artifact's path) with the algorithm and
    options it records, on the labelled CSV ``new`` — after the last ``old_window`` rows of the
    CSV ``with_old`` (all of them without ``old_window``) — as ``tabship retrain`` does.

    The result has the champion's name, the next version (``1`` → ``2``, ``v3`` → ``v4``; or
    ``version``) and, in ``metadata["retrained_from"]``, the champion's name, version and
    checksum, ``reason`` and the row counts. The CSV files need the champion's schema columns
    and its target (other columns are left out, with a warning). Imported models (XGBoost,
    LightGBM) are refused with :class:`tabship.TabshipError`: retrain them with their library.
    """
    if not isinstance(champion, Pipeline):
        champion = Pipeline.load(champion)
    if old_window is not None and with_old is None:
        raise TypeError("old_window needs with_old (the old training data's CSV)")
    return _retrain(champion, new, with_old, old_window, reason, version, threads)

