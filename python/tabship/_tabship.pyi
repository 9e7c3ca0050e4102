"""Type stubs of the Rust extension module ``tabship._tabship`` (checked by ``mypy.stubtest``)."""

import os
from typing import TYPE_CHECKING, Any, Final, Self, TypeAlias, final

if TYPE_CHECKING:
    from .drift import ColumnDrift, DriftReport


__all__ = [
    "ADWIN",
    "DEFAULT_NA_VALUES",
    "DDM",
    "ColumnProfile",
    "DriftMonitor",
    "PageHinkley",
    "Pipeline",
    "WindowedAccuracy",
    "WindowedF1",
    "WindowedMae",
    "_chi_square",
    "_from_parts_json",
    "_hellinger",
    "_histogram",
    "_import_model",
    "_jensen_shannon",
    "_kolmogorov_sf",
    "_ks",
    "_number_as_category",
    "_psi",
    "_retrain",
    "_slot_points",
    "_train_columns",
    "_train_csv",
    "_wasserstein",
    "__version__",
]

__version__: Final[str]
DEFAULT_NA_VALUES: Final[tuple[str, ...]]

_Label: TypeAlias = str | int

@final
class Pipeline:
    """A fitted, self-contained prediction pipeline: schema, encoders, model, labels,
    provenance and holdout metrics, loaded from (or saved to) one ``.tabship`` artifact."""

    @staticmethod
    def load(path: str | os.PathLike[str]) -> Pipeline:
        """Loads a ``.tabship`` artifact file."""

    @staticmethod
    def from_bytes(data: bytes | bytearray) -> Pipeline:
        """Reads a pipeline from artifact bytes."""

    def save(self, path: str | os.PathLike[str]) -> None:
        """Saves the artifact atomically."""

    def to_bytes(self) -> bytes:
        """The artifact bytes (deterministic)."""

    def to_onnx(self, path: str | os.PathLike[str] | None = None) -> bytes:
        """The pipeline as an ONNX model (deterministic bytes), also written to ``path`` when
        given. Raises ``tabship.ExportError`` for a part ONNX cannot express exactly."""

    def predict(self, x: Any) -> Any:
        """A label or float for one record (a dict); a numpy array for tabular input (pandas,
        polars, pyarrow, a dict of columns, a list of records, a 2-D array or a list of rows in
        schema order)."""

    def predict_proba(self, x: Any) -> Any:
        """A dict label → probability for one record; a rows × classes array for tabular input
        (the inputs of ``predict``, polars DataFrames and LazyFrames included)."""

    def predict_with_proba(self, x: Any) -> tuple[Any, Any]:
        """``(predict(x), predict_proba(x))`` from one pass over the rows (about half the cost of
        the two calls for a batch), the same values bit for bit; classifiers only."""

    def evaluate(self, data: Any) -> dict[str, Any]:
        """Metrics on labelled data (with the training target column): tabular input as for
        ``predict`` (pandas, polars DataFrame or LazyFrame, pyarrow, ...)."""

    def with_threads(self, threads: int) -> Pipeline:
        """A copy that predicts batches on up to ``threads`` threads."""

    def drift(self, data: Any, **options: Any) -> DriftReport:
        """The drift of live data (tabular input as for ``predict``: pandas, polars DataFrame
        or LazyFrame, pyarrow, ...) against the stored reference profile; ``options`` are the
        fields of the Rust ``DriftOptions`` (``share=0.3``, ``multiple_testing="none"``,
        ``policy={"any_column": True, "unknown_rate": 0.05}``, ...)."""

    def drift_monitor(
        self, window: int | None = None, *, kind: str | None = None, blocks: int | None = None
    ) -> DriftMonitor:
        """A windowed drift monitor over the stored reference profile."""

    @property
    def has_drift_profile(self) -> bool:
        """True when the artifact stores a reference profile."""

    @property
    def drift_profile(self) -> dict[str, Any] | None:
        """The stored reference profile as a dict, or ``None``."""

    @property
    def threads(self) -> int:
        """The number of threads batch prediction may use."""

    @property
    def schema(self) -> dict[str, str]:
        """Column name → ``"numeric"`` or ``"categorical"``, in schema order."""

    @property
    def classes(self) -> list[_Label]:
        """Class labels in probability order; empty for regression."""

    @property
    def decision_threshold(self) -> tuple[str | int, float] | None:
        """``(positive_class, threshold)`` of a binary classifier trained with ``threshold=``,
        else ``None``; every predicted label uses it, probabilities do not change."""

    @property
    def target_transform(self) -> str | None:
        """``"log1p"`` for a regressor trained with ``target_transform="log1p"``, else ``None``."""

    @property
    def task(self) -> str:
        """``"classification"`` or ``"regression"``."""

    @property
    def metadata(self) -> dict[str, Any]:
        """Provenance: name, version, created_at, target, algorithm, hyperparameters, ..."""

    @property
    def metrics(self) -> dict[str, float]:
        """Holdout metrics recorded at training time."""

    @property
    def format_version(self) -> str:
        """The artifact format version, e.g. ``"1.1"``."""

    @property
    def cv_metrics(self) -> dict[str, dict[str, float]] | None:
        """Cross-validation results of ``train(..., cv=k)``, else ``None``."""

    @property
    def feature_names(self) -> list[str]:
        """The model's features after encoding, in order."""

    def encoding_stats(self) -> dict[str, Any]:
        """Unknown/Other/Missing counts per column since load (or the last reset)."""

    def reset_encoding_stats(self) -> None:
        """Sets the encoding counters back to zero."""

    def __reduce__(self) -> tuple[Any, tuple[bytes]]: ...

def _train_csv(path: str | os.PathLike[str], options_dict: dict[str, Any], cv: int | None) -> Pipeline: ...
def _train_columns(
    entries: list[tuple[Any, ...]],
    kinds: list[tuple[str, str]],
    options_dict: dict[str, Any],
    cv: int | None,
) -> Pipeline: ...
def _retrain(
    champion: Pipeline,
    new: str | os.PathLike[str],
    with_old: str | os.PathLike[str] | None = None,
    old_window: int | None = None,
    reason: str | None = None,
    version: str | None = None,
    threads: int | None = None,
) -> Pipeline: ...
def _number_as_category(x: float) -> str: ...
def _from_parts_json(parts: str, reference_csv: bytes) -> Pipeline: ...
def _import_model(
    library: str,
    model: bytes,
    reference_csv: bytes,
    target: str | None = None,
    categorical: list[str] = ...,
    name: str | None = None,
    version: str | None = None,
) -> Pipeline: ...


@final
class DriftMonitor:
    """A drift monitor over a window of live rows, built by ``Pipeline.drift_monitor``."""

    def __reduce__(self) -> tuple[Any, tuple[Pipeline, bytes]]:
        """Pickles as its pipeline and the monitor's rows (MessagePack)."""

    @staticmethod
    def _from_state(pipeline: Pipeline, state: bytes) -> DriftMonitor: ...

    def observe(self, data: Any, predictions: Any | None = None) -> None:
        """Adds a batch (tabular input as for ``Pipeline.predict``: pandas, polars DataFrame or
        LazyFrame, pyarrow, ...) and, optionally, the predictions made on it."""

    def predict(self, data: Any) -> Any:
        """Predicts a batch, adds it and its predictions, returns the predictions."""

    def report(self, **options: Any) -> DriftReport:
        """The drift report of the rows in the window."""

    def last_complete_report(self, **options: Any) -> DriftReport | None:
        """For a tumbling window: the report of the last complete window."""

    def merge(self, other: DriftMonitor) -> None:
        """Adds another monitor's rows (same profile and window)."""

    def reset(self) -> None:
        """Forgets every row."""

    @property
    def rows(self) -> int:
        """Rows in the current window."""

    @property
    def total_rows(self) -> int:
        """Rows observed since creation or the last reset."""

    @property
    def kind(self) -> str:
        """``"sliding"``, ``"tumbling"`` or ``"cumulative"``."""

    @property
    def window(self) -> int | None:
        """The window length in rows (``None`` for a cumulative monitor)."""

    @property
    def blocks(self) -> int | None:
        """The blocks of a sliding window."""

@final
class ColumnProfile:
    """The reference distribution of one numeric or categorical array."""

    @staticmethod
    def numeric(
        values: Any, name: str = "value", *, bins: int = 10, fine_bins: int = 100, exact_values: int = 20
    ) -> ColumnProfile:
        """Profiles a numeric array; with at most ``exact_values`` distinct values (0: never),
        their exact mix is kept too and compared as categories."""

    @staticmethod
    def categorical(values: Any, name: str = "value", *, max_categories: int = 100) -> ColumnProfile:
        """Profiles a categorical array."""

    @staticmethod
    def from_json(text: str) -> ColumnProfile:
        """Reads a profile written by ``to_json()``."""

    def to_json(self) -> str:
        """The profile as JSON text."""

    def to_dict(self) -> dict[str, Any]:
        """The profile as a dict."""

    @property
    def name(self) -> str:
        """The column's name."""

    @property
    def kind(self) -> str:
        """``"numeric"`` or ``"categorical"``."""

    @property
    def rows(self) -> int:
        """Reference rows (present and missing)."""

    def live_counts(self, live: Any) -> dict[str, Any]:
        """The live array binned on this profile's slots."""

    def compare(self, live: Any, **options: Any) -> ColumnDrift:
        """Compares a live array with the profile."""

    def __eq__(self, value: object, /) -> bool: ...
    def __reduce__(self) -> tuple[Any, tuple[str]]: ...

@final
class DDM:
    """The Drift Detection Method over a 0/1 error stream."""

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        """Pickles as the full state (MessagePack)."""

    @staticmethod
    def _from_state(state: bytes) -> DDM: ...

    def __new__(cls, warm_start: int = 30, warning: float = 2.0, drift: float = 3.0) -> Self: ...
    def update(self, x: float) -> bool:
        """Adds one value; True when a drift was detected at it."""

    def update_many(self, values: Any) -> list[int]:
        """Adds every value; the positions where a drift was detected."""

    def reset(self) -> None:
        """Forgets every value."""

    @property
    def drift_detected(self) -> bool:
        """True when the last value added was a drift."""

    @property
    def warning_detected(self) -> bool:
        """True when the last value added raised a warning."""

    @property
    def state(self) -> str:
        """``"stable"``, ``"warning"`` or ``"drift"``."""

    @property
    def drifts(self) -> int:
        """Drifts detected since creation."""

    @property
    def error_rate(self) -> float:
        """The error rate since the last reset or drift."""

@final
class PageHinkley:
    """The Page-Hinkley test for an increase of the mean."""

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        """Pickles as the full state (MessagePack)."""

    @staticmethod
    def _from_state(state: bytes) -> PageHinkley: ...

    def __new__(cls, min_instances: int = 30, delta: float = 0.005, threshold: float = 50.0, alpha: float = 0.9999
    ) -> Self: ...
    def update(self, x: float) -> bool:
        """Adds one value; True when a drift was detected at it."""

    def update_many(self, values: Any) -> list[int]:
        """Adds every value; the positions where a drift was detected."""

    def reset(self) -> None:
        """Forgets every value."""

    @property
    def drift_detected(self) -> bool:
        """True when the last value added was a drift."""

    @property
    def state(self) -> str:
        """``"stable"`` or ``"drift"``."""

    @property
    def drifts(self) -> int:
        """Drifts detected since creation."""

@final
class ADWIN:
    """ADWIN: an adaptive window that drops its older part when its mean changes."""

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        """Pickles as the full state (MessagePack)."""

    @staticmethod
    def _from_state(state: bytes) -> ADWIN: ...

    def __new__(cls, delta: float = 0.002) -> Self: ...
    def update(self, x: float) -> bool:
        """Adds one value; True when a drift was detected at it."""

    def update_many(self, values: Any) -> list[int]:
        """Adds every value; the positions where a drift was detected."""

    def reset(self) -> None:
        """Forgets every value."""

    @property
    def drift_detected(self) -> bool:
        """True when the last value added was a drift."""

    @property
    def state(self) -> str:
        """``"stable"`` or ``"drift"``."""

    @property
    def drifts(self) -> int:
        """Drifts detected since creation."""

    @property
    def width(self) -> int:
        """Values in the current window."""

    @property
    def mean(self) -> float:
        """Mean of the current window."""

@final
class WindowedAccuracy:
    """Accuracy over the last ``window`` predictions."""

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        """Pickles as the full state (MessagePack)."""

    @staticmethod
    def _from_state(state: bytes) -> WindowedAccuracy: ...

    def __new__(cls, window: int) -> Self: ...
    def update(self, correct: bool) -> None:
        """Adds one prediction: whether it was right."""

    def update_many(self, predicted: Any, actual: Any) -> None:
        """Adds predictions and their true labels."""

    @property
    def value(self) -> float | None:
        """Accuracy in the window (``None`` while empty)."""

    @property
    def window(self) -> int:
        """The window length."""

    def __len__(self) -> int: ...

@final
class WindowedF1:
    """F1 of the positive class over the last ``window`` predictions."""

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        """Pickles as the full state (MessagePack)."""

    @staticmethod
    def _from_state(state: bytes) -> WindowedF1: ...

    def __new__(cls, window: int) -> Self: ...
    def update(self, predicted_positive: bool, actually_positive: bool) -> None:
        """Adds one prediction."""

    def update_many(self, predicted_positive: Any, actually_positive: Any) -> None:
        """Adds predictions as two boolean array-likes."""

    @property
    def value(self) -> float | None:
        """F1 in the window (``None`` while empty)."""

    @property
    def window(self) -> int:
        """The window length."""

    def __len__(self) -> int: ...

@final
class WindowedMae:
    """Mean absolute error over the last ``window`` predictions."""

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        """Pickles as the full state (MessagePack)."""

    @staticmethod
    def _from_state(state: bytes) -> WindowedMae: ...

    def __new__(cls, window: int) -> Self: ...
    def update(self, predicted: float, actual: float) -> None:
        """Adds one prediction and its true value."""

    def update_many(self, predicted: Any, actual: Any) -> None:
        """Adds predictions and true values."""

    @property
    def value(self) -> float | None:
        """MAE in the window (``None`` while empty)."""

    @property
    def window(self) -> int:
        """The window length."""

    def __len__(self) -> int: ...

def _psi(reference: list[int], live: list[int]) -> float: ...
def _ks(reference: list[int], live: list[int]) -> tuple[float, float, float]: ...
def _chi_square(reference: list[int], live: list[int]) -> tuple[float, float, int]: ...
def _jensen_shannon(reference: list[int], live: list[int]) -> float: ...
def _hellinger(reference: list[int], live: list[int]) -> float: ...
def _wasserstein(edges: list[float], reference: list[int], live: list[int], outside: float = 0.0) -> float: ...
def _kolmogorov_sf(x: float) -> float: ...
def _slot_points(edges: list[float]) -> list[float]: ...
def _histogram(values: Any, edges: list[float]) -> list[int]: ...
