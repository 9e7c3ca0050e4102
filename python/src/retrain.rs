//! `tabship.retrain`: a champion refitted with its recorded algorithm and options on new
//! labelled rows (`tabship_train::retrain`), as `tabship retrain` does.

use std::path::PathBuf;

use pyo3::prelude::*;
use tabship_train::csv_input::CsvOptions;
use tabship_train::{LabelledRows, RetrainOptions, retrain};

use crate::errors::train_err;
use crate::gil::without_gil;
use crate::pipeline::PyPipeline;
use crate::train::warn_all;

/// Refits `champion` on the CSV `new` (after the last `old_window` rows of `with_old`, when
/// given): same name, the next version (or `version`), `retrained_from` in its metadata.
#[pyfunction]
#[pyo3(signature = (champion, new, with_old=None, old_window=None, reason=None, version=None, threads=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn _retrain(
    py: Python<'_>,
    champion: &Bound<'_, PyPipeline>,
    new: PathBuf,
    with_old: Option<PathBuf>,
    old_window: Option<usize>,
    reason: Option<String>,
    version: Option<String>,
    threads: Option<usize>,
) -> PyResult<PyPipeline> {
    let champion = champion.get().inner().clone();
    let options = RetrainOptions {
        reason,
        version,
        threads,
        na_values: tabship::NaValues::default(),
    };
    let (pipeline, warnings) = without_gil(py, || -> tabship_train::Result<_> {
        // A Python pipeline is always read from artifact bytes, so it has a header; one made
        // otherwise is sealed to find its checksum.
        let checksum = match champion.header() {
            Some(h) => h.checksum_hex(),
            None => tabship::Pipeline::from_bytes(&champion.to_bytes()?)?
                .header()
                .map(|h| h.checksum_hex())
                .unwrap_or_default(),
        };
        let csv = CsvOptions::default();
        let new = LabelledRows::read(&new, &csv)?;
        let old = match &with_old {
            Some(path) => {
                let rows = LabelledRows::read(path, &csv)?;
                Some(match old_window {
                    Some(n) => rows.last(n),
                    None => rows,
                })
            }
            None => None,
        };
        let retrained = retrain(&champion, &checksum, &new, old.as_ref(), &options)?;
        // Reloaded from the bytes, so the object is exactly what `save` writes.
        let pipeline = tabship::Pipeline::from_bytes(&retrained.trained.pipeline.to_bytes()?)?;
        Ok((pipeline, retrained.trained.report.warnings))
    })
    .map_err(train_err(py))?;
    warn_all(py, warnings)?;
    PyPipeline::wrap(py, pipeline, None)
}
