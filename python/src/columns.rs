//! Input data → the core's columnar [`Batch`] (and single records), with as little copying as
//! the core's owned columns allow.
//!
//! The Python side (`tabship/_convert.py`) looks at pandas / pyarrow / numpy / list input and
//! hands over one entry per column, already in the form that is cheapest to read here:
//!
//! - `(name, "f64", array)`: a C-contiguous `float64` numpy array for a numeric column, read
//!   through the buffer protocol (one `memcpy`; `NaN` is missing);
//! - `(name, "codes", codes, uniques)`: an `int64` array of codes (negative = missing) and the
//!   list of distinct values, for a categorical column (`pandas.factorize`, a pandas
//!   `Categorical`, an Arrow dictionary): each distinct value is converted once;
//! - `(name, "objects", values)`: a list of Python values, converted one by one (the slow,
//!   general path: numeric text, mixed types).

use std::cell::Cell;

use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use tabship::{Batch, CategoricalValues, ColumnKind, ColumnValues, FieldValue, Record, Schema};

use crate::errors::{core_err, schema};
use crate::values::{Field, field};

/// Column kinds wanted from the Python side: schema order, plus extra columns (a target).
pub(crate) fn kinds_list<'py>(
    py: Python<'py>,
    columns: impl IntoIterator<Item = (&'py str, ColumnKind)>,
) -> PyResult<Bound<'py, PyList>> {
    let items: Vec<(&str, &str)> = columns
        .into_iter()
        .map(|(name, kind)| (name, kind.name()))
        .collect();
    PyList::new(py, items)
}

/// Builds a batch from the entries of `tabship._convert` (see the module docs). Every entry's
/// kind must be in `kinds` (name → kind); the core reports columns that are absent.
pub(crate) fn batch_from_entries(
    py: Python<'_>,
    entries: &Bound<'_, PyList>,
    kind_of: impl Fn(&str) -> Option<ColumnKind>,
) -> PyResult<Batch> {
    let mut columns = Vec::with_capacity(entries.len());
    for entry in entries.iter() {
        let entry = entry.cast_into::<PyTuple>()?;
        let name: String = entry.get_item(0)?.extract()?;
        let tag: String = entry.get_item(1)?.extract()?;
        let Some(kind) = kind_of(&name) else {
            continue;
        };
        let values = match (tag.as_str(), kind) {
            ("f64", ColumnKind::Numeric) => {
                let buffer = PyBuffer::<f64>::get(&entry.get_item(2)?)?;
                ColumnValues::Numeric(buffer.to_vec(py)?)
            }
            ("codes", ColumnKind::Categorical) => {
                let buffer = PyBuffer::<i64>::get(&entry.get_item(2)?)?;
                let codes = buffer.to_vec(py)?;
                let uniques = entry.get_item(3)?.cast_into::<PyList>()?;
                let mut dictionary = Vec::with_capacity(uniques.len());
                for u in uniques.iter() {
                    dictionary.push(field(&u, &name, kind).map_err(core_err(py))?.category());
                }
                ColumnValues::Categorical(
                    CategoricalValues::from_codes(&dictionary, &codes).map_err(core_err(py))?,
                )
            }
            ("objects", _) => {
                let values = entry.get_item(2)?.cast_into::<PyList>()?;
                objects_column(py, &name, kind, &values)?
            }
            (tag, kind) => {
                return Err(schema(
                    py,
                    format!(
                        "column `{name}`: internal conversion gave `{tag}` data for a {} column",
                        kind.name()
                    ),
                ));
            }
        };
        columns.push((name, values));
    }
    Batch::new(columns).map_err(core_err(py))
}

/// A column from a list of Python values, converted one by one.
fn objects_column(
    py: Python<'_>,
    name: &str,
    kind: ColumnKind,
    values: &Bound<'_, PyList>,
) -> PyResult<ColumnValues> {
    let at_row = |row: usize| {
        move |e: tabship::Error| match e {
            tabship::Error::InvalidValue {
                column,
                expected,
                received,
                row: None,
            } => tabship::Error::InvalidValue {
                column,
                expected,
                received,
                row: Some(row + 1),
            },
            other => other,
        }
    };
    Ok(match kind {
        ColumnKind::Numeric => {
            let mut out = Vec::with_capacity(values.len());
            for (row, v) in values.iter().enumerate() {
                let x = field(&v, name, kind)
                    .and_then(|f| f.number(name))
                    .map_err(at_row(row))
                    .map_err(core_err(py))?;
                out.push(x);
            }
            ColumnValues::Numeric(out)
        }
        ColumnKind::Categorical => {
            let mut out = CategoricalValues::new();
            for (row, v) in values.iter().enumerate() {
                let f = field(&v, name, kind)
                    .map_err(at_row(row))
                    .map_err(core_err(py))?;
                match f.as_field() {
                    FieldValue::Text(t) => out.push(Some(t)),
                    _ => out.push(f.category().as_deref()),
                }
            }
            ColumnValues::Categorical(out)
        }
    })
}

/// One record (a `dict`) read for the schema's columns, text borrowed from the dict's strings.
pub(crate) struct DictRecord<'a> {
    names: &'a Schema,
    values: Vec<Option<Field<'a>>>,
    next: Cell<usize>,
}

/// The dict's values for the schema's columns, kept alive while the record is used.
pub(crate) fn dict_values<'py>(
    dict: &Bound<'py, PyDict>,
    schema: &Schema,
) -> PyResult<Vec<Option<Bound<'py, PyAny>>>> {
    schema
        .columns
        .iter()
        .map(|c| dict.get_item(c.name.as_str()))
        .collect()
}

impl<'a> DictRecord<'a> {
    /// Converts the looked-up values (absent columns stay absent: the core names them).
    pub(crate) fn new(
        schema: &'a Schema,
        values: &'a [Option<Bound<'_, PyAny>>],
    ) -> Result<Self, tabship::Error> {
        let mut converted = Vec::with_capacity(values.len());
        for (spec, value) in schema.columns.iter().zip(values) {
            converted.push(match value {
                Some(v) => Some(field(v, &spec.name, spec.kind)?),
                None => None,
            });
        }
        Ok(DictRecord {
            names: schema,
            values: converted,
            next: Cell::new(0),
        })
    }
}

impl Record for DictRecord<'_> {
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        // The core asks for the columns in schema order: try the next one first.
        let columns = &self.names.columns;
        let guess = self.next.get();
        let at = if columns.get(guess).is_some_and(|c| c.name == name) {
            guess
        } else {
            self.names.position(name)?
        };
        self.next.set(at + 1);
        self.values[at].as_ref().map(Field::as_field)
    }
}
