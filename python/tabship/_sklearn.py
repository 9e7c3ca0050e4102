"""``tabship.from_sklearn``: a fitted scikit-learn estimator or ``Pipeline`` as a tabship
pipeline that predicts exactly what scikit-learn predicts.

Only fitted attributes are read (``tree_``, ``categories_``, ``mean_``, ...), never pickles. The
pipeline's parts are written in the core's own serde forms (schema, column encoders, a tree
ensemble) and handed as JSON to the extension, which validates them exactly as an artifact load
validates them. Whatever tabship cannot reproduce bit for bit is refused with a
:class:`ModelImportError` naming the step and the parameter.

The rules followed (scikit-learn 1.9):

- Trees and forests compare ``float32(x) <= threshold`` (X is cast to ``float32``, the threshold
  stays ``float64``): ``features_f32``. A classifier's leaf holds ``value / value.sum()`` as
  ``predict_proba`` normalises it (``tree_.value`` holds fractions since 1.4.1); a forest sums
  the trees' outputs in tree order from zero and divides by the number of trees.
- ``GradientBoosting*``: ``float32`` X, leaves ``learning_rate * value``, summed in stage order
  from the ``init_`` estimator's raw prediction.
- ``HistGradientBoosting*``: ``float64`` X, ``x <= num_threshold``, leaves summed in iteration
  order from ``_baseline_prediction``. Native categorical features (``from_dtype``) are the
  model's own ordinal codes; a categorical node sends its ``raw_left_cat_bitsets`` codes left,
  and NaN and unknown categories to its missing side (see ``_hist_tree``).
- Per-class baselines (multi-class boosting) become one single-leaf tree per class in front
  (``0.0 + b == b`` exactly), so the stored base score is 0.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import os
from collections.abc import Sequence
from typing import Any

from ._errors import ModelImportError
from ._tabship import Pipeline, __version__, _from_parts_json

LEAF = 0xFFFF_FFFF


def _refuse(step: str, parameter: str | None, why: str) -> ModelImportError:
    where = f"`{step}`" + (f" parameter `{parameter}`" if parameter else "")
    return ModelImportError(f"{where}: {why}", step=step, parameter=parameter)


def _np() -> Any:
    import numpy

    return numpy


# --------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------


def _reference_frame(reference: Any, names: Sequence[str] | None) -> Any:
    """The reference rows as a pandas DataFrame with the estimator's input column names."""
    import pandas as pd

    if isinstance(reference, (str, os.PathLike)):
        return pd.read_csv(reference)
    if isinstance(reference, pd.DataFrame):
        return reference
    array = _np().asarray(reference)
    if array.ndim != 2:
        raise _refuse("reference", None, "expected a DataFrame, a CSV path or a 2-D array")
    columns = list(names) if names is not None else [f"x{i}" for i in range(array.shape[1])]
    if len(columns) != array.shape[1]:
        raise _refuse(
            "reference",
            None,
            f"{array.shape[1]} columns for the estimator's {len(columns)} features",
        )
    return pd.DataFrame(array, columns=columns)


def reference_csv(frame: Any) -> bytes:
    """CSV bytes of ``frame`` (floats as their shortest round-trip text, missing as empty)."""
    text: str = frame.to_csv(index=False)
    return text.encode("utf-8")


# --------------------------------------------------------------------------------------------
# Columns: what each input column becomes (the core's column encoders)
# --------------------------------------------------------------------------------------------


class _Column:
    """One schema column and its encoder spec, in the model's feature order."""

    def __init__(self, name: str, kind: str, encoder: dict[str, Any]) -> None:
        self.name = name
        self.kind = kind
        self.encoder = encoder


def _numeric(
    name: str,
    strategy: str = "nan",
    value: float = 0.0,
    indicator: bool = False,
    scaling: tuple[float, float] | None = None,
) -> _Column:
    spec: dict[str, Any] = {
        "type": "numeric",
        "imputation": {"strategy": strategy, "value": float(value)},
        "missing_indicator": indicator,
        "scaling": None if scaling is None else {"mean": scaling[0], "scale": scaling[1]},
    }
    return _Column(name, "numeric", spec)


def _category_text(step: str, value: Any) -> str:
    np = _np()
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        raise _refuse(step, "categories_", f"boolean category {value!r}")
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    raise _refuse(
        step,
        "categories_",
        f"category {value!r} of type {type(value).__name__} (text and integer categories only)",
    )


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _split_categories(step: str, cats: Any, infrequent: Any) -> tuple[list[str], list[str], bool]:
    """(frequent categories in scikit-learn's order, infrequent ones, whether a missing category
    was learnt)."""
    values = list(cats)
    has_missing = any(_is_missing(v) for v in values)
    if has_missing and not _is_missing(values[-1]):
        raise _refuse(step, "categories_", "a missing category that is not the last one")
    rare = [] if infrequent is None else list(infrequent)
    if any(_is_missing(v) for v in rare):
        raise _refuse(step, "min_frequency", "the missing value is an infrequent category")
    rare_text = [_category_text(step, v) for v in rare]
    frequent = [
        _category_text(step, v)
        for v in values
        if not _is_missing(v) and _category_text(step, v) not in rare_text
    ]
    return frequent, rare_text, has_missing


def _one_hot(step: str, encoder: Any, columns: list[str], trees: bool) -> list[_Column]:
    np = _np()
    if not trees and np.dtype(encoder.dtype) != np.float64:
        # A linear model multiplies the encoded values: float32 ones would change its sums.
        raise _refuse(step, "dtype", f"{encoder.dtype} before a linear model (only float64)")
    if encoder.drop is not None:
        raise _refuse(step, "drop", f"{encoder.drop!r} (only drop=None keeps every category)")
    infrequent = getattr(encoder, "infrequent_categories_", [None] * len(columns))
    out = []
    for i, name in enumerate(columns):
        frequent, rare, has_missing = _split_categories(
            step, encoder.categories_[i], infrequent[i]
        )
        if has_missing and rare:
            # scikit-learn puts the missing category before the infrequent column; tabship's
            # Other slot comes before its Missing slot.
            raise _refuse(step, "min_frequency", f"column `{name}` has both a missing and an infrequent category")
        spec = {
            "type": "categorical",
            "encoding": "one_hot",
            "categories": frequent,
            "other_categories": sorted(rare),
            "missing": "slot",
            "missing_slot": has_missing,
            "fill_category": None,
        }
        out.append(_Column(name, "categorical", spec))
    return out


def _ordinal(step: str, encoder: Any, columns: list[str], trees: bool) -> list[_Column]:
    np = _np()
    if encoder.handle_unknown == "use_encoded_value" and encoder.unknown_value != -1:
        raise _refuse(step, "unknown_value", f"{encoder.unknown_value!r} (tabship codes an unknown category -1)")
    missing_code = encoder.encoded_missing_value
    if not (isinstance(missing_code, float) and math.isnan(missing_code)):
        raise _refuse(step, "encoded_missing_value", f"{missing_code!r} (only NaN)")
    if not trees:
        raise _refuse(step, "encoded_missing_value", "NaN codes reach only tree models")
    if np.dtype(encoder.dtype) != np.float64:
        raise _refuse(step, "dtype", f"{encoder.dtype} (only float64)")
    infrequent = getattr(encoder, "infrequent_categories_", [None] * len(columns))
    out = []
    for i, name in enumerate(columns):
        frequent, rare, has_missing = _split_categories(
            step, encoder.categories_[i], infrequent[i]
        )
        if not has_missing and encoder.handle_unknown == "use_encoded_value":
            # scikit-learn codes a missing value it never saw as unknown (-1), tabship's ordinal
            # columns pass it as NaN for the trees to route.
            raise _refuse(
                step,
                "handle_unknown",
                f"column `{name}` saw no missing value in fit, so scikit-learn codes one as "
                "unknown_value while tabship passes NaN (use handle_unknown='error', or fit "
                "with missing values)",
            )
        spec = {
            "type": "categorical",
            "encoding": "ordinal",
            "categories": frequent,
            "other_categories": sorted(rare),
            "missing": "nan",
            "missing_slot": False,
            "fill_category": None,
        }
        out.append(_Column(name, "categorical", spec))
    return out


def _numeric_chain(step: str, chain: list[tuple[str, Any]], columns: list[str], trees: bool) -> list[_Column]:
    """A chain of numeric steps (``SimpleImputer``, ``StandardScaler``, ``'passthrough'``) applied
    to each column."""
    np = _np()
    n = len(columns)
    strategy = ["nan" if trees else "median"] * n
    fill = [0.0] * n
    indicator = [False] * n
    scaling: list[tuple[float, float] | None] = [None] * n
    imputed = False
    for name, est in chain:
        kind = type(est).__name__
        if est == "passthrough" or est is None:
            continue
        if kind == "FunctionTransformer" and est.func is None:
            continue  # the identity a fitted ColumnTransformer puts for 'passthrough'
        if kind == "SimpleImputer":
            if imputed or any(s is not None for s in scaling):
                raise _refuse(name, None, "an imputer after another imputer or a scaler")
            if not (isinstance(est.missing_values, float) and math.isnan(est.missing_values)):
                raise _refuse(name, "missing_values", f"{est.missing_values!r} (only NaN)")
            if est.strategy not in ("mean", "median", "constant", "most_frequent"):
                raise _refuse(name, "strategy", repr(est.strategy))
            stats = np.asarray(est.statistics_, dtype=np.float64)
            if len(stats) != n:
                raise _refuse(name, "keep_empty_features", "a column was dropped (all missing)")
            if est.add_indicator:
                features = list(est.indicator_.features_)
                if n != 1 or features != [0]:
                    # scikit-learn appends the indicators after all imputed columns; tabship
                    # emits each column's indicator right after its value.
                    raise _refuse(name, "add_indicator", "only on a single column that had missing values")
                indicator = [True]
            for i in range(n):
                strategy[i] = "constant" if est.strategy in ("constant", "most_frequent") else est.strategy
                fill[i] = float(stats[i])
            imputed = True
        elif kind == "StandardScaler":
            if any(s is not None for s in scaling):
                raise _refuse(name, None, "two scalers")
            if indicator[0] if indicator else False:
                raise _refuse(name, None, "a scaler after a missing indicator")
            mean = est.mean_ if est.with_mean else None
            scale = est.scale_ if est.with_std else None
            for i in range(n):
                scaling[i] = (
                    0.0 if mean is None else float(mean[i]),
                    1.0 if scale is None else float(scale[i]),
                )
        else:
            parameter = "feature_range" if kind == "MinMaxScaler" else None
            why = (
                "MinMaxScaler computes x * scale_ + min_, which tabship's (x - mean) / scale "
                "does not reproduce bit for bit"
                if kind == "MinMaxScaler"
                else f"{kind} is not supported in a numeric column"
            )
            raise _refuse(name, parameter, why)
    if not trees and not imputed:
        for i in range(n):
            strategy[i] = "median"
    return [
        _numeric(columns[i], strategy[i], fill[i], indicator[i], scaling[i]) for i in range(n)
    ]


def _steps_of(name: str, transformer: Any) -> list[tuple[str, Any]]:
    if type(transformer).__name__ == "Pipeline":
        return [(f"{name}.{n}", t) for n, t in transformer.steps]
    return [(name, transformer)]


def _transformer_columns(
    name: str, transformer: Any, columns: list[str], trees: bool
) -> list[_Column]:
    steps = _steps_of(name, transformer)
    encoders = [(n, t) for n, t in steps if type(t).__name__ in ("OneHotEncoder", "OrdinalEncoder")]
    if encoders:
        if len(steps) != 1:
            raise _refuse(steps[0][0], None, "a categorical encoder must be the only step of its columns")
        step, enc = encoders[0]
        if type(enc).__name__ == "OneHotEncoder":
            return _one_hot(step, enc, columns, trees)
        return _ordinal(step, enc, columns, trees)
    return _numeric_chain(name, steps, columns, trees)


def _column_names(ct: Any, columns: Any, inputs: list[str]) -> list[str]:
    np = _np()
    if isinstance(columns, slice) or callable(columns):
        raise _refuse(type(ct).__name__, "transformers", "column selectors other than lists")
    cols = list(np.atleast_1d(columns))
    out = []
    for c in cols:
        if isinstance(c, (bool, np.bool_)):
            raise _refuse(type(ct).__name__, "transformers", "boolean column masks")
        if isinstance(c, (int, np.integer)):
            out.append(inputs[int(c)])
        else:
            out.append(str(c))
    return out


def _preprocessing(steps: list[tuple[str, Any]], inputs: list[str], trees: bool) -> list[_Column]:
    """The columns produced by a ``Pipeline``'s steps before the model."""
    if not steps:
        return [_numeric(c, "nan" if trees else "median") for c in inputs]
    if len(steps) == 1 and type(steps[0][1]).__name__ == "ColumnTransformer":
        name, ct = steps[0]
        # Sparse output (one-hot columns stored sparse): trees read a missing entry as 0.0 as
        # tabship's encoders emit it; scipy's CSR product sums the stored entries in column
        # order as tabship's sparse dot product does. Tested in tests/test_import_parity.py.
        out: list[_Column] = []
        seen: set[str] = set()
        for tname, transformer, columns in ct.transformers_:
            if transformer == "drop":
                continue
            names = _column_names(ct, columns, inputs)
            if not names:
                continue
            for c in names:
                if c in seen:
                    raise _refuse(f"{name}.{tname}", None, f"column `{c}` feeds two transformers")
                seen.add(c)
            if transformer == "passthrough":
                out.extend(_numeric(c, "nan" if trees else "median") for c in names)
            else:
                out.extend(_transformer_columns(f"{name}.{tname}", transformer, names, trees))
        return out
    if any(type(t).__name__ in ("ColumnTransformer", "OneHotEncoder", "OrdinalEncoder") for _, t in steps):
        raise _refuse(steps[0][0], None, "a ColumnTransformer must be the only step before the model")
    return _numeric_chain("pipeline", steps, inputs, trees)


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------

_FORESTS = {
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
    "ExtraTreeClassifier",
    "ExtraTreeRegressor",
    "RandomForestClassifier",
    "RandomForestRegressor",
    "ExtraTreesClassifier",
    "ExtraTreesRegressor",
}
_BOOSTING = {"GradientBoostingClassifier", "GradientBoostingRegressor"}
_HIST = {"HistGradientBoostingClassifier", "HistGradientBoostingRegressor"}


def _sk_tree(step: str, tree: Any, leaf_values: Any, leaf_class: Any | None) -> dict[str, Any]:
    """A scikit-learn ``tree_`` in tabship's layout; ``leaf_values[node]`` is a leaf's row."""
    np = _np()
    left = np.asarray(tree.children_left)
    right = np.asarray(tree.children_right)
    n = len(left)
    is_leaf = left == -1
    leaves = np.flatnonzero(is_leaf)
    leaf_row = np.full(n, 0, dtype=np.int64)
    leaf_row[leaves] = np.arange(len(leaves))
    out_left = np.where(is_leaf, LEAF, left).astype(np.int64)
    out_right = np.where(is_leaf, leaf_row, right).astype(np.int64)
    feature = np.where(is_leaf, 0, tree.feature).astype(np.int64)
    threshold = np.where(is_leaf, 0.0, tree.threshold)
    # A split of the missing values alone has threshold +inf (every number goes left): the
    # largest float64 sends every finite value left alike (tabship refuses infinite input).
    threshold = np.where(threshold == np.inf, np.finfo(np.float64).max, threshold)
    if not np.all(np.isfinite(threshold)):
        raise _refuse(step, "tree_", "a threshold that is not finite")
    missing = getattr(tree, "missing_go_to_left", None)
    spec: dict[str, Any] = {
        "feature": feature.tolist(),
        "threshold": threshold.tolist(),
        "left": out_left.tolist(),
        "right": out_right.tolist(),
        "leaf_values": np.asarray(leaf_values[leaves]).ravel().tolist(),
    }
    if leaf_class is not None:
        spec["leaf_class"] = np.asarray(leaf_class[leaves]).tolist()
    if missing is not None:
        m = np.where(is_leaf, 0, np.asarray(missing)).astype(np.int64)
        if m.any():
            spec["missing_left"] = m.tolist()
    if n and np.any(left[~is_leaf] <= np.flatnonzero(~is_leaf)):
        raise _refuse(step, "tree_", "a child numbered before its parent")
    return spec


def _check_tree_estimator(step: str, est: Any) -> None:
    if getattr(est, "n_outputs_", 1) != 1:
        raise _refuse(step, "n_outputs_", "multi-output models")
    if getattr(est, "categorical_features", None) is not None:
        raise _refuse(step, "categorical_features", "categorical splits of scikit-learn trees")


def _tree_estimators(step: str, model: Any) -> list[Any]:
    name = type(model).__name__
    if name.startswith(("DecisionTree", "ExtraTree")) and not name.startswith("ExtraTrees"):
        return [model]
    return list(model.estimators_)


def _forest(step: str, model: Any, classifier: bool) -> dict[str, Any]:
    np = _np()
    trees = []
    estimators = _tree_estimators(step, model)
    for est in estimators:
        _check_tree_estimator(step, est)
        t = est.tree_
        value = np.asarray(t.value)[:, 0, :]
        if classifier:
            # predict_proba returns `tree_.value` itself (fractions since 1.4.1); predict takes
            # its argmax.
            trees.append(_sk_tree(step, t, value, np.argmax(value, axis=1)))
        else:
            trees.append(_sk_tree(step, t, value[:, 0], None))
    # predict is argmax(predict_proba): the mean probabilities' first highest class.
    return {
        "trees": trees,
        "combination": {"type": "average"},
        "features_f32": True,
        "soft_vote": classifier,
    }


def _constant_tree(value: float) -> dict[str, Any]:
    return {"feature": [0], "threshold": [0.0], "left": [LEAF], "right": [0], "leaf_values": [value]}


def _no_softmax(step: str, k: int) -> None:
    if k > 1:
        # scikit-learn's softmax (sklearn.utils.extmath.softmax) calls numpy's exp, whose SIMD
        # kernels round differently from the C library's exp in the last bit (measured: 4.6 %
        # of values on an AVX-512 machine) and per CPU: not reproducible bit for bit.
        raise _refuse(
            step,
            "n_classes_",
            f"{k} classes: scikit-learn's softmax uses numpy's SIMD exp, which tabship cannot "
            "reproduce bit for bit (binary classifiers and regressors are supported)",
        )


def _sum_model(trees: list[dict[str, Any]], baseline: Any, link: str, f32: bool) -> dict[str, Any]:
    np = _np()
    base = np.asarray(baseline, dtype=np.float64).ravel()
    if link == "softmax":
        front = [_constant_tree(float(b)) for b in base]
        return {
            "trees": front + trees,
            "combination": {"type": "sum", "base_score": 0.0, "link": link},
            "features_f32": f32,
        }
    return {
        "trees": trees,
        "combination": {"type": "sum", "base_score": float(base[0]), "link": link},
        "features_f32": f32,
    }


def _gradient_boosting(step: str, model: Any, classifier: bool, reference: Any) -> dict[str, Any]:
    np = _np()
    loss = model.loss
    if classifier and loss != "log_loss":
        raise _refuse(step, "loss", f"{loss!r} (only 'log_loss')")
    if model.init not in (None, "zero"):
        raise _refuse(step, "init", "an init estimator other than the default or 'zero'")
    stages = model.estimators_
    k = stages.shape[1]
    if classifier:
        _no_softmax(step, k)
    link = "identity" if not classifier else ("logistic" if k == 1 else "softmax")
    lr = float(model.learning_rate)
    trees = []
    for stage in range(stages.shape[0]):
        for c in range(k):
            est = stages[stage, c]
            _check_tree_estimator(step, est)
            value = np.asarray(est.tree_.value)[:, 0, 0]
            # predict_stages adds `learning_rate * value` (one product, then the sum).
            trees.append(_sk_tree(step, est.tree_, lr * value, None))
    x0 = np.asarray(reference, dtype=np.float32)[:1]
    baseline = model._raw_predict_init(x0)[0]
    return _sum_model(trees, baseline, link, f32=True)


def _hist_tree(step: str, predictor: Any, n_categories: dict[int, int]) -> dict[str, Any]:
    """One HistGradientBoosting tree. A categorical node lists the codes its
    ``raw_left_cat_bitsets`` row sends left; scikit-learn sends NaN, and a category unknown to
    it (which its encoder makes NaN, tabship's makes -1), to the missing side. So a node whose
    missing side is left lists the other known codes instead, as going right: -1 is then
    unlisted and goes left too."""
    np = _np()
    nodes = predictor.nodes
    is_leaf = nodes["is_leaf"].astype(bool)
    n = len(nodes)
    leaves = np.flatnonzero(is_leaf)
    leaf_row = np.zeros(n, dtype=np.int64)
    leaf_row[leaves] = np.arange(len(leaves))
    left = nodes["left"].astype(np.int64)
    right = nodes["right"].astype(np.int64)
    inner = np.flatnonzero(~is_leaf)
    if np.any(left[inner] <= inner) or np.any(right[inner] <= inner):
        raise _refuse(step, "_predictors", "a child numbered before its parent")
    missing = np.where(is_leaf, 0, nodes["missing_go_to_left"]).astype(np.int64)
    threshold = np.where(is_leaf, 0.0, nodes["num_threshold"])
    # +inf: every number goes left, only missing values may go right (see `_sk_tree`).
    threshold = np.where(threshold == np.inf, np.finfo(np.float64).max, threshold)
    categorical = (nodes["is_categorical"] != 0) & ~is_leaf
    threshold = np.where(categorical, 0.0, threshold)
    if not np.all(np.isfinite(threshold)):
        raise _refuse(step, "_predictors", "a threshold that is not finite")
    spec: dict[str, Any] = {
        "feature": np.where(is_leaf, 0, nodes["feature_idx"]).astype(np.int64).tolist(),
        "threshold": threshold.tolist(),
        "left": np.where(is_leaf, LEAF, left).tolist(),
        "right": np.where(is_leaf, leaf_row, right).tolist(),
        "leaf_values": nodes["value"][leaves].astype(np.float64).tolist(),
    }
    if missing.any():
        spec["missing_left"] = missing.tolist()
    if categorical.any():
        kinds = [0] * n
        offsets = [0]
        words: list[int] = []
        bitsets = np.asarray(predictor.raw_left_cat_bitsets, dtype=np.uint32)
        for i in range(n):
            if categorical[i]:
                feature = int(nodes["feature_idx"][i])
                k = n_categories.get(feature)
                if k is None:
                    raise _refuse(step, "categorical_features", f"feature {feature} is not a known categorical")
                row = [int(w) for w in bitsets[int(nodes["bitset_idx"][i])]]
                listed = [c for c in range(len(row) * 32) if (row[c // 32] >> (c % 32)) & 1]
                if missing[i]:
                    kinds[i] = 2  # listed right
                    chosen = [c for c in range(k) if c not in set(listed)]
                else:
                    kinds[i] = 1  # listed left
                    chosen = listed
                node_words = [0] * ((k + 31) // 32 or 1)
                for c in chosen:
                    if c >= k:
                        raise _refuse(step, "_predictors", f"category code {c} of {k} categories")
                    node_words[c // 32] |= 1 << (c % 32)
                words += node_words
            offsets.append(len(words))
        spec["categorical"] = kinds
        spec["category_offsets"] = offsets
        spec["category_bits"] = words
    return spec


def _hist_columns(step: str, model: Any) -> tuple[list[_Column], dict[int, int]]:
    """The columns of a HistGradientBoosting model with categorical features, in the order its
    own preprocessor feeds the trees (categorical columns first, as ordinal codes, then the
    numeric ones), and the number of categories of each categorical feature."""
    np = _np()
    pre = model._preprocessor
    names = [str(c) for c in pre.feature_names_in_]
    mask = np.asarray(model.is_categorical_, dtype=bool)
    encoder = pre.named_transformers_["encoder"]
    cats = [c for c, m in zip(names, mask) if m]
    nums = [c for c, m in zip(names, mask) if not m]
    columns = []
    counts: dict[int, int] = {}
    for i, name in enumerate(cats):
        frequent, rare, _ = _split_categories(f"{step}._preprocessor", encoder.categories_[i], None)
        if rare:
            raise _refuse(step, "categorical_features", "infrequent categories")
        counts[i] = len(frequent)
        columns.append(
            _Column(
                name,
                "categorical",
                {
                    "type": "categorical",
                    "encoding": "ordinal",
                    "categories": frequent,
                    "other_categories": [],
                    "missing": "nan",
                    "missing_slot": False,
                    "fill_category": None,
                },
            )
        )
    columns += [_numeric(c) for c in nums]
    return columns, counts


def _hist_gradient_boosting(step: str, model: Any, classifier: bool) -> dict[str, Any]:
    k = model.n_trees_per_iteration_
    if classifier:
        _no_softmax(step, k)
        link = "logistic"
    else:
        if model.loss not in ("squared_error", "absolute_error", "quantile"):
            raise _refuse(step, "loss", f"{model.loss!r} (its inverse link is not reproduced)")
        link = "identity"
    counts: dict[int, int] = {}
    if getattr(model, "_preprocessor", None) is not None:
        _, counts = _hist_columns(step, model)
    trees = [_hist_tree(step, p, counts) for iteration in model._predictors for p in iteration]
    return _sum_model(trees, model._baseline_prediction, link, f32=False)


_LINEAR = {"LinearRegression", "Ridge", "Lasso", "ElasticNet"}


def _linear(step: str, model: Any) -> tuple[dict[str, Any], bool]:
    """Linear models: tabship's sequential dot product in feature order, then the intercept."""
    np = _np()
    name = type(model).__name__
    coef = np.asarray(model.coef_, dtype=np.float64)
    if name == "LogisticRegression":
        if coef.shape[0] > 1 and len(model.classes_) == 2:
            raise _refuse(step, "coef_", "two coefficient rows for two classes")
        return {
            "type": "logistic_regression",
            "coefficients": coef.tolist(),
            "intercepts": np.atleast_1d(np.asarray(model.intercept_, dtype=np.float64)).tolist(),
        }, True
    if coef.ndim != 1:
        raise _refuse(step, "coef_", "multi-output regression")
    return {
        "type": "linear_regression",
        "coefficients": coef.tolist(),
        "intercept": float(model.intercept_),
    }, False


def _model(step: str, model: Any, reference: Any) -> tuple[dict[str, Any], bool]:
    """The model's serde form and whether it is a classifier."""
    name = type(model).__name__
    if name in _LINEAR or name == "LogisticRegression":
        return _linear(step, model)
    classifier = name.endswith("Classifier")
    if name in _FORESTS:
        return _forest(step, model, classifier), classifier
    if name in _BOOSTING:
        return _gradient_boosting(step, model, classifier, reference), classifier
    if name in _HIST:
        return _hist_gradient_boosting(step, model, classifier), classifier
    raise _refuse(
        step, None, f"{name} is not supported (linear models, trees, forests and gradient boosting)"
    )


def _classes(step: str, model: Any) -> list[Any]:
    np = _np()
    out: list[Any] = []
    for c in model.classes_:
        if isinstance(c, (bool, np.bool_)):
            raise _refuse(step, "classes_", "boolean class labels")
        if isinstance(c, (int, np.integer)):
            out.append(int(c))
        elif isinstance(c, str):
            out.append(c)
        else:
            raise _refuse(step, "classes_", f"class label {c!r} (text and integer labels only)")
    return out


_LINEAR_NAMES = frozenset({"LinearRegression", "Ridge", "Lasso", "ElasticNet", "LogisticRegression"})


def from_sklearn(
    estimator: Any,
    reference: Any,
    *,
    target: str | None = None,
    name: str | None = None,
    version: str = "1",
    exact: bool = True,
) -> Pipeline:
    """A fitted scikit-learn estimator or ``Pipeline`` as a tabship :class:`Pipeline` that
    predicts exactly what scikit-learn predicts (``predict`` and ``predict_proba``, bit for bit).

    ``reference`` is the training rows (a DataFrame of the estimator's input columns, a CSV
    path, or a 2-D array for an estimator fitted without column names, whose columns are then
    ``x0``, ``x1``, ...): they give the schema and the drift profile. ``target`` is only
    recorded. Only fitted attributes are read, never pickles.

    Supported: ``DecisionTree*``, ``ExtraTree*``, ``RandomForest*``, ``ExtraTrees*``,
    ``GradientBoosting*`` (``log_loss``), ``HistGradientBoosting*``
    (native categorical features included); as steps before them, one ``ColumnTransformer`` with ``OneHotEncoder``
    (``handle_unknown='ignore'`` → the Unknown slot; infrequent categories → the Other slot),
    ``OrdinalEncoder``, ``SimpleImputer`` and ``StandardScaler`` (or those numeric steps on every
    column); ``LinearRegression``, ``Ridge``, ``Lasso``, ``ElasticNet`` and ``LogisticRegression``
    (see below). Anything else raises :class:`ModelImportError` naming the step and the parameter;
    so do multi-class boosting classifiers (scikit-learn's softmax calls numpy's SIMD ``exp``, which rounds differently from
    the C library's in the last bit).

    One edge of binary boosting labels is not reproduced: scikit-learn decides on the margin
    (``GradientBoostingClassifier``: ``margin >= 0``; ``HistGradientBoosting``: ``margin > 0``),
    tabship on the probability (``p > 0.5``), so a margin of exactly 0 (GradientBoosting) or
    within about 1.1e-16 above it (both) is class 1 in scikit-learn and class 0 here; the
    probabilities are equal bit for bit there too.

    Linear models are **not** bit for bit in general, so they are refused unless the caller
    accepts the measured difference with ``exact=False``: on dense input scikit-learn's
    ``X @ coef_`` goes through BLAS, whose summation order (blocked, fused multiply-add) differs
    from tabship's sequential dot product, and its logistic and softmax links are SciPy's
    ``expit`` and numpy's ``exp``. The test suite (``tests/test_import_parity.py``) measures the
    difference on the repository's datasets: dense, regressions within 768 units in the last
    place (where terms of thousands cancel to a value near zero; max absolute difference
    1.4e-12), probabilities within 64, labels equal, 57 to 94 % of the values bit-identical.
    With a sparse ``ColumnTransformer`` output scipy's CSR product sums the stored entries in
    column order as tabship does: regressions were bit-identical (diamonds, 1,500 rows), binary
    probabilities within 2 ulps (the link), multi-class ones within 30 (numpy's ``exp``).
    """
    if type(estimator).__name__ == "Pipeline":
        steps = [(n, t) for n, t in estimator.steps if t not in (None, "passthrough")]
        if not steps:
            raise _refuse("Pipeline", "steps", "no model")
        (model_step, model), before = steps[-1], steps[:-1]
    else:
        model_step, model, before = type(estimator).__name__, estimator, []
    if not hasattr(model, "n_features_in_") and not hasattr(estimator, "n_features_in_"):
        raise _refuse(model_step, None, "the estimator is not fitted")
    inputs_attr = getattr(estimator, "feature_names_in_", None)
    inputs = None if inputs_attr is None else [str(c) for c in inputs_attr]
    frame = _reference_frame(reference, inputs)
    if inputs is None:
        inputs = [str(c) for c in frame.columns if c != target]
    trees = type(model).__name__ in _FORESTS | _BOOSTING | _HIST
    if not trees and exact and type(model).__name__ in _LINEAR_NAMES:
        raise _refuse(
            model_step,
            None,
            f"{type(model).__name__} predictions cannot be reproduced bit for bit (scikit-learn's "
            "BLAS sums in another order); pass exact=False to import it within the measured "
            "units in the last place (see from_sklearn's documentation)",
        )
    if getattr(model, "_preprocessor", None) is not None:
        # HistGradientBoosting's own encoder of categorical features.
        if before:
            raise _refuse(model_step, "categorical_features", "native categorical features after other steps")
        columns, _ = _hist_columns(model_step, model)
    else:
        columns = _preprocessing(before, inputs, trees)
    missing_columns = [c.name for c in columns if c.name not in frame.columns]
    if missing_columns:
        raise _refuse("reference", None, f"no column `{missing_columns[0]}`")
    model_input: Any = None
    if type(model).__name__ in _BOOSTING:
        # The init estimator's raw prediction is read off the model's first input row.
        rows = frame[inputs].head(1)
        model_input = estimator[:-1].transform(rows) if before else rows
    model_spec, classifier = _model(model_step, model, model_input)
    width = sum(_width(c) for c in columns)
    if width != model.n_features_in_:
        raise _refuse(model_step, "n_features_in_", f"{model.n_features_in_} features, the steps before give {width}")
    nullable = {c: bool(frame[c].isna().any()) for c in frame.columns}
    parts = {
        "schema": {
            "columns": [
                {"name": c.name, "kind": c.kind, "nullable": nullable.get(c.name, False)}
                for c in columns
            ]
        },
        "encoders": [c.encoder for c in columns],
        "task": "classification" if classifier else "regression",
        "classes": _classes(model_step, model) if classifier else [],
        "model": model_spec,
        "training": _training(estimator, model, frame, columns, target, name, version),
    }
    csv = reference_csv(frame[[c.name for c in columns]])
    return _from_parts_json(json.dumps(parts, allow_nan=False), csv)


def _width(column: _Column) -> int:
    e = column.encoder
    if e["type"] == "numeric":
        return 2 if e["missing_indicator"] else 1
    if e["encoding"] == "ordinal":
        return 1
    return len(e["categories"]) + bool(e["other_categories"]) + bool(e["missing_slot"])


def _training(
    estimator: Any,
    model: Any,
    frame: Any,
    columns: list[_Column],
    target: str | None,
    name: str | None,
    version: str,
) -> dict[str, Any]:
    import sklearn

    params: dict[str, Any] = {"source_library": "scikit-learn", "source_version": sklearn.__version__}
    for key, value in sorted(model.get_params(deep=False).items()):
        if isinstance(value, (bool, int, float, str)) and not (
            isinstance(value, float) and not math.isfinite(value)
        ):
            params[key] = value
    csv = reference_csv(frame[[c.name for c in columns]])
    return {
        "name": name or target or type(model).__name__,
        "version": version,
        "created_at": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "target": target or "",
        "algorithm": f"scikit-learn {type(estimator).__name__}"
        + (f" ({type(model).__name__})" if model is not estimator else ""),
        "hyperparameters": params,
        "data_fingerprint": "sha256:" + hashlib.sha256(csv).hexdigest(),
        "train_rows": int(len(frame)),
        "test_rows": 0,
        "library_version": __version__,
    }
