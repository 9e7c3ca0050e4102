"""tabship: a trained tabular model as one versioned, checksummed artifact.

Load a ``.tabship`` file (written by this package, the ``tabship`` CLI or the Rust library) and
predict from a dict, a list of dicts, a pandas DataFrame, a pyarrow Table or a numpy array, with
exactly the numbers the Rust server gives; or fit one with :func:`train`::

    import tabship
    pipeline = tabship.train("iris.csv", target="species")
    pipeline.predict({"sepal_length": 5.1, "sepal_width": 3.5,
                      "petal_length": 1.4, "petal_width": 0.2})   # 'setosa'
    pipeline.save("iris.tabship")
"""

from __future__ import annotations

import sys

from ._errors import ArtifactError, OptionError, SchemaError, TabshipError, TrainingError
from ._tabship import Pipeline, __version__, _register_missing
from ._train import train

__all__ = [
    "ArtifactError",
    "OptionError",
    "Pipeline",
    "SchemaError",
    "TabshipError",
    "TrainingError",
    "__version__",
    "train",
]


def _pipeline_from_bytes(data: bytes) -> Pipeline:
    """Unpickles a :class:`Pipeline` (its ``__reduce__`` hands over the artifact bytes)."""
    return Pipeline.from_bytes(data)


def _register_pandas_missing() -> None:
    """Lets ``pandas.NA`` and ``pandas.NaT`` count as missing values in records."""
    try:
        import pandas
    except ImportError:  # pragma: no cover - pandas is optional
        return
    _register_missing((pandas.NA, pandas.NaT))


if "pandas" in sys.modules:
    _register_pandas_missing()
else:
    # Importing pandas costs ~0.3 s; register its missing values only if it is installed, lazily
    # on first need is not possible from Rust, so pay it only when pandas is importable.
    import importlib.util

    if importlib.util.find_spec("pandas") is not None:
        _register_pandas_missing()
