"""Type stubs of the Rust extension module ``tabship._tabship`` (checked by ``mypy.stubtest``)."""

import os
from typing import Any, Final, TypeAlias, final


__all__ = ["Pipeline", "_train_csv", "_train_columns", "__version__"]

__version__: Final[str]

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

    def predict(self, x: Any) -> Any:
        """A label or float for one record (a dict); a numpy array for tabular input."""

    def predict_proba(self, x: Any) -> Any:
        """A dict label → probability for one record; a rows × classes array otherwise."""

    def evaluate(self, data: Any) -> dict[str, Any]:
        """Metrics on labelled data (with the training target column)."""

    def with_threads(self, threads: int) -> Pipeline:
        """A copy that predicts batches on up to ``threads`` threads."""

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

