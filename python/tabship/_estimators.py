"""``tabship.Classifier`` and ``tabship.Regressor``: :func:`tabship.train` behind
scikit-learn's estimator conventions (``fit``/``predict``/``score``, ``get_params``/
``set_params``, ``classes_``, ``n_features_in_``, ``feature_names_in_``), so that
``sklearn.base.clone``, ``cross_val_score`` and ``GridSearchCV`` work with them.

scikit-learn is optional: when it is importable the estimators derive from its
``BaseEstimator`` and mixins (its ``repr``, tags, HTML display, ``score``); without it they
implement the same protocol themselves. This module is imported on first use of
``tabship.Classifier`` / ``tabship.Regressor``, so ``import tabship`` does not import
scikit-learn.

The keyword parameters are :func:`tabship.train`'s options, read from its signature (so an
option added there is a parameter here), with two exceptions: ``task`` is the estimator's, and
``cv`` is left to scikit-learn (``cross_val_score``). ``test_fraction`` defaults to 0 here:
``fit`` learns from every row it is given, as scikit-learn's estimators do (a holdout for
``pipeline_.metrics`` is opt-in).
"""

from __future__ import annotations

import inspect
import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from . import _convert
from ._tabship import Pipeline, _train_columns
from ._train import train, xy_entries

__all__ = ["Classifier", "Regressor"]

# Options of `train` that are not estimator parameters: the data, and what the estimator or
# scikit-learn decide.
# `train`'s options that are not estimator parameters: the data, the task (the class says it),
# cross-validation (scikit-learn's own tools do it) and how a CSV path is read (an estimator is
# given X and y, never a file).
_NOT_PARAMETERS = ("data", "target", "task", "cv", "delimiter", "file_encoding", "decimal")
# Defaults that differ from `train`'s, and why (see the module docs).
_DEFAULT_OVERRIDES: dict[str, Any] = {"test_fraction": 0.0}


def _parameters() -> list[inspect.Parameter]:
    """The estimators' keyword parameters: ``train``'s options with their defaults."""
    out = []
    for p in inspect.signature(train).parameters.values():
        if p.name in _NOT_PARAMETERS or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        default = _DEFAULT_OVERRIDES.get(p.name, p.default)
        out.append(
            inspect.Parameter(
                p.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=p.annotation
            )
        )
    return out


_PARAMETERS = _parameters()


class _Params:
    """``get_params``/``set_params`` and ``repr`` as scikit-learn's ``BaseEstimator`` has
    them, for when scikit-learn is not installed."""

    @classmethod
    def _get_param_names(cls) -> list[str]:
        return sorted(p.name for p in _PARAMETERS)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The estimator's parameters (name → value)."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params: Any) -> Any:
        """Sets parameters; returns the estimator."""
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"invalid parameter `{name}` for estimator {type(self).__name__}; "
                    f"valid parameters are: {', '.join(valid)}"
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        # As scikit-learn's: the parameters that differ from their defaults, sorted by name.
        defaults = {p.name: p.default for p in _PARAMETERS}
        changed = [
            f"{name}={value!r}"
            for name, value in self.get_params().items()
            if value is not defaults[name] and value != defaults[name]
        ]
        return f"{type(self).__name__}({', '.join(changed)})"


class _ClassifierScore:
    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy of ``predict(X)`` against ``y``."""
        predicted = self.predict(X)  # type: ignore[attr-defined]
        truth, _, _ = _convert.target_values(y)
        return float(np.average(predicted == truth, weights=sample_weight))


class _RegressorScore:
    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """The coefficient of determination R² of ``predict(X)`` against ``y``."""
        predicted = np.asarray(self.predict(X), dtype=np.float64)  # type: ignore[attr-defined]
        truth = np.asarray(_convert.target_values(y)[0], dtype=np.float64)
        w = np.ones_like(truth) if sample_weight is None else np.asarray(sample_weight, float)
        residual = float(np.sum(w * (truth - predicted) ** 2))
        total = float(np.sum(w * (truth - np.average(truth, weights=w)) ** 2))
        if total == 0.0:
            return 1.0 if residual == 0.0 else 0.0
        return 1.0 - residual / total


class _NotFittedError(ValueError, AttributeError):
    """An estimator was used before ``fit`` (scikit-learn's ``NotFittedError`` is used instead
    when scikit-learn is installed)."""


# The bases: scikit-learn's when it is importable, else the classes above. (For the type
# checker they are scikit-learn's, untyped: `Any`.)
if TYPE_CHECKING:
    from sklearn.base import BaseEstimator as _Base
    from sklearn.base import ClassifierMixin as _ClassifierBase
    from sklearn.base import RegressorMixin as _RegressorBase
    from sklearn.exceptions import DataConversionWarning as _ColumnVectorWarning
    from sklearn.exceptions import NotFittedError
else:
    try:
        from sklearn.base import BaseEstimator as _Base
        from sklearn.base import ClassifierMixin as _ClassifierBase
        from sklearn.base import RegressorMixin as _RegressorBase
        from sklearn.exceptions import DataConversionWarning as _ColumnVectorWarning
        from sklearn.exceptions import NotFittedError
    except ImportError:  # scikit-learn is optional (tests/test_estimators.py runs without it)
        _Base = _Params
        _ClassifierBase = _ClassifierScore
        _RegressorBase = _RegressorScore
        _ColumnVectorWarning = UserWarning
        NotFittedError = _NotFittedError


class _Estimator:
    """What the classifier and the regressor share: parameters, input checks, ``fit``."""

    _task: ClassVar[str]
    pipeline_: Pipeline
    n_features_in_: int
    feature_names_in_: np.ndarray
    _names: list[str]

    if TYPE_CHECKING:
        # The parameters for type checkers (mypy.stubtest checks them against the runtime
        # signature, which is read from `train`'s: a new option of `train` fails stubtest
        # until it is listed here too).
        def __init__(
            self,
            *,
            model: str | None = None,
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
            test_fraction: float = 0.0,
            seed: int = 42,
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
            class_weight: str | Mapping[str | int, float] | None = None,
            threshold: str | float | None = None,
            positive_class: str | int | None = None,
            target_transform: str | None = None,
        ) -> None: ...

    else:

        def __init__(self, **params: Any) -> None:
            # scikit-learn's convention: __init__ only stores the parameters (fit validates).
            unknown = set(params) - {p.name for p in _PARAMETERS}
            if unknown:
                raise TypeError(
                    f"{type(self).__name__}() got an unexpected keyword argument "
                    f"`{sorted(unknown)[0]}` (parameters: "
                    f"{', '.join(p.name for p in _PARAMETERS)})"
                )
            for p in _PARAMETERS:
                setattr(self, p.name, params.get(p.name, p.default))

        # What scikit-learn reads (get_params, clone, repr) and `help()` shows.
        __init__.__signature__ = inspect.Signature(
            [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD), *_PARAMETERS]
        )

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "pipeline_")

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.input_tags.allow_nan = True  # missing numbers are imputed
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.target_tags.required = True
        return tags

    def _options(self) -> dict[str, Any]:
        return {p.name: getattr(self, p.name) for p in _PARAMETERS}

    def _check_fitted(self) -> None:
        if not hasattr(self, "pipeline_"):
            raise NotFittedError(
                f"this {type(self).__name__} instance is not fitted yet: call `fit` with "
                "appropriate arguments before using this estimator"
            )

    def _fit(self, X: Any, y: Any) -> Any:
        """Checks ``X`` and ``y`` as scikit-learn does, then fits on every row."""
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        _check_dense(X)
        frame, names, named = _convert.named_frame(X)
        _check_numbers(frame)
        values, y_name, column_vector = _convert.target_values(y)
        if column_vector:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; it was flattened "
                "(pass y as a 1-D array, e.g. with y.ravel())",
                _ColumnVectorWarning,
                stacklevel=3,
            )
        rows = len(values)
        if not names or rows == 0:
            what = "feature" if not names else "sample"
            raise ValueError(
                f"Found array with 0 {what}(s) (shape=({rows}, {len(names)})) while a minimum "
                "of 1 is required."
            )
        if rows == 1:
            raise ValueError("n_samples=1: fitting needs at least 2 rows")
        values = self._prepare_target(values)
        options = self._options()
        categorical = list(options.pop("categorical"))
        numeric = list(options.pop("numeric"))
        entries, kinds, target = xy_entries(
            frame, names, values, y_name if named else None, categorical, numeric
        )
        options.update(target=target, task=self._task, categorical=categorical, numeric=numeric)
        pipeline = _train_columns(entries, kinds, options, None)
        self.pipeline_ = pipeline
        self._names = names
        self.n_features_in_ = len(names)
        if named:
            self.feature_names_in_ = np.asarray(names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return self

    def _prepare_target(self, values: np.ndarray) -> np.ndarray:
        return values

    def _features(self, X: Any) -> Any:
        """``X`` as the pipeline reads it, checked as scikit-learn checks it: the same number of
        features as in ``fit``; with names, the same names in the same order."""
        self._check_fitted()
        _check_dense(X)
        if _convert.is_polars(X):
            X = _convert.from_polars(X)
        names = _convert._column_names(X)
        fitted_names = getattr(self, "feature_names_in_", None)
        kind = type(self).__name__
        if names is not None and fitted_names is not None:
            if names != self._names:
                unexpected = [n for n in names if n not in self._names]
                missing = [n for n in self._names if n not in names]
                detail = ""
                if unexpected:
                    detail += f"\nFeature names unseen at fit time:\n- {unexpected[0]}"
                if missing:
                    detail += f"\nFeature names seen at fit time, yet now missing:\n- {missing[0]}"
                if not detail:
                    detail = "\nFeature names must be in the same order as they were in fit."
                raise ValueError(
                    "The feature names should match those that were passed during fit."
                    + detail
                )
            return X
        if names is not None and fitted_names is None:
            warnings.warn(
                f"X has feature names, but {kind} was fitted without feature names",
                UserWarning,
                stacklevel=3,
            )
        elif names is None and fitted_names is not None:
            warnings.warn(
                f"X does not have valid feature names, but {kind} was fitted with feature names",
                UserWarning,
                stacklevel=3,
            )
        # Positional: the columns are the fitted ones in order.
        pd = _convert._pandas()
        pa = _convert._pyarrow()
        if pd is not None and isinstance(X, pd.DataFrame):
            self._check_width(X.shape[1])
            return X.set_axis(self._names, axis=1)
        if pa is not None and isinstance(X, pa.Table):
            self._check_width(X.num_columns)
            return X.rename_columns(self._names)
        if names is not None:  # a dict of columns
            self._check_width(len(names))
            return dict(zip(self._names, X.values(), strict=True))
        array = _convert.as_2d_array(X)
        self._check_width(array.shape[1])
        _check_numbers({"X": array})
        return array

    def _check_width(self, n: int) -> None:
        if n != self.n_features_in_:
            raise ValueError(
                f"X has {n} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )


def _check_dense(X: Any) -> None:
    """Rejects scipy sparse matrices and arrays (tabship reads columns of values)."""
    sparse = sys.modules.get("scipy.sparse")
    if sparse is not None and sparse.issparse(X):
        raise TypeError(
            "sparse input is not supported: tabship reads dense columns; pass X.toarray() "
            "or a DataFrame"
        )


def _check_numbers(frame: Any) -> None:
    """Rejects complex numbers in numpy input with scikit-learn's message (infinities are
    refused by tabship itself, naming the row and column)."""
    if not isinstance(frame, dict):
        return
    for name, column in frame.items():
        if np.asarray(column).dtype.kind == "c":
            raise ValueError(
                f"Complex data not supported: column `{name}` holds complex numbers"
            )


class Classifier(_ClassifierBase, _Estimator, _Base):  # type: ignore[misc]
    """A tabship classification pipeline as a scikit-learn classifier.

    ``Classifier(model="random-forest", n_trees=200).fit(X, y)`` fits with
    :func:`tabship.train` (``task="classification"``) and keeps the fitted
    :class:`tabship.Pipeline` as ``pipeline_`` (save it, serve it, check drift with it).
    ``X`` is a pandas, polars (DataFrame or LazyFrame) or pyarrow table, a dict of columns, a
    2-D numpy array or a list of rows (unnamed columns are ``x0``, ``x1``, ...); text and
    category columns are categorical, numbers numeric, missing values allowed. ``y`` holds one
    label per row: text, integers, bools or integral floats (``classes_`` keeps their type).

    Parameters: every option of :func:`tabship.train` (``model``, ``n_trees``, ``max_depth``,
    ``alpha``, ...) with its default, except ``test_fraction`` (0: ``fit`` learns from every
    row) and ``task`` / ``cv``.
    """

    _task = "classification"

    if TYPE_CHECKING:
        # Made by scikit-learn's metadata routing for `score(..., sample_weight)` (present
        # only when scikit-learn is installed).
        def set_score_request(self, *, sample_weight: bool | None | str = ...) -> Classifier: ...

    classes_: np.ndarray
    # Each class of `classes_` as the pipeline names it (an int or its text), in order.
    _keys: list[Any]
    # Where each of the pipeline's classes sits in `classes_`.
    _to_classes: np.ndarray

    def _prepare_target(self, values: np.ndarray) -> np.ndarray:
        kind = values.dtype.kind
        if kind == "f" and np.isnan(values).any() or kind == "O" and any(
            v is None or (isinstance(v, float) and v != v) for v in values.tolist()
        ):
            raise ValueError("Input y contains NaN: every row needs a label")
        if kind == "f" and not np.all(np.isfinite(values)):
            raise ValueError("Input y contains infinity")
        if kind == "f" and np.any(values != np.round(values)):
            raise ValueError(
                "Unknown label type: continuous. A classifier needs discrete labels; fit "
                "tabship.Regressor for a continuous target"
            )
        try:
            classes = np.unique(values)
        except TypeError:
            raise ValueError(
                "Unknown label type: y mixes labels of different types (e.g. text and "
                "numbers); give them one type"
            ) from None
        if kind in "iuf":
            pipeline_values = values.astype(np.int64)
            keys: list[Any] = classes.astype(np.int64).tolist()
        else:
            pipeline_values = np.asarray([str(v) for v in values.tolist()], dtype=object)
            keys = [str(c) for c in classes.tolist()]
            if len(set(keys)) != len(keys):
                raise ValueError(
                    "Unknown label type: two different labels of y have the same text "
                    f"({', '.join(keys)}); give them one type"
                )
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes, but y has only one class: "
                f"`{classes[0]}`"
            )
        self.classes_ = classes
        self._keys = keys
        return pipeline_values

    def fit(self, X: Any, y: Any) -> Classifier:
        """Fits the pipeline on every row of ``X`` with labels ``y``; returns ``self``."""
        self._fit(X, y)
        position = {k: i for i, k in enumerate(self._keys)}
        # The pipeline orders text labels as their text, `classes_` as their original type.
        self._to_classes = np.asarray(
            [position[label] for label in self.pipeline_.classes], dtype=np.int64
        )
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The predicted label of each row, as values of ``classes_``."""
        features = self._features(X)
        labels = np.asarray(self.pipeline_.predict(features))
        if labels.shape[0] == 0:
            return self.classes_[:0]
        uniques, inverse = np.unique(labels, return_inverse=True)
        pipeline_index = {label: i for i, label in enumerate(self.pipeline_.classes)}
        mapped = self._to_classes[[pipeline_index[u] for u in uniques.tolist()]]
        return np.asarray(self.classes_[mapped[inverse.ravel()]])

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, rows × ``classes_`` (in that order)."""
        features = self._features(X)
        proba = np.asarray(self.pipeline_.predict_proba(features), dtype=np.float64)
        out = np.empty_like(proba)
        out[:, self._to_classes] = proba
        return out


class Regressor(_RegressorBase, _Estimator, _Base):  # type: ignore[misc]
    """A tabship regression pipeline as a scikit-learn regressor.

    ``Regressor(model="random-forest").fit(X, y)`` fits with :func:`tabship.train`
    (``task="regression"``) and keeps the fitted :class:`tabship.Pipeline` as ``pipeline_``.
    ``X`` is read as :class:`Classifier` reads it; ``y`` holds one number per row.

    Parameters: every option of :func:`tabship.train` with its default, except
    ``test_fraction`` (0: ``fit`` learns from every row) and ``task`` / ``cv``.
    """

    _task = "regression"

    if TYPE_CHECKING:
        # Made by scikit-learn's metadata routing for `score(..., sample_weight)` (present
        # only when scikit-learn is installed).
        def set_score_request(self, *, sample_weight: bool | None | str = ...) -> Regressor: ...

    def _prepare_target(self, values: np.ndarray) -> np.ndarray:
        try:
            numbers = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                "a regression target needs numbers: y holds values that are not numbers"
            ) from None
        if np.isnan(numbers).any():
            raise ValueError("Input y contains NaN: every row needs a target value")
        if not np.all(np.isfinite(numbers)):
            raise ValueError("Input y contains infinity")
        return numbers

    def fit(self, X: Any, y: Any) -> Regressor:
        """Fits the pipeline on every row of ``X`` with targets ``y``; returns ``self``."""
        return self._fit(X, y)  # type: ignore[no-any-return]

    def predict(self, X: Any) -> np.ndarray:
        """The predicted value of each row (float64)."""
        features = self._features(X)
        return np.asarray(self.pipeline_.predict(features), dtype=np.float64)
