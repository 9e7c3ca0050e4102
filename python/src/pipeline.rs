//! `tabship.Pipeline`: load/save, properties, prediction and pickling.

use std::path::PathBuf;

use pyo3::buffer::{Element, PyBuffer};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyFloat, PyList, PyString, PyTuple};
use tabship::{Batch, ClassLabel, ColumnKind, Prediction, Predictions, Task};

use crate::columns::{DictRecord, batch_from_entries, dict_values, kinds_list};
use crate::errors::{base, core_err};
use crate::gil::without_gil;

/// A fitted, self-contained prediction pipeline: schema, encoders, model, labels, provenance and
/// holdout metrics, loaded from (or saved to) one `.tabship` artifact.
#[pyclass(frozen, module = "tabship", name = "Pipeline")]
pub(crate) struct PyPipeline {
    inner: tabship::Pipeline,
    /// Class labels as Python objects (`str` or `int`), in probability order.
    labels: Vec<Py<PyAny>>,
    /// The same labels as a numpy array (object or int64), for `take`.
    labels_array: Py<PyAny>,
    /// `[(column, kind)]` in schema order, handed to `tabship._convert`.
    kinds: Py<PyList>,
    /// The schema's column names as interned Python strings (dict keys of records).
    keys: Vec<Py<PyString>>,
    /// Cross-validation results of `tabship.train(cv=k)`, if any.
    cv: Option<Py<PyDict>>,
}

fn cached<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyAny>>,
    module: &str,
    attr: &str,
) -> PyResult<&'py Bound<'py, PyAny>> {
    cell.import(py, module, attr)
}

fn to_columns(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static CELL: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    cached(py, &CELL, "tabship._convert", "to_columns")
}

fn json_loads(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static CELL: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    cached(py, &CELL, "json", "loads")
}

/// A new numpy array of `shape` and `dtype`, filled from `data` (C order).
fn numpy_from<'py, T: Element + Copy>(
    py: Python<'py>,
    data: &[T],
    shape: &[usize],
    dtype: &str,
) -> PyResult<Bound<'py, PyAny>> {
    static EMPTY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let empty = cached(py, &EMPTY, "numpy", "empty")?;
    let array = empty.call1((PyTuple::new(py, shape)?, dtype))?;
    PyBuffer::<T>::get(&array)?.copy_from_slice(py, data)?;
    Ok(array)
}

fn label_object(py: Python<'_>, label: &ClassLabel) -> PyResult<Py<PyAny>> {
    Ok(match label {
        ClassLabel::Integer(i) => i.into_pyobject(py)?.into_any().unbind(),
        ClassLabel::Text(s) => s.into_pyobject(py)?.into_any().unbind(),
    })
}

fn json_value(py: Python<'_>, value: &impl serde::Serialize) -> PyResult<Py<PyAny>> {
    let text = serde_json::to_string(value).map_err(|e| base(py, e.to_string()))?;
    Ok(json_loads(py)?.call1((text,))?.unbind())
}

impl PyPipeline {
    /// Wraps a core pipeline (caching its labels and column kinds as Python objects).
    pub(crate) fn wrap(
        py: Python<'_>,
        inner: tabship::Pipeline,
        cv: Option<Py<PyDict>>,
    ) -> PyResult<Self> {
        let labels = inner
            .classes()
            .iter()
            .map(|c| label_object(py, c))
            .collect::<PyResult<Vec<_>>>()?;
        static ARRAY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let array = cached(py, &ARRAY, "numpy", "array")?;
        let integer = inner
            .classes()
            .iter()
            .all(|c| matches!(c, ClassLabel::Integer(_)));
        let labels_array = array
            .call1((
                PyList::new(py, &labels)?,
                if integer { "int64" } else { "object" },
            ))?
            .unbind();
        let kinds = kinds_list(
            py,
            inner
                .schema()
                .columns
                .iter()
                .map(|c| (c.name.as_str(), c.kind)),
        )?
        .unbind();
        let keys = inner
            .schema()
            .columns
            .iter()
            .map(|c| PyString::intern(py, &c.name).unbind())
            .collect();
        Ok(PyPipeline {
            inner,
            labels,
            labels_array,
            kinds,
            keys,
            cv,
        })
    }

    /// The core pipeline.
    pub(crate) fn inner(&self) -> &tabship::Pipeline {
        &self.inner
    }

    /// Tabular input as a batch; one record (a dict of scalars, a pandas `Series`) as a batch
    /// of one row.
    pub(crate) fn table(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Batch> {
        if let Some(record) = as_record(x)? {
            if !looks_like_columns(x)? {
                return self.batch(py, &PyList::new(py, [record])?.into_any());
            }
        }
        self.batch(py, x)
    }

    fn batch(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Batch> {
        let entries = to_columns(py)?
            .call1((x, self.kinds.bind(py)))?
            .cast_into::<PyList>()?;
        let schema = self.inner.schema();
        batch_from_entries(
            py,
            &entries,
            |name| schema.position(name).map(|i| schema.columns[i].kind),
            &schema.na_values,
        )
    }

    pub(crate) fn labels_of(
        &self,
        py: Python<'_>,
        predictions: Predictions,
    ) -> PyResult<Py<PyAny>> {
        Ok(match predictions {
            Predictions::Classes(indices) => {
                let indices: Vec<i64> = indices.into_iter().map(|i| i as i64).collect();
                let n = indices.len();
                let indices = numpy_from(py, &indices, &[n], "int64")?;
                self.labels_array
                    .bind(py)
                    .call_method1("take", (indices,))?
                    .unbind()
            }
            Predictions::Values(values) => {
                numpy_from(py, &values, &[values.len()], "float64")?.unbind()
            }
        })
    }

    fn record_prediction(&self, py: Python<'_>, x: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
        let schema = self.inner.schema();
        let values = dict_values(x, &self.keys)?;
        let record = DictRecord::new(schema, &values).map_err(core_err(py))?;
        match self.inner.predict_one(&record).map_err(core_err(py))? {
            Prediction::Class { index, .. } => Ok(self.labels[index].clone_ref(py)),
            Prediction::Value(v) => Ok(PyFloat::new(py, v).into_any().unbind()),
        }
    }

    fn record_proba(&self, py: Python<'_>, x: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
        let schema = self.inner.schema();
        let values = dict_values(x, &self.keys)?;
        let record = DictRecord::new(schema, &values).map_err(core_err(py))?;
        let proba = self
            .inner
            .predict_proba_one(&record)
            .map_err(core_err(py))?;
        let out = PyDict::new(py);
        for (label, p) in self.labels.iter().zip(proba) {
            out.set_item(label.bind(py), p)?;
        }
        Ok(out.into_any().unbind())
    }
}

#[pymethods]
impl PyPipeline {
    /// Loads a `.tabship` artifact file. Raises `FileNotFoundError` when it does not exist and
    /// `tabship.ArtifactError` when it is corrupt or of a newer format.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let inner = without_gil(py, || tabship::Pipeline::load(&path)).map_err(core_err(py))?;
        Self::wrap(py, inner, None)
    }

    /// Reads a pipeline from artifact bytes (`bytes` or `bytearray`), as written by
    /// `to_bytes()` or found in a `.tabship` file.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: PyBackedBytes) -> PyResult<Self> {
        let inner =
            without_gil(py, || tabship::Pipeline::from_bytes(&data)).map_err(core_err(py))?;
        Self::wrap(py, inner, None)
    }

    /// Saves the artifact atomically (a temporary file, then a rename).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        without_gil(py, || self.inner.save(&path)).map_err(core_err(py))
    }

    /// The artifact bytes (deterministic: equal pipelines give equal bytes).
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = without_gil(py, || self.inner.to_bytes()).map_err(core_err(py))?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// The pipeline as an ONNX model (bytes), also written atomically to `path` when given.
    /// Raises `tabship.ExportError` naming the part that ONNX cannot express exactly.
    #[pyo3(signature = (path=None))]
    fn to_onnx<'py>(
        &self,
        py: Python<'py>,
        path: Option<PathBuf>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        crate::onnx::to_onnx(py, &self.inner, path)
    }

    /// Predicts. A record (`dict` of column → value, or a pandas `Series`) gives one label (classification) or
    /// float (regression); a list of records, a pandas DataFrame, a dict of columns, a pyarrow
    /// Table, a polars DataFrame or LazyFrame, a 2-D numpy array or a list of rows (lists; both
    /// with columns in schema order) gives a numpy array, one entry per row. Columns are
    /// matched by name; extra columns are ignored.
    fn predict(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if let Some(record) = as_record(x)? {
            // A dict is a record unless it turns out to be a dict of columns (checked only when
            // reading it as a record fails, to keep the single-record path short).
            match self.record_prediction(py, &record) {
                Ok(prediction) => return Ok(prediction),
                Err(e) if !looks_like_columns(x)? => return Err(e),
                Err(_) => {}
            }
        }
        let batch = self.batch(py, x)?;
        let predictions =
            without_gil(py, || self.inner.predict_batch(&batch)).map_err(core_err(py))?;
        self.labels_of(py, predictions)
    }

    /// Class probabilities in `classes` order: a dict label → probability for one record, a
    /// 2-D numpy array (rows × classes) for tabular input. Raises `tabship.TabshipError` for a
    /// regression pipeline.
    fn predict_proba(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if let Some(record) = as_record(x)? {
            match self.record_proba(py, &record) {
                Ok(proba) => return Ok(proba),
                Err(e) if !looks_like_columns(x)? => return Err(e),
                Err(_) => {}
            }
        }
        let batch = self.batch(py, x)?;
        let proba =
            without_gil(py, || self.inner.predict_proba_batch(&batch)).map_err(core_err(py))?;
        let shape = [proba.nrows(), proba.ncols()];
        let data = proba
            .as_slice()
            .ok_or_else(|| base(py, "probabilities are not contiguous".to_owned()))?;
        Ok(numpy_from(py, data, &shape, "float64")?.unbind())
    }

    /// `(predict(x), predict_proba(x))` from one pass: the rows are encoded and the model
    /// evaluated once, so a batch costs about half the two calls (batch scorers that return both,
    /// such as `tabship.spark`, use it). The same values as the two calls, bit for bit. Raises
    /// `tabship.TabshipError` for a regression pipeline.
    fn predict_with_proba(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if let Some(record) = as_record(x)? {
            let both = self
                .record_prediction(py, &record)
                .and_then(|label| Ok((label, self.record_proba(py, &record)?)));
            match both {
                Ok(pair) => return Ok(pair.into_pyobject(py)?.into_any().unbind()),
                Err(e) if !looks_like_columns(x)? => return Err(e),
                Err(_) => {}
            }
        }
        let batch = self.batch(py, x)?;
        let (predictions, proba) = without_gil(py, || self.inner.predict_batch_with_proba(&batch))
            .map_err(core_err(py))?;
        let labels = self.labels_of(py, predictions)?;
        let shape = [proba.nrows(), proba.ncols()];
        let data = proba
            .as_slice()
            .ok_or_else(|| base(py, "probabilities are not contiguous".to_owned()))?;
        let proba = numpy_from(py, data, &shape, "float64")?;
        Ok((labels, proba).into_pyobject(py)?.into_any().unbind())
    }

    /// Metrics on labelled data (tabular input with the training target column), computed as
    /// `tabship evaluate` and scikit-learn compute them. Rows without a target, or whose label
    /// the model does not know, are skipped and counted under `skipped`.
    fn evaluate(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        crate::evaluate::evaluate(py, &self.inner, data)
    }

    /// A copy of this pipeline that predicts batches on up to `threads` threads (batches of at
    /// least 4096 rows per thread are split; default 1). Not stored in the artifact or pickle.
    fn with_threads(&self, py: Python<'_>, threads: usize) -> PyResult<Self> {
        if threads == 0 {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "threads must be at least 1, got 0",
            ));
        }
        let mut inner = self.inner.clone();
        inner.set_threads(threads);
        Self::wrap(py, inner, self.cv.as_ref().map(|d| d.clone_ref(py)))
    }

    /// The number of threads batch prediction may use.
    #[getter]
    fn threads(&self) -> usize {
        self.inner.threads()
    }

    /// The drift of live data against the reference profile stored in the artifact: a
    /// `tabship.drift.DriftReport` (per column the deciding statistic, its value, threshold and
    /// verdict, every other statistic, unknown-category, missing and out-of-range rates; the
    /// predictions' drift; the dataset verdict). `data` is anything `predict` takes as a batch.
    /// Options are the thresholds and tests of `tabship drift --options` (`share=0.3`,
    /// `wasserstein=0.2`, `numeric_statistic="psi"`, ...). Raises
    /// `tabship.NoDriftProfileError` for an artifact without a profile (before format 1.2).
    #[pyo3(signature = (data, **options))]
    fn drift(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let options = crate::drift::options(py, options)?;
        if self.inner.drift_profile().is_none() {
            return Err(core_err(py)(tabship::Error::NoDriftProfile));
        }
        let batch = self.table(py, data)?;
        let report =
            without_gil(py, || self.inner.drift_report(&batch, &options)).map_err(core_err(py))?;
        crate::drift::report_object(py, &report)
    }

    /// A drift monitor over the stored profile: a sliding window of the last `window` rows
    /// (kept in `blocks` blocks, 16 by default), consecutive `kind="tumbling"` windows, or every
    /// row (`window=None`, `kind="cumulative"`). Feed it with `observe(batch, predictions)` or
    /// `predict(batch)`; read `report()`.
    #[pyo3(signature = (window = None, *, kind = None, blocks = None))]
    fn drift_monitor(
        slf: &Bound<'_, Self>,
        window: Option<usize>,
        kind: Option<&str>,
        blocks: Option<usize>,
    ) -> PyResult<crate::monitor::PyDriftMonitor> {
        crate::monitor::PyDriftMonitor::create(slf.py(), slf.clone().unbind(), window, kind, blocks)
    }

    /// True when the artifact stores a reference profile (format 1.2 or newer, trained by
    /// tabship), which `drift` and `drift_monitor` need.
    #[getter]
    fn has_drift_profile(&self) -> bool {
        self.inner.drift_profile().is_some()
    }

    /// The stored reference profile as a dict (`{"columns": [...], "prediction": {...}}`, the
    /// artifact's layout), or `None`.
    #[getter]
    fn drift_profile(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.inner
            .drift_profile()
            .map(|p| json_value(py, p))
            .transpose()
    }

    /// Column name → `"numeric"` or `"categorical"`, in schema order.
    #[getter]
    fn schema<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        for c in self.inner.column_summaries() {
            out.set_item(c.name, c.kind.name())?;
        }
        Ok(out)
    }

    /// Class labels in probability order (`str` or `int`); empty for regression.
    #[getter]
    fn classes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, &self.labels)
    }

    /// The stored decision threshold of a binary classifier as `(positive_class, threshold)`, or
    /// `None` (the most probable class is predicted). Every label the pipeline predicts uses it.
    #[getter]
    fn decision_threshold(&self, py: Python<'_>) -> PyResult<Option<(Py<PyAny>, f64)>> {
        match self.inner.decision_threshold() {
            None => Ok(None),
            Some(t) => {
                let label = match &t.positive_class {
                    tabship::ClassLabel::Integer(i) => i.into_pyobject(py)?.into_any().unbind(),
                    tabship::ClassLabel::Text(s) => s.into_pyobject(py)?.into_any().unbind(),
                };
                Ok(Some((label, t.threshold)))
            }
        }
    }

    /// The transform a regressor's target was fitted under (`"log1p"`), or `None`; predictions
    /// are already on the original scale.
    #[getter]
    fn target_transform(&self) -> Option<&'static str> {
        self.inner.target_transform().map(|t| t.name())
    }

    /// `"classification"` or `"regression"`.
    #[getter]
    fn task(&self) -> &'static str {
        self.inner.task().name()
    }

    /// Provenance: name, version, created_at, target, algorithm, hyperparameters,
    /// data_fingerprint, train_rows, test_rows, library_version.
    #[getter]
    fn metadata(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        json_value(py, self.inner.training())
    }

    /// Holdout metrics recorded at training time (metric name → value).
    #[getter]
    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        for (k, v) in self.inner.metrics() {
            out.set_item(k, v)?;
        }
        Ok(out)
    }

    /// The artifact format version, e.g. `"1.1"`.
    #[getter]
    fn format_version(&self, py: Python<'_>) -> PyResult<String> {
        match self.inner.header() {
            Some(h) => Ok(h.format_version()),
            None => {
                let bytes = self.inner.to_bytes().map_err(core_err(py))?;
                let loaded = tabship::Pipeline::from_bytes(&bytes).map_err(core_err(py))?;
                Ok(loaded
                    .header()
                    .map(|h| h.format_version())
                    .unwrap_or_default())
            }
        }
    }

    /// Cross-validation results of `tabship.train(..., cv=k)` (metric → `{"mean", "std"}`),
    /// `None` otherwise. Not stored in the artifact.
    #[getter]
    fn cv_metrics(&self, py: Python<'_>) -> Option<Py<PyDict>> {
        self.cv.as_ref().map(|d| d.clone_ref(py))
    }

    /// The model's features after encoding (one-hot slots, scaled numbers, ...), in order.
    #[getter]
    fn feature_names(&self) -> Vec<String> {
        self.inner.encoder().feature_names()
    }

    /// How many values per column went to the Unknown, Other and Missing slots since load (or
    /// the last reset): `{"rows": n, "columns": {name: {"unknown", "other", "missing"}}}`.
    fn encoding_stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let stats = self.inner.encoding_stats();
        let columns = PyDict::new(py);
        for (name, c) in &stats.columns {
            let counts = PyDict::new(py);
            counts.set_item("unknown", c.unknown)?;
            counts.set_item("other", c.other)?;
            counts.set_item("missing", c.missing)?;
            columns.set_item(name, counts)?;
        }
        let out = PyDict::new(py);
        out.set_item("rows", stats.rows)?;
        out.set_item("columns", columns)?;
        Ok(out)
    }

    /// Sets the encoding counters back to zero.
    fn reset_encoding_stats(&self) {
        self.inner.reset_encoding_stats();
    }

    fn __repr__(&self) -> String {
        let t = self.inner.training();
        let classes = match self.inner.task() {
            Task::Classification => format!(
                ", classes=[{}]",
                self.inner
                    .classes()
                    .iter()
                    .map(|c| match c {
                        ClassLabel::Text(s) => format!("{s:?}"),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Task::Regression => String::new(),
        };
        let (numeric, categorical) =
            self.inner
                .schema()
                .columns
                .iter()
                .fold((0, 0), |(n, c), s| match s.kind {
                    ColumnKind::Numeric => (n + 1, c),
                    ColumnKind::Categorical => (n, c + 1),
                });
        format!(
            "<tabship.Pipeline {:?} version {:?}: {} {} of `{}` from {} columns ({} numeric, {} categorical){}>",
            t.name,
            t.version,
            if t.algorithm.is_empty() {
                self.inner.model().kind()
            } else {
                t.algorithm.as_str()
            },
            self.inner.task().name(),
            t.target,
            numeric + categorical,
            numeric,
            categorical,
            classes
        )
    }

    /// Pickles as the artifact bytes.
    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        static LOADER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let loader = cached(py, &LOADER, "tabship", "_pipeline_from_bytes")?.clone();
        Ok((loader, (self.to_bytes(py)?,)))
    }
}

/// One record: a `dict`, or a pandas `Series` (one row, e.g. `df.iloc[0]`) as its dict.
fn as_record<'py>(x: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyDict>>> {
    if let Ok(dict) = x.cast::<PyDict>() {
        return Ok(Some(dict.clone()));
    }
    let kind = x.get_type();
    if kind.name()?.to_str()? == "Series" && kind.module()?.to_str()?.starts_with("pandas") {
        return Ok(Some(x.call_method0("to_dict")?.cast_into::<PyDict>()?));
    }
    Ok(None)
}

/// A dict whose values are all columns (lists, arrays, Series) rather than scalars is a dict of
/// columns, not a record.
fn looks_like_columns(x: &Bound<'_, PyAny>) -> PyResult<bool> {
    let dict = x.cast::<PyDict>()?;
    let Some((_, first)) = dict.iter().next() else {
        return Ok(false);
    };
    if first.cast::<pyo3::types::PyString>().is_ok() || first.is_none() {
        return Ok(false);
    }
    Ok(first.cast::<PyList>().is_ok()
        || first.cast::<PyTuple>().is_ok()
        || first.hasattr(pyo3::intern!(x.py(), "__array__"))?
            && first.hasattr(pyo3::intern!(x.py(), "__len__"))?)
}
