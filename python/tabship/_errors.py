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
