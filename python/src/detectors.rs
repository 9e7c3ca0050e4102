//! `tabship.drift.DDM`, `PageHinkley` and `ADWIN`: concept-drift detectors fed one error or loss
//! per labelled prediction (`update`) or a whole array of them (`update_many`).

use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use tabship::drift::{Adwin, Ddm, Detector, DetectorState, PageHinkley};

use crate::errors::drift_err;
use crate::pickle::{Reduced, decode, reduce};

/// The values of an array-like as float64 (`numpy.ascontiguousarray(values, "float64")`).
pub(crate) fn float_values(py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
    static CONTIGUOUS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let array = CONTIGUOUS
        .import(py, "numpy", "ascontiguousarray")?
        .call1((values, "float64"))?
        .call_method0("ravel")?;
    PyBuffer::<f64>::get(&array)?.to_vec(py)
}

fn state_name(state: DetectorState) -> &'static str {
    match state {
        DetectorState::Stable => "stable",
        DetectorState::Warning => "warning",
        DetectorState::Drift => "drift",
    }
}

/// Feeds `values` and returns the positions (0-based) where a drift was detected.
fn feed<D: Detector>(detector: &mut D, last: &mut DetectorState, values: &[f64]) -> Vec<usize> {
    let mut drifts = Vec::new();
    for (i, &x) in values.iter().enumerate() {
        *last = detector.update(x);
        if *last == DetectorState::Drift {
            drifts.push(i);
        }
    }
    drifts
}

macro_rules! detector_class {
    ($ty:ident, $name:literal, $($extra:tt)*) => {
        #[pymethods]
        impl $ty {
            /// Pickles as the detector's full state (MessagePack), so a restored detector
            /// continues exactly where this one stopped.
            fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
                let this = slf.borrow();
                reduce(slf, &(&this.inner, this.state, this.params))
            }

            /// The detector pickled by `__reduce__` (`tabship.ArtifactError` when the state is
            /// corrupt or inconsistent).
            #[staticmethod]
            fn _from_state(py: Python<'_>, state: &[u8]) -> PyResult<Self> {
                let (inner, state, params) = decode(py, $name, state)?;
                Ok($ty { inner, state, params })
            }

            /// Adds one value (an error or loss; non-finite values are ignored) and returns
            /// whether a drift was detected at it.
            fn update(&mut self, x: f64) -> bool {
                self.state = self.inner.update(x);
                self.state == DetectorState::Drift
            }

            /// Adds every value of an array-like, in order, and returns the 0-based positions
            /// where a drift was detected. (The GIL stays held: a few nanoseconds per value,
            /// and releasing it would let another thread find the detector borrowed.)
            fn update_many(&mut self, py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<Vec<usize>> {
                let values = float_values(py, values)?;
                Ok(feed(&mut self.inner, &mut self.state, &values))
            }

            /// True when the last value added was a drift.
            #[getter]
            fn drift_detected(&self) -> bool {
                self.state == DetectorState::Drift
            }

            /// The conclusion after the last value: `"stable"`, `"warning"` (DDM only) or
            /// `"drift"`.
            #[getter]
            fn state(&self) -> &'static str {
                state_name(self.state)
            }

            /// Drifts detected since creation.
            #[getter]
            fn drifts(&self) -> u64 {
                self.inner.drifts()
            }

            /// Forgets every value (the drift count is kept).
            fn reset(&mut self) {
                self.inner.reset();
                self.state = DetectorState::Stable;
            }

            $($extra)*
        }
    };
}

/// The Drift Detection Method (Gama et al., 2004) over a 0/1 error stream (1 = wrong).
#[pyclass(module = "tabship.drift", name = "DDM")]
pub(crate) struct PyDdm {
    inner: Ddm,
    state: DetectorState,
    params: (u64, f64, f64),
}

detector_class! {
    PyDdm,
    "DDM",
    #[new]
    #[pyo3(signature = (warm_start = 30, warning = 2.0, drift = 3.0))]
    fn new(py: Python<'_>, warm_start: u64, warning: f64, drift: f64) -> PyResult<Self> {
        Ok(PyDdm {
            inner: Ddm::new(warm_start, warning, drift).map_err(drift_err(py))?,
            state: DetectorState::Stable,
            params: (warm_start, warning, drift),
        })
    }

    /// True when the last value added raised a warning (a possible change).
    #[getter]
    fn warning_detected(&self) -> bool {
        self.state == DetectorState::Warning
    }

    /// The error rate since the last reset (or drift).
    #[getter]
    fn error_rate(&self) -> f64 {
        self.inner.error_rate()
    }

    fn __repr__(&self) -> String {
        let (w, warn, d) = self.params;
        format!(
            "DDM(warm_start={w}, warning={warn:?}, drift={d:?}) [{}, error rate {:.4}, {} drifts]",
            state_name(self.state),
            self.inner.error_rate(),
            self.inner.drifts()
        )
    }
}

/// The Page-Hinkley test for an increase of the mean of a loss stream.
#[pyclass(module = "tabship.drift", name = "PageHinkley")]
pub(crate) struct PyPageHinkley {
    inner: PageHinkley,
    state: DetectorState,
    params: (u64, f64, f64, f64),
}

detector_class! {
    PyPageHinkley,
    "PageHinkley",
    #[new]
    #[pyo3(signature = (min_instances = 30, delta = 0.005, threshold = 50.0, alpha = 0.9999))]
    fn new(
        py: Python<'_>,
        min_instances: u64,
        delta: f64,
        threshold: f64,
        alpha: f64,
    ) -> PyResult<Self> {
        Ok(PyPageHinkley {
            inner: PageHinkley::new(min_instances, delta, threshold, alpha)
                .map_err(drift_err(py))?,
            state: DetectorState::Stable,
            params: (min_instances, delta, threshold, alpha),
        })
    }

    fn __repr__(&self) -> String {
        let (m, d, t, a) = self.params;
        format!(
            "PageHinkley(min_instances={m}, delta={d:?}, threshold={t:?}, alpha={a:?}) [{}, {} drifts]",
            state_name(self.state),
            self.inner.drifts()
        )
    }
}

/// ADWIN (Bifet and Gavaldà, 2007): an adaptive window that drops its older part when its mean
/// changes.
#[pyclass(module = "tabship.drift", name = "ADWIN")]
pub(crate) struct PyAdwin {
    inner: Adwin,
    state: DetectorState,
    /// delta
    params: f64,
}

detector_class! {
    PyAdwin,
    "ADWIN",
    #[new]
    #[pyo3(signature = (delta = 0.002))]
    fn new(py: Python<'_>, delta: f64) -> PyResult<Self> {
        Ok(PyAdwin {
            inner: Adwin::new(delta).map_err(drift_err(py))?,
            state: DetectorState::Stable,
            params: delta,
        })
    }

    /// Values in the current (adaptive) window.
    #[getter]
    fn width(&self) -> u64 {
        self.inner.width()
    }

    /// Mean of the current window (0 when empty).
    #[getter]
    fn mean(&self) -> f64 {
        self.inner.mean()
    }

    fn __repr__(&self) -> String {
        format!(
            "ADWIN(delta={:?}) [{}, width {}, mean {:.4}, {} drifts]",
            self.params,
            state_name(self.state),
            self.inner.width(),
            self.inner.mean(),
            self.inner.drifts()
        )
    }
}

/// Registers the detector classes on the extension module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDdm>()?;
    m.add_class::<PyPageHinkley>()?;
    m.add_class::<PyAdwin>()?;
    Ok(())
}
