//! `tabship.drift.DriftMonitor`: a windowed drift monitor over a pipeline's reference profile,
//! fed the batches (and predictions) a service sees; memory depends on the profile's bins, not
//! on the rows.

use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use tabship::drift::{Monitor, Window, monitor::DEFAULT_BLOCKS};
use tabship::{Predictions, Task};

use crate::drift::{options, report_object};
use crate::errors::{core_err, drift_err, option, schema};
use crate::gil::without_gil;
use crate::pipeline::PyPipeline;

/// A drift monitor over a window of live rows, built by `Pipeline.drift_monitor`.
#[pyclass(module = "tabship.drift", name = "DriftMonitor")]
pub(crate) struct PyDriftMonitor {
    pipeline: Py<PyPipeline>,
    monitor: Monitor,
}

/// The window of `Pipeline.drift_monitor(window, kind, blocks)`.
fn window(
    py: Python<'_>,
    rows: Option<usize>,
    kind: Option<&str>,
    blocks: Option<usize>,
) -> PyResult<Window> {
    let kind = kind.unwrap_or(if rows.is_some() {
        "sliding"
    } else {
        "cumulative"
    });
    let need_rows = |rows: Option<usize>| {
        rows.ok_or_else(|| {
            option(
                py,
                format!("window: a `{kind}` monitor needs a window length in rows, got `None`"),
            )
        })
    };
    let window = match kind {
        "cumulative" => {
            if let Some(r) = rows {
                return Err(option(
                    py,
                    format!(
                        "window: a `cumulative` monitor keeps every row, got a window of `{r}` rows"
                    ),
                ));
            }
            Window::Cumulative
        }
        "sliding" => {
            let rows = need_rows(rows)?;
            Window::Sliding {
                rows,
                blocks: blocks.unwrap_or(DEFAULT_BLOCKS.min(rows.max(1))),
            }
        }
        "tumbling" => Window::Tumbling {
            rows: need_rows(rows)?,
        },
        other => {
            return Err(option(
                py,
                format!("kind: expected `sliding`, `tumbling` or `cumulative`, got `{other}`"),
            ));
        }
    };
    if blocks.is_some() && !matches!(window, Window::Sliding { .. }) {
        return Err(option(
            py,
            "blocks: only a `sliding` window has blocks".into(),
        ));
    }
    Ok(window)
}

impl PyDriftMonitor {
    /// A monitor over `pipeline`'s profile (`tabship.NoDriftProfileError` without one).
    pub(crate) fn create(
        py: Python<'_>,
        pipeline: Py<PyPipeline>,
        rows: Option<usize>,
        kind: Option<&str>,
        blocks: Option<usize>,
    ) -> PyResult<Self> {
        let window = window(py, rows, kind, blocks)?;
        let monitor = pipeline
            .get()
            .inner()
            .drift_monitor(window)
            .map_err(core_err(py))?;
        Ok(PyDriftMonitor { pipeline, monitor })
    }
}

/// Predictions given by the caller (labels for a classifier, numbers for a regressor) → the
/// core's predictions, checked against the pipeline's classes and the batch's row count.
fn predictions(
    py: Python<'_>,
    pipeline: &tabship::Pipeline,
    given: &Bound<'_, PyAny>,
    rows: usize,
) -> PyResult<Predictions> {
    let np = py.import("numpy")?;
    let out = match pipeline.task() {
        Task::Classification => {
            let labels = np
                .call_method1("asarray", (given,))?
                .call_method0("ravel")?
                .call_method0("tolist")?
                .cast_into::<PyList>()?;
            let mut indices = Vec::with_capacity(labels.len());
            for (row, label) in labels.iter().enumerate() {
                let text = match label.extract::<i64>() {
                    Ok(i) if !label.is_instance_of::<pyo3::types::PyBool>() => i.to_string(),
                    _ => label.str()?.to_string(),
                };
                let index = pipeline.class_index(&text).ok_or_else(|| {
                    schema(
                        py,
                        format!(
                            "predictions: row {}: `{text}` is not a class of the model",
                            row + 1
                        ),
                    )
                })?;
                indices.push(index);
            }
            Predictions::Classes(indices)
        }
        Task::Regression => {
            let array = np
                .call_method1("ascontiguousarray", (given, "float64"))?
                .call_method0("ravel")?;
            Predictions::Values(PyBuffer::<f64>::get(&array)?.to_vec(py)?)
        }
    };
    let n = match &out {
        Predictions::Classes(v) => v.len(),
        Predictions::Values(v) => v.len(),
    };
    if n != rows {
        return Err(schema(
            py,
            format!("predictions: expected one per row ({rows}), got `{n}`"),
        ));
    }
    Ok(out)
}

#[pymethods]
impl PyDriftMonitor {
    /// Adds a batch (anything `Pipeline.predict` takes: a DataFrame, list of records, dict of
    /// columns, pyarrow Table, 2-D array, or one record) and, optionally, the predictions made on
    /// it (labels or values, one per row) for the prediction-drift column. The whole batch is
    /// checked first: on error nothing is added.
    #[pyo3(signature = (data, predictions = None))]
    fn observe(
        &mut self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        predictions: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let pipeline = self.pipeline.get();
        let batch = pipeline.table(py, data)?;
        let predictions = predictions
            .map(|p| self::predictions(py, pipeline.inner(), p, batch.n_rows()))
            .transpose()?;
        let monitor = &mut self.monitor;
        without_gil(py, || {
            pipeline
                .inner()
                .observe_drift(monitor, &batch, predictions.as_ref())
        })
        .map_err(core_err(py))
    }

    /// Predicts a batch (as `Pipeline.predict`), adds it and its predictions to the window, and
    /// returns the predictions.
    fn predict(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let pipeline = self.pipeline.get();
        let batch = pipeline.table(py, data)?;
        let monitor = &mut self.monitor;
        let predicted = without_gil(py, || -> tabship::Result<Predictions> {
            let predicted = pipeline.inner().predict_batch(&batch)?;
            pipeline
                .inner()
                .observe_drift(monitor, &batch, Some(&predicted))?;
            Ok(predicted)
        })
        .map_err(core_err(py))?;
        pipeline.labels_of(py, predicted)
    }

    /// The drift report of the rows in the window (for a tumbling window: the one being
    /// filled), with the options of `Pipeline.drift`.
    #[pyo3(signature = (**options))]
    fn report(&self, py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Py<PyAny>> {
        let options = self::options(py, options)?;
        let report = self.monitor.report(&options).map_err(drift_err(py))?;
        report_object(py, &report)
    }

    /// For a tumbling window: the report of the last complete window, `None` before one filled.
    #[pyo3(signature = (**options))]
    fn last_complete_report(
        &self,
        py: Python<'_>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Option<Py<PyAny>>> {
        let options = self::options(py, options)?;
        let Some(sample) = self.monitor.last_complete() else {
            return Ok(None);
        };
        let report = tabship::drift::report(self.monitor.profile(), sample, &options)
            .map_err(drift_err(py))?;
        Ok(Some(report_object(py, &report)?))
    }

    /// Adds another monitor's rows: a shard of the same traffic, over the same profile and
    /// window (`tabship.SchemaError` otherwise). Shards that rotate together merge exactly.
    fn merge(&mut self, py: Python<'_>, other: &Bound<'_, PyDriftMonitor>) -> PyResult<()> {
        let other = other
            .try_borrow()
            .map_err(|_| schema(py, "merge: a monitor cannot be merged into itself".into()))?;
        self.monitor.merge(&other.monitor).map_err(drift_err(py))
    }

    /// Forgets every row.
    fn reset(&mut self) {
        self.monitor.reset();
    }

    /// Rows in the current window.
    #[getter]
    fn rows(&self) -> u64 {
        self.monitor.snapshot().rows
    }

    /// Rows observed since creation (or the last reset), in or out of the window.
    #[getter]
    fn total_rows(&self) -> u64 {
        self.monitor.total_rows()
    }

    /// `"sliding"`, `"tumbling"` or `"cumulative"`.
    #[getter]
    fn kind(&self) -> &'static str {
        match self.monitor.window() {
            Window::Cumulative => "cumulative",
            Window::Sliding { .. } => "sliding",
            Window::Tumbling { .. } => "tumbling",
        }
    }

    /// The window length in rows (`None` for a cumulative monitor).
    #[getter]
    fn window(&self) -> Option<usize> {
        match self.monitor.window() {
            Window::Cumulative => None,
            Window::Sliding { rows, .. } | Window::Tumbling { rows } => Some(rows),
        }
    }

    /// The blocks a sliding window is kept in (`None` for the other kinds).
    #[getter]
    fn blocks(&self) -> Option<usize> {
        match self.monitor.window() {
            Window::Sliding { blocks, .. } => Some(blocks),
            _ => None,
        }
    }

    fn __repr__(&self) -> String {
        let window = match self.monitor.window() {
            Window::Cumulative => "cumulative".to_owned(),
            Window::Sliding { rows, blocks } => {
                format!("sliding window of {rows} rows ({blocks} blocks)")
            }
            Window::Tumbling { rows } => format!("tumbling windows of {rows} rows"),
        };
        format!(
            "<tabship.drift.DriftMonitor: {window}, {} rows in the window, {} observed>",
            self.monitor.snapshot().rows,
            self.monitor.total_rows()
        )
    }
}
