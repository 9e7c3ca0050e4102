//! The one place where errors of the core and the trainer become Python exceptions.
//!
//! | Rust error | Python exception |
//! |---|---|
//! | missing column, bad value, bad batch, bad training data or target, malformed CSV | `tabship.SchemaError` (a `ValueError`) with `column`, `expected`, `received`, `row` |
//! | bad magic, unsupported version, truncation, checksum, size limit, invalid field, decode | `tabship.ArtifactError` |
//! | artifact or data file not found | `FileNotFoundError` (`errno.ENOENT`, `filename` set) |
//! | other I/O | `OSError` |
//! | invalid training option | `tabship.OptionError` (a `ValueError`) |
//! | smartcore fit failure | `tabship.TrainingError` |
//! | drift on an artifact without a reference profile | `tabship.NoDriftProfileError` |
//! | drift: live data that does not fit the profile | `tabship.SchemaError` |
//! | drift: invalid threshold, window or detector option | `tabship.OptionError` |
//! | drift: invalid profile (corrupt or hostile) | `tabship.ArtifactError` |
//! | importer: unsupported model, bad model file or reference data | `tabship.ModelImportError` |
//! | ONNX export: a part ONNX cannot express exactly, a graph above 2 GiB | `tabship.ExportError` |
//! | anything else (wrong task, encoding failure) | `tabship.TabshipError` |
//!
//! The exception classes are defined in Python (`tabship/_errors.py`, so that `SchemaError` can
//! derive from both `TabshipError` and `ValueError`) and looked up once.

use std::path::Path;

use pyo3::exceptions::{PyFileNotFoundError, PyOSError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};

/// The Python exception classes of `tabship._errors`.
#[derive(Clone, Copy)]
enum Class {
    Base,
    Schema,
    Artifact,
    Option,
    Training,
    NoProfile,
    Import,
    Export,
}

fn class(py: Python<'_>, which: Class) -> PyResult<&Bound<'_, PyType>> {
    static BASE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static SCHEMA: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static ARTIFACT: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static OPTION: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static TRAINING: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static NO_PROFILE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static IMPORT: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static EXPORT: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let (cell, name) = match which {
        Class::Base => (&BASE, "TabshipError"),
        Class::Schema => (&SCHEMA, "SchemaError"),
        Class::Artifact => (&ARTIFACT, "ArtifactError"),
        Class::Option => (&OPTION, "OptionError"),
        Class::Training => (&TRAINING, "TrainingError"),
        Class::NoProfile => (&NO_PROFILE, "NoDriftProfileError"),
        Class::Import => (&IMPORT, "ModelImportError"),
        Class::Export => (&EXPORT, "ExportError"),
    };
    cell.import(py, "tabship._errors", name)
}

/// Builds an instance of `which` with `message` and keyword attributes.
fn raise(py: Python<'_>, which: Class, message: String, attrs: &[(&str, Py<PyAny>)]) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let kwargs = PyDict::new(py);
        for (key, value) in attrs {
            kwargs.set_item(key, value)?;
        }
        let instance = class(py, which)?.call((message.clone(),), Some(&kwargs))?;
        Ok(PyErr::from_value(instance))
    };
    build().unwrap_or_else(|e| e)
}

fn not_found(path: &Path, message: String) -> PyErr {
    PyFileNotFoundError::new_err((2, message, path.display().to_string()))
}

/// Converts a core error.
pub(crate) fn core(py: Python<'_>, error: tabship::Error) -> PyErr {
    use tabship::Error as E;
    let message = error.to_string();
    match error {
        E::MissingColumn { column, expected } => raise(
            py,
            Class::Schema,
            message,
            &[
                ("column", text(py, &column)),
                ("expected", text(py, expected)),
            ],
        ),
        E::InvalidValue {
            column,
            expected,
            received,
            row,
        } => {
            let row = match row {
                Some(r) => match r.into_pyobject(py) {
                    Ok(v) => v.into_any().unbind(),
                    Err(never) => match never {},
                },
                None => py.None(),
            };
            raise(
                py,
                Class::Schema,
                message,
                &[
                    ("column", text(py, &column)),
                    ("expected", text(py, expected)),
                    ("received", text(py, &received)),
                    ("row", row),
                ],
            )
        }
        E::InvalidBatch(_) => raise(py, Class::Schema, message, &[]),
        E::BadMagic
        | E::UnsupportedVersion { .. }
        | E::Truncated(_)
        | E::ChecksumMismatch { .. }
        | E::TooLarge { .. }
        | E::InvalidField { .. }
        | E::Decode(_) => raise(py, Class::Artifact, message, &[]),
        E::NotFound { path } => not_found(&path, message),
        E::Io { .. } | E::NotARegularFile { .. } => PyOSError::new_err(message),
        E::NoDriftProfile => raise(py, Class::NoProfile, message, &[]),
        E::Drift(inner) => drift(py, inner),
        _ => raise(py, Class::Base, message, &[]),
    }
}

/// Converts an error of the drift crate.
pub(crate) fn drift(py: Python<'_>, error: tabship::drift::Error) -> PyErr {
    use tabship::drift::Error as E;
    let message = error.to_string();
    match error {
        E::InvalidOption { .. } => raise(py, Class::Option, message, &[]),
        E::Mismatch { .. } => raise(py, Class::Schema, message, &[]),
        E::InvalidProfile { .. } | E::InvalidState { .. } => {
            raise(py, Class::Artifact, message, &[])
        }
        _ => raise(py, Class::Base, message, &[]),
    }
}

/// `.map_err(drift_err(py))`.
pub(crate) fn drift_err(py: Python<'_>) -> impl Fn(tabship::drift::Error) -> PyErr + '_ {
    move |e| drift(py, e)
}

/// A `tabship.ArtifactError` for a pickled state that does not decode or is inconsistent.
pub(crate) fn bad_state(py: Python<'_>, class: &str, error: impl std::fmt::Display) -> PyErr {
    raise(
        py,
        Class::Artifact,
        format!("invalid pickled state of a `{class}`: {error}"),
        &[],
    )
}

/// A `tabship.OptionError` with `message` (an invalid option the bindings check themselves).
pub(crate) fn option(py: Python<'_>, message: String) -> PyErr {
    raise(py, Class::Option, message, &[])
}

/// Converts a training error.
pub(crate) fn train(py: Python<'_>, error: tabship_train::Error) -> PyErr {
    use tabship_train::Error as E;
    let message = error.to_string();
    match error {
        E::Core(inner) => core(py, inner),
        E::InvalidOption { .. } => raise(py, Class::Option, message, &[]),
        E::Target { column, .. } => {
            raise(py, Class::Schema, message, &[("column", text(py, &column))])
        }
        E::Data(_) | E::Csv { .. } => raise(py, Class::Schema, message, &[]),
        E::Fit { .. } => raise(py, Class::Training, message, &[]),
        _ => raise(py, Class::Base, message, &[]),
    }
}

/// A `SchemaError` for a value the bindings themselves cannot convert (a Python object of a
/// type no column accepts), shaped like the core's `InvalidValue`.
pub(crate) fn invalid_value(
    column: &str,
    expected: &'static str,
    received: String,
    row: Option<usize>,
) -> tabship::Error {
    tabship::Error::InvalidValue {
        column: column.to_owned(),
        expected,
        received,
        row,
    }
}

fn text(py: Python<'_>, s: &str) -> Py<PyAny> {
    pyo3::types::PyString::new(py, s).into_any().unbind()
}

/// `.map_err` helpers: `result.map_err(core_err(py))`.
pub(crate) fn core_err(py: Python<'_>) -> impl Fn(tabship::Error) -> PyErr + '_ {
    move |e| core(py, e)
}

/// `.map_err(train_err(py))`.
pub(crate) fn train_err(py: Python<'_>) -> impl Fn(tabship_train::Error) -> PyErr + '_ {
    move |e| train(py, e)
}

/// A `tabship.TabshipError` with `message` (for misuse the core cannot see, e.g. a wrong
/// argument type).
pub(crate) fn base(py: Python<'_>, message: String) -> PyErr {
    raise(py, Class::Base, message, &[])
}

/// A `tabship.SchemaError` with `message` and no structured fields.
pub(crate) fn schema(py: Python<'_>, message: String) -> PyErr {
    raise(py, Class::Schema, message, &[])
}

/// Converts an importer's error: the core's own errors keep their mapping, the rest (an
/// unsupported model, a malformed model file, reference data that does not fit) become
/// `tabship.ModelImportError`.
pub(crate) fn import(py: Python<'_>, error: tabship_import::Error) -> PyErr {
    match error {
        tabship_import::Error::Tabship(inner) => core(py, inner),
        other => raise(py, Class::Import, other.to_string(), &[]),
    }
}

/// `.map_err(onnx_err(py))`: every export error is a `tabship.ExportError`.
pub(crate) fn onnx_err(py: Python<'_>) -> impl Fn(tabship_onnx::Error) -> PyErr + '_ {
    move |e| raise(py, Class::Export, e.to_string(), &[])
}
