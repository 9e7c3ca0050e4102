"""tabship: a trained tabular model as one versioned, checksummed artifact.

Load a ``.tabship`` file (written by this package, the ``tabship`` CLI or the Rust library) and
predict from a dict, a list of dicts, a pandas DataFrame, a pyarrow Table or a numpy array, with
exactly the numbers the Rust server gives; or fit one with :func:`train`::

    import tabship
    pipeline = tabship.train("iris.csv", target="species")
    pipeline.predict({"sepal_length": 5.1, "sepal_width": 3.5,
                      "petal_length": 1.4, "petal_width": 0.2})   # 'setosa'
    pipeline.save("iris.tabship")

scikit-learn's estimator conventions (``fit``/``predict``/``score``, ``clone``,
``GridSearchCV``): :class:`Classifier` and :class:`Regressor`, whose parameters are
:func:`train`'s options (imported on first use; scikit-learn is optional).

Drift of live data against the training distribution stored in the artifact:
``pipeline.drift(live_df)``; monitors, detectors and statistics on arrays in :mod:`tabship.drift`.

Models trained elsewhere, imported exactly (predictions equal the source library's bit for bit,
or a :class:`ModelImportError`): :func:`from_sklearn`, :func:`from_xgboost`,
:func:`from_lightgbm`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import drift
from ._errors import (
    ArtifactError,
    ExportError,
    ModelImportError,
    NoDriftProfileError,
    OptionError,
    SchemaError,
    TabshipError,
    TrainingError,
)
from ._tabship import DEFAULT_NA_VALUES, Pipeline, __version__
from ._import import from_lightgbm, from_xgboost
from ._sklearn import from_sklearn
from ._train import retrain, train

if TYPE_CHECKING:
    from ._estimators import Classifier, Regressor

__all__ = [
    "ArtifactError",
    "Classifier",
    "DEFAULT_NA_VALUES",
    "ExportError",
    "ModelImportError",
    "NoDriftProfileError",
    "OptionError",
    "Pipeline",
    "Regressor",
    "SchemaError",
    "TabshipError",
    "TrainingError",
    "__version__",
    "drift",
    "from_lightgbm",
    "from_sklearn",
    "from_xgboost",
    "retrain",
    "train",
]


def _pipeline_from_bytes(data: bytes) -> Pipeline:
    """Unpickles a :class:`Pipeline` (its ``__reduce__`` hands over the artifact bytes)."""
    return Pipeline.from_bytes(data)


def __getattr__(name: str) -> Any:
    """``Classifier`` and ``Regressor``, imported on first use (their module imports
    scikit-learn when it is installed, which ``import tabship`` alone should not)."""
    if name in ("Classifier", "Regressor"):
        from . import _estimators

        return getattr(_estimators, name)
    raise AttributeError(f"module 'tabship' has no attribute {name!r}")
