//! `Pipeline.to_onnx`: the pipeline as an ONNX model (`tabship-onnx`), returned as bytes and
//! optionally written to a file.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::{core_err, onnx_err};
use crate::gil::without_gil;

/// The ONNX bytes of `pipeline`, also written atomically to `path` when one is given.
pub(crate) fn to_onnx<'py>(
    py: Python<'py>,
    pipeline: &tabship::Pipeline,
    path: Option<PathBuf>,
) -> PyResult<Bound<'py, PyBytes>> {
    let bytes = without_gil(py, || tabship_onnx::to_onnx(pipeline)).map_err(onnx_err(py))?;
    if let Some(path) = path {
        without_gil(py, || tabship::fs::write_atomic(&path, &bytes, 0o644))
            .map_err(core_err(py))?;
    }
    Ok(PyBytes::new(py, &bytes))
}
