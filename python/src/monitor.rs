//! `tabship.drift.DriftMonitor`: a windowed drift monitor over a pipeline's reference profile,
//! fed the batches (and predictions) a service sees; memory depends on the profile's bins, not
//! on the rows.
//!
//! The class is frozen and keeps its monitor behind a `Mutex`, taken only with the GIL released:
//! threads of a service can feed one monitor concurrently (updates serialize on the lock, never
//! on a Python borrow error), and a thread busy binning a large batch does not hold the GIL.

use std::sync::{Mutex, MutexGuard};

use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use tabship::drift::{Monitor, MonitorState, Window, monitor::DEFAULT_BLOCKS};
use tabship::{Predictions, Task};

use crate::drift::{options, report_object};
use crate::errors::{bad_state, core_err, drift_err, option, schema};
use crate::gil::without_gil;
use crate::pickle::{decode, state_bytes};
use crate::pipeline::PyPipeline;

/// A drift monitor over a window of live rows, built by `Pipeline.drift_monitor`.
#[pyclass(frozen, module = "tabship.drift", name = "DriftMonitor")]
pub(crate) struct PyDriftMonitor {
    pipeline: Py<PyPipeline>,
    monitor: Mutex<Monitor>,
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
        Ok(PyDriftMonitor {
            pipeline,
            monitor: Mutex::new(monitor),
        })
    }

    /// The monitor, locked: call only with the GIL released (see the module docs).
    fn lock(&self) -> MutexGuard<'_, Monitor> {
        // Poisoning only follows a panic inside the lock, which the drift code does not raise
        // on user data; keep the counts rather than fail every later call.
        self.monitor
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `work` on the locked monitor without the GIL.
    fn with<T: Send>(&self, py: Python<'_>, work: impl FnOnce(&mut Monitor) -> T + Send) -> T {
        without_gil(py, || work(&mut self.lock()))
    }
}

/// The class index of one label (`row` is 0-based, for the message).
fn class_of(
    py: Python<'_>,
    pipeline: &tabship::Pipeline,
    label: &Bound<'_, PyAny>,
    row: usize,
) -> PyResult<usize> {
    let text = match label.extract::<i64>() {
        Ok(i) if !label.is_instance_of::<pyo3::types::PyBool>() => i.to_string(),
        _ => label.str()?.to_string(),
    };
    pipeline.class_index(&text).ok_or_else(|| {
        schema(
            py,
            format!(
                "predictions: row {}: `{text}` is not a class of the model",
                row + 1
            ),
        )
    })
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
                .call_method0("ravel")?;
            let kind: String = labels.getattr("dtype")?.getattr("kind")?.extract()?;
            if "biuf".contains(kind.as_str()) {
                // Numeric labels: each distinct value is looked up once (`numpy.unique`).
                let kwargs = PyDict::new(py);
                kwargs.set_item("return_index", true)?;
                kwargs.set_item("return_inverse", true)?;
                let (uniques, first, inverse): (Bound<'_, PyAny>, Vec<usize>, Bound<'_, PyAny>) =
                    np.call_method("unique", (&labels,), Some(&kwargs))?
                        .extract()?;
                let inverse = np.call_method1("ascontiguousarray", (inverse, "int64"))?;
                let uniques = uniques.call_method0("tolist")?.cast_into::<PyList>()?;
                let table = uniques
                    .iter()
                    .zip(first)
                    .map(|(label, row)| class_of(py, pipeline, &label, row))
                    .collect::<PyResult<Vec<usize>>>()?;
                let codes = PyBuffer::<i64>::get(&inverse)?.to_vec(py)?;
                Predictions::Classes(
                    codes
                        .into_iter()
                        .map(|c| usize::try_from(c).ok().and_then(|c| table.get(c).copied()))
                        .collect::<Option<Vec<usize>>>()
                        .ok_or_else(|| schema(py, "predictions: invalid label codes".into()))?,
                )
            } else {
                // Text labels (as `predict` returns them: the same few label objects over and
                // over): looked up once per distinct object.
                let labels = labels.call_method0("tolist")?.cast_into::<PyList>()?;
                let mut seen: rustc_hash::FxHashMap<usize, usize> = Default::default();
                let mut indices = Vec::with_capacity(labels.len());
                for (row, label) in labels.iter().enumerate() {
                    let key = label.as_ptr() as usize;
                    let index = match seen.get(&key) {
                        Some(&index) => index,
                        None => {
                            let index = class_of(py, pipeline, &label, row)?;
                            seen.insert(key, index);
                            index
                        }
                    };
                    indices.push(index);
                }
                Predictions::Classes(indices)
            }
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

/// What `DriftMonitor.__reduce__` returns: the loader and its (pipeline, state) arguments.
type Reduced<'py> = (Bound<'py, PyAny>, (Py<PyPipeline>, Bound<'py, PyBytes>));

#[pymethods]
impl PyDriftMonitor {
    /// Pickles as its pipeline (which pickles itself) and the monitor's rows (MessagePack), so
    /// a monitor shipped to a worker or checkpointed continues exactly where it stopped.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        let py = slf.py();
        let this = slf.get();
        let state = this.with(py, |m| m.state());
        let bytes = state_bytes(py, "DriftMonitor", &state)?;
        Ok((
            slf.get_type().getattr(pyo3::intern!(py, "_from_state"))?,
            (this.pipeline.clone_ref(py), bytes),
        ))
    }

    /// The monitor pickled by `__reduce__` (`tabship.ArtifactError` when the state is corrupt
    /// or does not fit the pipeline's profile).
    #[staticmethod]
    fn _from_state(py: Python<'_>, pipeline: Py<PyPipeline>, state: &[u8]) -> PyResult<Self> {
        let state: MonitorState = decode(py, "DriftMonitor", state)?;
        let fresh = pipeline
            .get()
            .inner()
            .drift_monitor(Window::Cumulative)
            .map_err(core_err(py))?;
        let monitor = Monitor::from_state(std::sync::Arc::clone(fresh.binner()), state)
            .map_err(|e| bad_state(py, "DriftMonitor", e))?;
        Ok(PyDriftMonitor {
            pipeline,
            monitor: Mutex::new(monitor),
        })
    }

    /// Adds a batch (anything `Pipeline.predict` takes: a DataFrame, list of records, dict of
    /// columns, pyarrow Table, 2-D array, or one record) and, optionally, the predictions made on
    /// it (labels or values, one per row) for the prediction-drift column. The whole batch is
    /// checked first: on error nothing is added.
    #[pyo3(signature = (data, predictions = None))]
    fn observe(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        predictions: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let pipeline = self.pipeline.get();
        let batch = pipeline.table(py, data)?;
        let predictions = predictions
            .map(|p| self::predictions(py, pipeline.inner(), p, batch.n_rows()))
            .transpose()?;
        self.with(py, |monitor| {
            pipeline
                .inner()
                .observe_drift(monitor, &batch, predictions.as_ref())
        })
        .map_err(core_err(py))
    }

    /// Predicts a batch (as `Pipeline.predict`), adds it and its predictions to the window, and
    /// returns the predictions.
    fn predict(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let pipeline = self.pipeline.get();
        let batch = pipeline.table(py, data)?;
        let predicted = without_gil(py, || -> tabship::Result<Predictions> {
            let predicted = pipeline.inner().predict_batch(&batch)?;
            pipeline
                .inner()
                .observe_drift(&mut self.lock(), &batch, Some(&predicted))?;
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
        let report = self
            .with(py, |m| m.report(&options))
            .map_err(drift_err(py))?;
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
        let report = self.with(py, |m| {
            m.last_complete()
                .map(|sample| tabship::drift::report(m.profile(), sample, &options))
                .transpose()
        });
        report
            .map_err(drift_err(py))?
            .map(|r| report_object(py, &r))
            .transpose()
    }

    /// Adds another monitor's rows: a shard of the same traffic, over the same profile and
    /// window (`tabship.SchemaError` otherwise). Shards that rotate together merge exactly.
    fn merge(&self, py: Python<'_>, other: &Bound<'_, PyDriftMonitor>) -> PyResult<()> {
        let other = other.get();
        if std::ptr::eq(self, other) {
            return Err(schema(
                py,
                "merge: a monitor cannot be merged into itself".into(),
            ));
        }
        // Copy the other monitor under its own lock first: never hold both locks (two threads
        // merging a into b and b into a would deadlock).
        let theirs = without_gil(py, || other.lock().clone());
        self.with(py, |m| m.merge(&theirs)).map_err(drift_err(py))
    }

    /// Forgets every row.
    fn reset(&self, py: Python<'_>) {
        self.with(py, Monitor::reset);
    }

    /// Rows in the current window.
    #[getter]
    fn rows(&self, py: Python<'_>) -> u64 {
        self.with(py, |m| m.snapshot().rows)
    }

    /// Rows observed since creation (or the last reset), in or out of the window.
    #[getter]
    fn total_rows(&self, py: Python<'_>) -> u64 {
        self.with(py, |m| m.total_rows())
    }

    /// `"sliding"`, `"tumbling"` or `"cumulative"`.
    #[getter]
    fn kind(&self, py: Python<'_>) -> &'static str {
        match self.with(py, |m| m.window()) {
            Window::Cumulative => "cumulative",
            Window::Sliding { .. } => "sliding",
            Window::Tumbling { .. } => "tumbling",
        }
    }

    /// The window length in rows (`None` for a cumulative monitor).
    #[getter]
    fn window(&self, py: Python<'_>) -> Option<usize> {
        match self.with(py, |m| m.window()) {
            Window::Cumulative => None,
            Window::Sliding { rows, .. } | Window::Tumbling { rows } => Some(rows),
        }
    }

    /// The blocks a sliding window is kept in (`None` for the other kinds).
    #[getter]
    fn blocks(&self, py: Python<'_>) -> Option<usize> {
        match self.with(py, |m| m.window()) {
            Window::Sliding { blocks, .. } => Some(blocks),
            _ => None,
        }
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let (window, rows, total) =
            self.with(py, |m| (m.window(), m.snapshot().rows, m.total_rows()));
        let window = match window {
            Window::Cumulative => "cumulative".to_owned(),
            Window::Sliding { rows, blocks } => {
                format!("sliding window of {rows} rows ({blocks} blocks)")
            }
            Window::Tumbling { rows } => format!("tumbling windows of {rows} rows"),
        };
        format!(
            "<tabship.drift.DriftMonitor: {window}, {rows} rows in the window, {total} observed>"
        )
    }
}
