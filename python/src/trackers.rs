//! `tabship.drift.WindowedAccuracy`, `WindowedF1` and `WindowedMae`: live quality over the last
//! `window` labelled predictions (exact windows, O(1) per value).

use pyo3::prelude::*;
use tabship::drift::{WindowedAccuracy, WindowedF1, WindowedMae};

use crate::detectors::float_values;
use crate::errors::{drift_err, schema};
use crate::pickle::{Reduced, decode, reduce};

fn flags(py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<Vec<bool>> {
    Ok(float_values(py, values)?
        .into_iter()
        .map(|x| x != 0.0)
        .collect())
}

fn pairs<T>(py: Python<'_>, a: Vec<T>, b: Vec<T>) -> PyResult<impl Iterator<Item = (T, T)>> {
    if a.len() != b.len() {
        return Err(schema(
            py,
            format!(
                "expected as many actual values as predictions ({}), got `{}`",
                a.len(),
                b.len()
            ),
        ));
    }
    Ok(a.into_iter().zip(b))
}

/// Accuracy over the last `window` predictions.
#[pyclass(module = "tabship.drift", name = "WindowedAccuracy")]
pub(crate) struct PyWindowedAccuracy {
    inner: WindowedAccuracy,
}

#[pymethods]
impl PyWindowedAccuracy {
    /// Pickles as the tracker's full window (MessagePack).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        reduce(slf, &slf.borrow().inner)
    }

    /// The tracker pickled by `__reduce__` (`tabship.ArtifactError` when the state is corrupt
    /// or inconsistent).
    #[staticmethod]
    fn _from_state(py: Python<'_>, state: &[u8]) -> PyResult<Self> {
        Ok(PyWindowedAccuracy {
            inner: decode(py, "WindowedAccuracy", state)?,
        })
    }

    #[new]
    fn new(py: Python<'_>, window: usize) -> PyResult<Self> {
        Ok(PyWindowedAccuracy {
            inner: WindowedAccuracy::new(window).map_err(drift_err(py))?,
        })
    }

    /// Adds one prediction: whether it was right.
    fn update(&mut self, correct: bool) {
        self.inner.update(correct);
    }

    /// Adds predictions and their true labels (array-likes of equal length, compared
    /// element-wise).
    fn update_many(
        &mut self,
        py: Python<'_>,
        predicted: &Bound<'_, PyAny>,
        actual: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let np = py.import("numpy")?;
        let p = np
            .call_method1("asarray", (predicted,))?
            .call_method0("ravel")?;
        let a = np
            .call_method1("asarray", (actual,))?
            .call_method0("ravel")?;
        if p.len()? != a.len()? {
            return Err(schema(
                py,
                format!(
                    "expected as many actual labels as predictions ({}), got `{}`",
                    p.len()?,
                    a.len()?
                ),
            ));
        }
        let equal = np.call_method1("equal", (p, a))?;
        for correct in flags(py, &equal)? {
            self.inner.update(correct);
        }
        Ok(())
    }

    /// Accuracy in the window (`None` while empty).
    #[getter]
    fn value(&self) -> Option<f64> {
        self.inner.value()
    }

    /// The window length.
    #[getter]
    fn window(&self) -> usize {
        self.inner.window()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "WindowedAccuracy(window={}) [{} values, accuracy {:?}]",
            self.inner.window(),
            self.inner.len(),
            self.inner.value()
        )
    }
}

/// F1 score of the positive class over the last `window` predictions (as scikit-learn's
/// `f1_score`: 0 when there is no true or predicted positive).
#[pyclass(module = "tabship.drift", name = "WindowedF1")]
pub(crate) struct PyWindowedF1 {
    inner: WindowedF1,
}

#[pymethods]
impl PyWindowedF1 {
    /// Pickles as the tracker's full window (MessagePack).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        reduce(slf, &slf.borrow().inner)
    }

    /// The tracker pickled by `__reduce__` (`tabship.ArtifactError` when the state is corrupt
    /// or inconsistent).
    #[staticmethod]
    fn _from_state(py: Python<'_>, state: &[u8]) -> PyResult<Self> {
        Ok(PyWindowedF1 {
            inner: decode(py, "WindowedF1", state)?,
        })
    }

    #[new]
    fn new(py: Python<'_>, window: usize) -> PyResult<Self> {
        Ok(PyWindowedF1 {
            inner: WindowedF1::new(window).map_err(drift_err(py))?,
        })
    }

    /// Adds one prediction: whether it predicted the positive class, whether the label was it.
    fn update(&mut self, predicted_positive: bool, actually_positive: bool) {
        self.inner.update(predicted_positive, actually_positive);
    }

    /// Adds predictions as two boolean array-likes of equal length (predicted positive,
    /// actually positive).
    fn update_many(
        &mut self,
        py: Python<'_>,
        predicted_positive: &Bound<'_, PyAny>,
        actually_positive: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let p = flags(py, predicted_positive)?;
        let a = flags(py, actually_positive)?;
        for (p, a) in pairs(py, p, a)? {
            self.inner.update(p, a);
        }
        Ok(())
    }

    /// F1 in the window (`None` while empty).
    #[getter]
    fn value(&self) -> Option<f64> {
        self.inner.value()
    }

    /// The window length.
    #[getter]
    fn window(&self) -> usize {
        self.inner.window()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "WindowedF1(window={}) [{} values, F1 {:?}]",
            self.inner.window(),
            self.inner.len(),
            self.inner.value()
        )
    }
}

/// Mean absolute error over the last `window` predictions.
#[pyclass(module = "tabship.drift", name = "WindowedMae")]
pub(crate) struct PyWindowedMae {
    inner: WindowedMae,
}

#[pymethods]
impl PyWindowedMae {
    /// Pickles as the tracker's full window (MessagePack).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        reduce(slf, &slf.borrow().inner)
    }

    /// The tracker pickled by `__reduce__` (`tabship.ArtifactError` when the state is corrupt
    /// or inconsistent).
    #[staticmethod]
    fn _from_state(py: Python<'_>, state: &[u8]) -> PyResult<Self> {
        Ok(PyWindowedMae {
            inner: decode(py, "WindowedMae", state)?,
        })
    }

    #[new]
    fn new(py: Python<'_>, window: usize) -> PyResult<Self> {
        Ok(PyWindowedMae {
            inner: WindowedMae::new(window).map_err(drift_err(py))?,
        })
    }

    /// Adds one prediction and its true value (pairs with a non-finite value are ignored).
    fn update(&mut self, predicted: f64, actual: f64) {
        self.inner.update(predicted, actual);
    }

    /// Adds predictions and true values (numeric array-likes of equal length).
    fn update_many(
        &mut self,
        py: Python<'_>,
        predicted: &Bound<'_, PyAny>,
        actual: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let p = float_values(py, predicted)?;
        let a = float_values(py, actual)?;
        for (p, a) in pairs(py, p, a)? {
            self.inner.update(p, a);
        }
        Ok(())
    }

    /// MAE in the window (`None` while empty).
    #[getter]
    fn value(&self) -> Option<f64> {
        self.inner.value()
    }

    /// The window length.
    #[getter]
    fn window(&self) -> usize {
        self.inner.window()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "WindowedMae(window={}) [{} values, MAE {:?}]",
            self.inner.window(),
            self.inner.len(),
            self.inner.value()
        )
    }
}

/// Registers the tracker classes on the extension module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyWindowedAccuracy>()?;
    m.add_class::<PyWindowedF1>()?;
    m.add_class::<PyWindowedMae>()?;
    Ok(())
}
