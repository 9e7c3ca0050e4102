"""The exceptions tabship raises. Every error of the Rust core and trainer becomes one of these
in one place (``python/src/errors.rs``)."""

from __future__ import annotations


class TabshipError(Exception):
    """Base class of every error tabship raises (except ``FileNotFoundError`` and ``OSError``
    for files, which keep their standard types)."""


class SchemaError(TabshipError, ValueError):
    """Input data does not fit the pipeline's schema, or training data cannot be used.

    The message names the column, what was expected and what arrived; the same facts are
    attributes (``None`` where they do not apply): ``column``, ``expected``, ``received`` and
    ``row`` (1-based, for batches).
    """

    column: str | None
    expected: str | None
    received: str | None
    row: int | None

    def __init__(
        self,
        message: str,
        *,
        column: str | None = None,
        expected: str | None = None,
        received: str | None = None,
        row: int | None = None,
    ) -> None:
        super().__init__(message)
        self.column = column
        self.expected = expected
        self.received = received
        self.row = row


class ArtifactError(TabshipError):
    """A ``.tabship`` artifact is corrupt, truncated, tampered with or of an unsupported
    (newer) format version."""


class OptionError(TabshipError, ValueError):
    """A training option is invalid (unknown model, out-of-range hyperparameter, ...)."""


class TrainingError(TabshipError):
    """Fitting the model failed."""


class NoDriftProfileError(TabshipError):
    """A drift operation on a pipeline whose artifact has no reference profile (artifacts
    written before format 1.2). Retrain the pipeline to store one."""


class ModelImportError(TabshipError):
    """A model trained elsewhere cannot be imported exactly (``tabship.from_sklearn``,
    ``from_xgboost``, ``from_lightgbm``): an estimator, step or parameter tabship does not
    reproduce bit for bit, a malformed model file, or reference data that does not fit. Refused,
    never approximated. ``step`` and ``parameter`` name what was refused when known."""

    step: str | None
    parameter: str | None

    def __init__(
        self, message: str, *, step: str | None = None, parameter: str | None = None
    ) -> None:
        super().__init__(message)
        self.step = step
        self.parameter = parameter


class ExportError(TabshipError):
    """A pipeline cannot be exported exactly (``Pipeline.to_onnx``): the message names the part
    (``model.trees[3].nodes[12]``) and why ONNX cannot express it. Nothing is approximated."""
