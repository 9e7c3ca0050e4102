//! Python values → the core's input values, with the same policy as every other input path.
//!
//! - `None`, `float('nan')`, `pandas.NA`, `pandas.NaT` and `""` are missing.
//! - `str` is text: a numeric column parses it (`" 39 "` is 39), a categorical column uses it as is.
//! - `bool` is `1`/`0` in a numeric column and `True`/`False` in a categorical one (what pandas
//!   writes to CSV).
//! - `int`, `float` and anything with `__float__` (numpy scalars, `Decimal`) are numbers; a
//!   categorical column compares them as text (`3`, not `3.0`).
//! - Anything else is a `SchemaError` naming the column, what was expected and the value's repr.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString};
use tabship::{ColumnKind, FieldValue, number_as_category};

use crate::errors::invalid_value;

/// Longest received value quoted in an error message.
const MAX_QUOTED: usize = 80;

/// `pandas.NA` or `pandas.NaT`. Looked up only when pandas is already imported (a value of
/// pandas cannot exist otherwise), so importing tabship never imports pandas.
fn is_missing_sentinel(value: &Bound<'_, PyAny>) -> bool {
    let py = value.py();
    let Ok(modules) = py.import("sys").and_then(|sys| sys.getattr("modules")) else {
        return false;
    };
    let Ok(pandas) = modules.get_item("pandas") else {
        return false;
    };
    ["NA", "NaT"]
        .iter()
        .any(|name| pandas.getattr(*name).is_ok_and(|m| m.is(value)))
}

/// `repr(value)`, shortened for error messages.
pub(crate) fn describe(value: &Bound<'_, PyAny>) -> String {
    let text = value
        .repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "<unprintable>".to_owned());
    let type_name = value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default();
    let mut short: String = text.chars().take(MAX_QUOTED).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    format!("{short} ({type_name})")
}

/// Converts one Python value for a column of `kind`. Text is borrowed from the Python string
/// (alive as long as `value`). Errors are the core's `InvalidValue`.
pub(crate) fn field<'a>(
    value: &'a Bound<'_, PyAny>,
    column: &str,
    kind: ColumnKind,
) -> Result<Field<'a>, tabship::Error> {
    if let Ok(s) = value.cast_exact::<PyString>() {
        return match s.to_str() {
            Ok(text) => Ok(Field::Borrowed(FieldValue::Text(text))),
            Err(_) => Err(invalid_value(
                column,
                kind.expected(),
                describe(value),
                None,
            )),
        };
    }
    if let Ok(f) = value.cast_exact::<PyFloat>() {
        return Ok(Field::Borrowed(FieldValue::Number(f.value())));
    }
    if value.is_none() {
        return Ok(Field::Borrowed(FieldValue::Null));
    }
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(match kind {
            ColumnKind::Numeric => {
                Field::Borrowed(FieldValue::Number(f64::from(u8::from(b.is_true()))))
            }
            ColumnKind::Categorical => {
                Field::Borrowed(FieldValue::Text(if b.is_true() { "True" } else { "False" }))
            }
        });
    }
    if value.is_instance_of::<PyInt>() {
        return match value.extract::<i64>() {
            Ok(i) if kind == ColumnKind::Categorical => Ok(Field::Owned(i.to_string())),
            _ => value
                .extract::<f64>()
                .map(|x| Field::Borrowed(FieldValue::Number(x)))
                .map_err(|_| invalid_value(column, kind.expected(), describe(value), None)),
        };
    }
    if let Ok(s) = value.cast::<PyString>() {
        // A str subclass.
        return s
            .to_str()
            .map(|t| Field::Borrowed(FieldValue::Text(t)))
            .map_err(|_| invalid_value(column, kind.expected(), describe(value), None));
    }
    if is_missing_sentinel(value) {
        return Ok(Field::Borrowed(FieldValue::Null));
    }
    // Scalars with `__float__` (numpy scalars, Decimal); sized objects (arrays) are not values.
    if value
        .hasattr(pyo3::intern!(value.py(), "__float__"))
        .unwrap_or(false)
        && !value
            .hasattr(pyo3::intern!(value.py(), "__len__"))
            .unwrap_or(true)
    {
        if let Ok(x) = value.extract::<f64>() {
            return Ok(Field::Borrowed(FieldValue::Number(x)));
        }
    }
    Err(invalid_value(
        column,
        match kind {
            ColumnKind::Numeric => "a number (int, float or numeric text)",
            ColumnKind::Categorical => "a category (str, int, float or bool)",
        },
        describe(value),
        None,
    ))
}

/// A converted value: borrowed from Python, or text made for a categorical column.
#[derive(Debug)]
pub(crate) enum Field<'a> {
    /// A value borrowing the Python object's text.
    Borrowed(FieldValue<'a>),
    /// Text made from an integer (`3`).
    Owned(String),
}

impl Field<'_> {
    /// The value as the core reads it.
    pub(crate) fn as_field(&self) -> FieldValue<'_> {
        match self {
            Field::Borrowed(v) => *v,
            Field::Owned(s) => FieldValue::Text(s),
        }
    }

    /// The number of a numeric column (`NaN` when missing); numeric text is parsed under the
    /// NA policy `na`.
    pub(crate) fn number(
        &self,
        column: &str,
        na: &tabship::NaValues,
    ) -> Result<f64, tabship::Error> {
        match self.as_field() {
            FieldValue::Null => Ok(f64::NAN),
            FieldValue::Number(x) => Ok(x),
            FieldValue::Text(t) => Ok(na.parse_number(column, t)?.unwrap_or(f64::NAN)),
        }
    }

    /// The text of a categorical column (`None` when missing).
    pub(crate) fn category(&self) -> Option<String> {
        match self.as_field() {
            FieldValue::Null => None,
            FieldValue::Number(x) if x.is_nan() => None,
            FieldValue::Number(x) => Some(number_as_category(x)),
            FieldValue::Text("") => None,
            FieldValue::Text(t) => Some(t.to_owned()),
        }
    }
}

/// A number as the text a categorical column compares it with (the core's
/// `number_as_category`): what `tabship.onnx.inputs` feeds an exported graph for a number in a
/// categorical column, so the graph matches it as the pipeline does.
#[pyfunction]
pub(crate) fn _number_as_category(x: f64) -> String {
    number_as_category(x)
}
