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

/// Refuses predictions and actual values of different lengths.
fn same_length(py: Python<'_>, predicted: usize, actual: usize) -> PyResult<()> {
    if predicted == actual {
        return Ok(());
    }
    Err(schema(
        py,
        format!("expected as many actual values as predictions ({predicted}), got `{actual}`"),
    ))
}

fn pairs<T>(py: Python<'_>, a: Vec<T>, b: Vec<T>) -> PyResult<impl Iterator<Item = (T, T)>> {
    same_length(py, a.len(), b.len())?;
    Ok(a.into_iter().zip(b))
}

/// The methods every tracker has (pickling, construction from a window length, `value`,
/// `window`, `len`, `repr`), plus `$extra` (its `update` and `update_many`).
macro_rules! tracker_class {
    ($ty:ident, $inner:ident, $name:literal, $metric:literal, $($extra:tt)*) => {
        #[pymethods]
        impl $ty {
            /// Pickles as the tracker's full window (MessagePack).
            fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
                reduce(slf, &slf.borrow().inner)
            }

            /// The tracker pickled by `__reduce__` (`tabship.ArtifactError` when the state is
            /// corrupt or inconsistent).
            #[staticmethod]
            fn _from_state(py: Python<'_>, state: &[u8]) -> PyResult<Self> {
                Ok($ty {
                    inner: decode(py, $name, state)?,
                })
            }

            #[new]
            fn new(py: Python<'_>, window: usize) -> PyResult<Self> {
                Ok($ty {
                    inner: $inner::new(window).map_err(drift_err(py))?,
                })
            }

            /// The metric over the window (`None` while empty).
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
                    concat!($name, "(window={}) [{} values, ", $metric, " {:?}]"),
                    self.inner.window(),
                    self.inner.len(),
                    self.inner.value()
                )
            }

            $($extra)*
        }
    };
}

/// Accuracy over the last `window` predictions.
#[pyclass(module = "tabship.drift", name = "WindowedAccuracy")]
pub(crate) struct PyWindowedAccuracy {
    inner: WindowedAccuracy,
}

tracker_class! {
    PyWindowedAccuracy,
    WindowedAccuracy,
    "WindowedAccuracy",
    "accuracy",
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
        same_length(py, p.len()?, a.len()?)?;
        let equal = np.call_method1("equal", (p, a))?;
        for correct in flags(py, &equal)? {
            self.inner.update(correct);
        }
        Ok(())
    }
}

/// F1 score of the positive class over the last `window` predictions (as scikit-learn's
/// `f1_score`: 0 when there is no true or predicted positive).
#[pyclass(module = "tabship.drift", name = "WindowedF1")]
pub(crate) struct PyWindowedF1 {
    inner: WindowedF1,
}

tracker_class! {
    PyWindowedF1,
    WindowedF1,
    "WindowedF1",
    "F1",
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
}

/// Mean absolute error over the last `window` predictions.
#[pyclass(module = "tabship.drift", name = "WindowedMae")]
pub(crate) struct PyWindowedMae {
    inner: WindowedMae,
}

tracker_class! {
    PyWindowedMae,
    WindowedMae,
    "WindowedMae",
    "MAE",
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
}

/// Registers the tracker classes on the extension module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyWindowedAccuracy>()?;
    m.add_class::<PyWindowedF1>()?;
    m.add_class::<PyWindowedMae>()?;
    Ok(())
}
