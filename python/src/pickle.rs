//! Pickling of stateful objects (monitors, detectors, trackers) by their MessagePack state:
//! `__reduce__` returns `(cls._from_state, (state,))`, `_from_state` decodes it back.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::bad_state;

/// What a `__reduce__` returns for an object restored from one state argument.
pub(crate) type Reduced<'py> = (Bound<'py, PyAny>, (Bound<'py, PyBytes>,));

/// The MessagePack bytes of a state that pickles an object (serializing plain data in memory
/// cannot fail; a failure is still reported, not unwrapped).
pub(crate) fn state_bytes<'py>(
    py: Python<'py>,
    state: &impl serde::Serialize,
) -> PyResult<Bound<'py, PyBytes>> {
    let bytes = rmp_serde::to_vec_named(state)
        .map_err(|e| crate::errors::base(py, format!("cannot pickle: {e}")))?;
    Ok(PyBytes::new(py, &bytes))
}

/// `(type(obj)._from_state, (state,))` for `obj`.
pub(crate) fn reduce<'py, T: pyo3::PyClass>(
    obj: &Bound<'py, T>,
    state: &impl serde::Serialize,
) -> PyResult<Reduced<'py>> {
    let py = obj.py();
    let bytes = state_bytes(py, state)?;
    Ok((
        obj.as_any()
            .get_type()
            .getattr(pyo3::intern!(py, "_from_state"))?,
        (bytes,),
    ))
}

/// Decodes a pickled state of a `class` (`tabship.ArtifactError` naming the class when the
/// bytes do not decode or the state is inconsistent).
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    py: Python<'_>,
    class: &str,
    state: &[u8],
) -> PyResult<T> {
    rmp_serde::from_slice(state).map_err(|e| bad_state(py, class, e))
}
