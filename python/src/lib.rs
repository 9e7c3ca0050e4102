//! Python bindings of tabship: the `tabship._tabship` extension module behind the `tabship`
//! package (`python/tabship`). Built with maturin as one abi3 wheel (CPython 3.11+).
//!
//! One file per concern: [`pipeline`] (the `Pipeline` class), [`train`] (`tabship.train`), [`retrain`] (`tabship.retrain`),
//! [`evaluate`], the drift families behind `tabship.drift` ([`drift`]: statistics, column
//! profiles and the report bridge; [`monitor`]; [`detectors`]; [`trackers`]), [`imports`] (`from_xgboost`, `from_sklearn`, ...), [`onnx`] (`Pipeline.to_onnx`), [`columns`] (input → the core's `Batch` and records), [`values`] (one Python
//! value → a core value), [`errors`] (the one error mapping) and [`gil`] (the one GIL helper).

mod columns;
mod detectors;
mod drift;
mod errors;
mod evaluate;
mod gil;
mod imports;
mod monitor;
mod onnx;
mod pickle;
mod pipeline;
mod retrain;
mod trackers;
mod train;
mod values;

use pyo3::prelude::*;

/// The extension module `tabship._tabship`.
#[pymodule]
fn _tabship(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<pipeline::PyPipeline>()?;
    m.add_class::<monitor::PyDriftMonitor>()?;
    drift::register(m)?;
    detectors::register(m)?;
    trackers::register(m)?;
    m.add_function(wrap_pyfunction!(train::_train_csv, m)?)?;
    m.add_function(wrap_pyfunction!(imports::_from_parts_json, m)?)?;
    m.add_function(wrap_pyfunction!(imports::_import_model, m)?)?;
    m.add_function(wrap_pyfunction!(train::_train_columns, m)?)?;
    m.add_function(wrap_pyfunction!(retrain::_retrain, m)?)?;
    m.add_function(wrap_pyfunction!(values::_number_as_category, m)?)?;
    m.add("__version__", tabship::VERSION)?;
    m.add(
        "DEFAULT_NA_VALUES",
        pyo3::types::PyTuple::new(m.py(), tabship::DEFAULT_NA_VALUES)?,
    )?;
    Ok(())
}
