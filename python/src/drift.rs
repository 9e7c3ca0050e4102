//! `tabship.drift` on plain arrays and the report bridge: the drift statistics over binned
//! counts, `ColumnProfile` (a reference profile of one numeric or categorical array, compared
//! with a live array), and the conversions shared with `Pipeline.drift` and the monitors
//! (keyword options → `DriftOptions`, `DriftReport` → the Python `tabship.drift.DriftReport`).
//!
//! Reports cross as JSON text (the same serde serialization `tabship drift --json` prints) and
//! become frozen dataclasses on the Python side (`tabship/drift.py`): they are plain data, pickle
//! for free and compare equal to the CLI's output.

use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple};
use tabship::drift::{
    self, Binner, ColumnProfile, Distribution, DriftOptions, DriftReport, LiveColumn,
    ProfileOptions, ReferenceProfile, stats,
};

use crate::errors::{base, drift_err, option, schema};
use crate::gil::without_gil;

fn helper<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyAny>>,
    name: &str,
) -> PyResult<&'py Bound<'py, PyAny>> {
    cell.import(py, "tabship.drift", name)
}

/// Keyword options (`share=0.3, wasserstein=0.2, ...`: the fields of the Rust `DriftOptions`,
/// as `tabship drift --options` takes them) → validated options.
pub(crate) fn options(
    py: Python<'_>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<DriftOptions> {
    let Some(kwargs) = kwargs.filter(|k| !k.is_empty()) else {
        return Ok(DriftOptions::default());
    };
    static TO_JSON: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let text: String = helper(py, &TO_JSON, "_options_json")?
        .call1((kwargs,))?
        .extract()?;
    let options: DriftOptions = serde_json::from_str(&text)
        .map_err(|e| option(py, format!("invalid drift option: {e}")))?;
    options.validate().map_err(drift_err(py))?;
    Ok(options)
}

/// A report as a `tabship.drift.DriftReport`.
pub(crate) fn report_object(py: Python<'_>, report: &DriftReport) -> PyResult<Py<PyAny>> {
    let text = serde_json::to_string(report).map_err(|e| base(py, e.to_string()))?;
    static FROM_JSON: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    Ok(helper(py, &FROM_JSON, "_report_from_json")?
        .call1((text,))?
        .unbind())
}

fn column_object(py: Python<'_>, report: &drift::ColumnReport) -> PyResult<Py<PyAny>> {
    let text = serde_json::to_string(report).map_err(|e| base(py, e.to_string()))?;
    static FROM_JSON: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    Ok(helper(py, &FROM_JSON, "_column_from_json")?
        .call1((text,))?
        .unbind())
}

fn json_object(py: Python<'_>, value: &impl serde::Serialize) -> PyResult<Py<PyAny>> {
    let text = serde_json::to_string(value).map_err(|e| base(py, e.to_string()))?;
    static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    Ok(LOADS.import(py, "json", "loads")?.call1((text,))?.unbind())
}

/// A float64 array of `values` (`tabship.drift._numbers`: any 1-D array-like of numbers,
/// `None`/NaN missing).
fn numbers(py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
    static NUMBERS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let array = helper(py, &NUMBERS, "_numbers")?.call1((values,))?;
    PyBuffer::<f64>::get(&array)?.to_vec(py)
}

/// Categories of `values` (`tabship.drift._categories`: text, `None` missing).
fn categories(py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<Vec<Option<String>>> {
    static CATEGORIES: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    helper(py, &CATEGORIES, "_categories")?
        .call1((values,))?
        .extract()
}

fn same_length(py: Python<'_>, reference: &[u64], live: &[u64]) -> PyResult<()> {
    if reference.len() != live.len() {
        return Err(schema(
            py,
            format!(
                "reference and live counts must cover the same slots: expected {} live counts, got `{}`",
                reference.len(),
                live.len()
            ),
        ));
    }
    Ok(())
}

/// Population stability index of two count vectors over the same slots.
#[pyfunction]
pub(crate) fn _psi(py: Python<'_>, reference: Vec<u64>, live: Vec<u64>) -> PyResult<f64> {
    same_length(py, &reference, &live)?;
    Ok(stats::psi(&reference, &live))
}

/// Binned two-sample Kolmogorov–Smirnov: `(statistic, p_value, error_bound)`.
#[pyfunction]
pub(crate) fn _ks(
    py: Python<'_>,
    reference: Vec<u64>,
    live: Vec<u64>,
) -> PyResult<(f64, f64, f64)> {
    same_length(py, &reference, &live)?;
    let r = stats::ks(&reference, &live);
    Ok((r.statistic, r.p_value, r.error_bound))
}

/// Chi-square test of the live counts against the reference shares: `(statistic, p_value, dof)`.
#[pyfunction]
pub(crate) fn _chi_square(
    py: Python<'_>,
    reference: Vec<u64>,
    live: Vec<u64>,
) -> PyResult<(f64, f64, usize)> {
    same_length(py, &reference, &live)?;
    let r = stats::chi_square(&reference, &live);
    Ok((r.statistic, r.p_value, r.dof))
}

/// Jensen–Shannon distance (base 2) of two count vectors.
#[pyfunction]
pub(crate) fn _jensen_shannon(
    py: Python<'_>,
    reference: Vec<u64>,
    live: Vec<u64>,
) -> PyResult<f64> {
    same_length(py, &reference, &live)?;
    Ok(stats::jensen_shannon(&reference, &live))
}

/// Hellinger distance of two count vectors.
#[pyfunction]
pub(crate) fn _hellinger(py: Python<'_>, reference: Vec<u64>, live: Vec<u64>) -> PyResult<f64> {
    same_length(py, &reference, &live)?;
    Ok(stats::hellinger(&reference, &live))
}

/// Binned Wasserstein-1 over `edges` (`len(edges) + 1` slots) plus the exact out-of-range term.
#[pyfunction]
#[pyo3(signature = (edges, reference, live, outside = 0.0))]
pub(crate) fn _wasserstein(
    py: Python<'_>,
    edges: Vec<f64>,
    reference: Vec<u64>,
    live: Vec<u64>,
    outside: f64,
) -> PyResult<f64> {
    same_length(py, &reference, &live)?;
    check_edges(py, &edges)?;
    if edges.len() + 1 != reference.len() {
        return Err(schema(
            py,
            format!(
                "{} edges need {} counts, got `{}`",
                edges.len(),
                edges.len() + 1,
                reference.len()
            ),
        ));
    }
    if !(outside.is_finite() && outside >= 0.0) {
        return Err(option(
            py,
            format!("outside: expected a finite number ≥ 0, got `{outside}`"),
        ));
    }
    Ok(stats::wasserstein(&edges, &reference, &live, outside))
}

fn check_edges(py: Python<'_>, edges: &[f64]) -> PyResult<()> {
    if let Some(x) = edges.iter().find(|x| !x.is_finite()) {
        return Err(schema(
            py,
            format!("edges: expected finite numbers, got `{x}`"),
        ));
    }
    let constant = edges.len() == 2 && edges[0] == edges[1];
    if !constant && edges.windows(2).any(|w| w[0] >= w[1]) {
        return Err(schema(
            py,
            "edges: expected strictly increasing numbers".into(),
        ));
    }
    Ok(())
}

/// Survival function of the Kolmogorov distribution.
#[pyfunction]
pub(crate) fn _kolmogorov_sf(x: f64) -> f64 {
    stats::kolmogorov_sf(x)
}

/// The point each slot's mass is placed at by Wasserstein.
#[pyfunction]
pub(crate) fn _slot_points(py: Python<'_>, edges: Vec<f64>) -> PyResult<Vec<f64>> {
    check_edges(py, &edges)?;
    Ok(stats::slot_points(&edges))
}

/// Counts of `values` in the slots of `edges` (underflow, bins, overflow; NaN ignored).
#[pyfunction]
pub(crate) fn _histogram(
    py: Python<'_>,
    values: &Bound<'_, PyAny>,
    edges: Vec<f64>,
) -> PyResult<Vec<u64>> {
    check_edges(py, &edges)?;
    let values = numbers(py, values)?;
    let mut counts = vec![0u64; edges.len() + 1];
    for x in values.into_iter().filter(|x| x.is_finite()) {
        counts[drift::profile::slot_of(&edges, x)] += 1;
    }
    Ok(counts)
}

/// The reference distribution of one numeric or categorical array: compare live arrays with it.
#[pyclass(frozen, module = "tabship.drift", name = "ColumnProfile")]
pub(crate) struct PyColumnProfile {
    binner: Binner,
}

impl PyColumnProfile {
    fn new(py: Python<'_>, profile: ColumnProfile) -> PyResult<Self> {
        let profile = ReferenceProfile {
            columns: vec![profile],
            prediction: None,
        };
        profile.validate().map_err(drift_err(py))?;
        Ok(PyColumnProfile {
            binner: Binner::new(profile),
        })
    }

    fn column(&self) -> &ColumnProfile {
        &self.binner.profile().columns[0]
    }

    fn sample(&self, py: Python<'_>, live: &Bound<'_, PyAny>) -> PyResult<drift::LiveSample> {
        match &self.column().distribution {
            Distribution::Numeric(_) => {
                let values = numbers(py, live)?;
                without_gil(py, || {
                    self.binner.sample(&[LiveColumn::Numeric(&values)], None)
                })
                .map_err(drift_err(py))
            }
            Distribution::Categorical(_) => {
                let values = categories(py, live)?;
                let borrowed: Vec<Option<&str>> = values.iter().map(Option::as_deref).collect();
                self.binner
                    .sample(&[LiveColumn::Categorical(&borrowed)], None)
                    .map_err(drift_err(py))
            }
        }
    }
}

#[pymethods]
impl PyColumnProfile {
    /// Profiles a numeric array (NaN, infinite values and `None` are missing): count, missing,
    /// mean, std, min, max, and quantile histograms of `bins` coarse and `fine_bins` fine bins;
    /// with at most `exact_values` distinct values (0: never), every value with its count.
    #[staticmethod]
    #[pyo3(signature = (values, name = "value", *, bins = 10, fine_bins = 100, exact_values = 20))]
    fn numeric(
        py: Python<'_>,
        values: &Bound<'_, PyAny>,
        name: &str,
        bins: usize,
        fine_bins: usize,
        exact_values: usize,
    ) -> PyResult<Self> {
        let values = numbers(py, values)?;
        let options = ProfileOptions {
            bins,
            fine_bins,
            exact_values,
            ..ProfileOptions::default()
        };
        let profile = without_gil(py, || ColumnProfile::numeric(name, &values, &options))
            .map_err(drift_err(py))?;
        Self::new(py, profile)
    }

    /// Profiles a categorical array (text; numbers are compared as text; `None`, NaN and the
    /// empty text are missing): the `max_categories` most frequent categories and a lumped count
    /// for the rest.
    #[staticmethod]
    #[pyo3(signature = (values, name = "value", *, max_categories = 100))]
    fn categorical(
        py: Python<'_>,
        values: &Bound<'_, PyAny>,
        name: &str,
        max_categories: usize,
    ) -> PyResult<Self> {
        let values = categories(py, values)?;
        let options = ProfileOptions {
            max_categories,
            ..ProfileOptions::default()
        };
        let profile =
            ColumnProfile::categorical(name, values.iter().map(Option::as_deref), &options)
                .map_err(drift_err(py))?;
        Self::new(py, profile)
    }

    /// Reads a profile written by `to_json()` (validated: bounded, finite, consistent).
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Self> {
        let profile: ColumnProfile = serde_json::from_str(text)
            .map_err(|e| schema(py, format!("invalid column profile JSON: {e}")))?;
        Self::new(py, profile)
    }

    /// The profile as JSON text (the layout stored in artifacts).
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        serde_json::to_string(self.column()).map_err(|e| base(py, e.to_string()))
    }

    /// The profile as a dict: `{"name", "distribution": {"type": "numeric", "count", "missing",
    /// "mean", "std", "min", "max", "edges", "counts", "fine_edges", "fine_counts"}}` or
    /// `{"type": "categorical", "categories", "counts", "other", "other_categories", "missing"}`.
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        json_object(py, self.column())
    }

    /// The column's name.
    #[getter]
    fn name(&self) -> &str {
        &self.column().name
    }

    /// `"numeric"` or `"categorical"`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.column().distribution.kind()
    }

    /// Reference rows (present and missing).
    #[getter]
    fn rows(&self) -> u64 {
        self.column().rows()
    }

    /// The live array binned on this profile's slots: for a numeric profile `{"type": "numeric",
    /// "counts", "fine_counts", "missing", "sum", "sum_sq", "below", "above"}` (counts over the
    /// same slots as the profile's `counts` and `fine_counts`), for a categorical one
    /// `{"type": "categorical", "counts", "other", "unknown", "missing"}`.
    fn live_counts(&self, py: Python<'_>, live: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let sample = self.sample(py, live)?;
        json_object(py, &sample.columns[0])
    }

    /// Compares a live array with the profile: a `tabship.drift.ColumnDrift` with the deciding
    /// statistic, its value and threshold, the verdict, and every other statistic and rate.
    /// Options are the thresholds and tests of `Pipeline.drift`.
    #[pyo3(signature = (live, **options))]
    fn compare(
        &self,
        py: Python<'_>,
        live: &Bound<'_, PyAny>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let options = self::options(py, options)?;
        let sample = self.sample(py, live)?;
        let report = drift::column_report(self.column(), &sample.columns[0], &options)
            .map_err(drift_err(py))?;
        column_object(py, &report)
    }

    fn __repr__(&self) -> String {
        let c = self.column();
        match &c.distribution {
            Distribution::Numeric(p) => format!(
                "<tabship.drift.ColumnProfile {:?}: numeric, {} values ({} missing), mean {:.4}, std {:.4}, {} bins>",
                c.name,
                p.count,
                p.missing,
                p.mean,
                p.std,
                p.counts.len().saturating_sub(2)
            ),
            Distribution::Categorical(p) => format!(
                "<tabship.drift.ColumnProfile {:?}: categorical, {} values ({} missing), {} categories{}>",
                c.name,
                p.count(),
                p.missing,
                p.categories.len(),
                if p.other_categories > 0 {
                    format!(" + {} lumped", p.other_categories)
                } else {
                    String::new()
                }
            ),
        }
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyColumnProfile>()
            .is_ok_and(|o| o.get().column() == self.column())
    }

    /// Pickles as the profile's JSON.
    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let loader = py
            .get_type::<PyColumnProfile>()
            .getattr(pyo3::intern!(py, "from_json"))?;
        Ok((loader, PyTuple::new(py, [self.to_json(py)?])?))
    }
}

/// Registers the array-level drift functions and classes on the extension module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyColumnProfile>()?;
    for f in [
        wrap_pyfunction!(_psi, m)?,
        wrap_pyfunction!(_ks, m)?,
        wrap_pyfunction!(_chi_square, m)?,
        wrap_pyfunction!(_jensen_shannon, m)?,
        wrap_pyfunction!(_hellinger, m)?,
        wrap_pyfunction!(_wasserstein, m)?,
        wrap_pyfunction!(_kolmogorov_sf, m)?,
        wrap_pyfunction!(_slot_points, m)?,
        wrap_pyfunction!(_histogram, m)?,
    ] {
        m.add_function(f)?;
    }
    Ok(())
}
