//! Pickling of stateful objects (monitors, detectors, trackers) by their MessagePack state:
//! `__reduce__` returns `(cls._from_state, (state,))`, `_from_state` decodes it back.
//!
//! The state travels in an envelope `{"format", "class", "state"}`: a pickle written by a tabship
//! with another state format, or the state of another class, is refused with a message saying
//! so instead of a decoding error about some inner field.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::bad_state;

/// What a `__reduce__` returns for an object restored from one state argument.
pub(crate) type Reduced<'py> = (Bound<'py, PyAny>, (Bound<'py, PyBytes>,));

/// The layout of the pickled states this version writes and reads; raise it when a state type
/// changes shape.
pub(crate) const STATE_FORMAT: u32 = 1;

#[derive(serde::Serialize)]
struct Outgoing<'a, T> {
    format: u32,
    class: &'a str,
    state: &'a T,
}

/// The envelope without its state, read first.
#[derive(serde::Deserialize)]
struct Header {
    format: u32,
    class: String,
}

#[derive(serde::Deserialize)]
struct Incoming<T> {
    state: T,
}

/// The MessagePack bytes of the state of a `class` object (serializing plain data in memory
/// cannot fail; a failure is still reported, not unwrapped).
pub(crate) fn state_bytes<'py>(
    py: Python<'py>,
    class: &str,
    state: &impl serde::Serialize,
) -> PyResult<Bound<'py, PyBytes>> {
    let envelope = Outgoing {
        format: STATE_FORMAT,
        class,
        state,
    };
    let bytes = rmp_serde::to_vec_named(&envelope)
        .map_err(|e| crate::errors::base(py, format!("cannot pickle: {e}")))?;
    Ok(PyBytes::new(py, &bytes))
}

/// `(type(obj)._from_state, (state,))` for `obj`.
pub(crate) fn reduce<'py, T: pyo3::PyClass>(
    obj: &Bound<'py, T>,
    state: &impl serde::Serialize,
) -> PyResult<Reduced<'py>> {
    let py = obj.py();
    let bytes = state_bytes(py, T::NAME, state)?;
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
    let header: Header = rmp_serde::from_slice(state).map_err(|e| bad_state(py, class, e))?;
    if header.format != STATE_FORMAT {
        return Err(bad_state(
            py,
            class,
            format!(
                "state format {} was written by another tabship version; this one reads format \
                 {STATE_FORMAT}",
                header.format
            ),
        ));
    }
    if header.class != class {
        return Err(bad_state(
            py,
            class,
            format!("this is the state of a `{}`", header.class),
        ));
    }
    let incoming: Incoming<T> =
        rmp_serde::from_slice(state).map_err(|e| bad_state(py, class, e))?;
    Ok(incoming.state)
}
