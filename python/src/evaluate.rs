//! `Pipeline.evaluate`: metrics on labelled data, as `tabship evaluate --json` computes them.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyList;
use serde_json::json;
use tabship::{ColumnKind, Pipeline, Skipped, Task};

use crate::columns::{batch_from_entries, kinds_list};
use crate::errors::{base, core_err};
use crate::gil::without_gil;

/// Scores `pipeline` on `data`, which must hold the training target column.
pub(crate) fn evaluate(
    py: Python<'_>,
    pipeline: &Pipeline,
    data: &Bound<'_, PyAny>,
) -> PyResult<Py<PyAny>> {
    let target = pipeline.training().target.clone();
    let target_kind = match pipeline.task() {
        Task::Classification => ColumnKind::Categorical,
        Task::Regression => ColumnKind::Numeric,
    };
    let schema = pipeline.schema();
    let kinds = kinds_list(
        py,
        schema
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.kind))
            .chain([(target.as_str(), target_kind)]),
    )?;
    static TO_COLUMNS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let entries = TO_COLUMNS
        .import(py, "tabship._convert", "to_columns")?
        .call1((data, kinds))?
        .cast_into::<PyList>()?;
    let batch = batch_from_entries(
        py,
        &entries,
        |name| {
            if name == target {
                Some(target_kind)
            } else {
                schema.position(name).map(|i| schema.columns[i].kind)
            }
        },
        &schema.na_values,
    )?;
    let truth_column = batch.column(&target).ok_or_else(|| {
        core_err(py)(tabship::Error::MissingColumn {
            column: target.clone(),
            expected: "the true labels (the training target)",
        })
    })?;
    let labels = pipeline
        .labels(&target, truth_column)
        .map_err(core_err(py))?;
    let Skipped {
        missing_target: missing,
        unknown_labels,
    } = labels.skipped;
    if labels.rows.is_empty() {
        // Metrics of no rows are NaN: an error says why instead.
        return Err(core_err(py)(tabship::Error::InvalidBatch(format!(
            "no rows to evaluate: {} rows, {missing} without a `{target}` value and {unknown_labels} with a label the model does not know",
            batch.n_rows()
        ))));
    }
    let rows = batch.take(&labels.rows);
    let report = without_gil(py, || -> tabship::Result<serde_json::Value> {
        let evaluation = pipeline.evaluate(&rows, &labels.truth)?;
        let mut r =
            serde_json::to_value(evaluation).map_err(|e| tabship::Error::Encode(e.to_string()))?;
        r["skipped"] = json!(labels.skipped);
        Ok(r)
    })
    .map_err(core_err(py))?;
    let text = serde_json::to_string(&report).map_err(|e| base(py, e.to_string()))?;
    static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    Ok(LOADS.import(py, "json", "loads")?.call1((text,))?.unbind())
}
