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
//! - `(name, "utf8", offsets, data, nulls)`: an Arrow string column (pandas' default `str`
//!   dtype, pyarrow tables) as its buffers: int64 offsets, UTF-8 bytes, and `None` or one byte
//!   per row that is 1 for a null — read without creating a Python object per row;
//! - `(name, "objects", values)`: a list of Python values, converted one by one (the slow,
//!   general path: numeric text, mixed types).

use std::cell::Cell;

use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use rustc_hash::FxHashMap;
use tabship::{
    Batch, CategoricalValues, ColumnKind, ColumnValues, FieldValue, NaValues, Record, Schema,
};

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
    na: &NaValues,
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
            ("utf8", ColumnKind::Categorical) => {
                let offsets = PyBuffer::<i64>::get(&entry.get_item(2)?)?.to_vec(py)?;
                let data = PyBuffer::<u8>::get(&entry.get_item(3)?)?.to_vec(py)?;
                let nulls = entry.get_item(4)?;
                let nulls = if nulls.is_none() {
                    None
                } else {
                    Some(PyBuffer::<u8>::get(&nulls)?.to_vec(py)?)
                };
                utf8_column(py, &name, &offsets, &data, nulls.as_deref())?
            }
            ("objects", _) => {
                let values = entry.get_item(2)?.cast_into::<PyList>()?;
                objects_column(py, &name, kind, &values, na)?
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

/// A categorical column from Arrow's string layout: `offsets` (one more than the rows, into
/// `data`), UTF-8 `data`, and optionally one byte per row that is non-zero for a null.
fn utf8_column(
    py: Python<'_>,
    name: &str,
    offsets: &[i64],
    data: &[u8],
    nulls: Option<&[u8]>,
) -> PyResult<ColumnValues> {
    let invalid = |row: usize| {
        schema(
            py,
            format!(
                "column `{name}`: row {}: invalid Arrow string data",
                row + 1
            ),
        )
    };
    // Validate the UTF-8 once; each row is then a slice at character boundaries.
    let text = std::str::from_utf8(data).map_err(|_| invalid(0))?;
    let rows = offsets.len().saturating_sub(1);
    // Distinct texts borrowed from `data`, then one interning per distinct text in the core.
    let mut index: FxHashMap<&str, i64> = FxHashMap::default();
    let mut dictionary: Vec<Option<&str>> = Vec::new();
    let mut codes = Vec::with_capacity(rows);
    for (row, pair) in offsets.windows(2).enumerate() {
        if nulls.is_some_and(|n| n.get(row).is_some_and(|&b| b != 0)) {
            codes.push(-1);
            continue;
        }
        let value = usize::try_from(pair[0])
            .ok()
            .zip(usize::try_from(pair[1]).ok())
            .and_then(|(a, b)| text.get(a..b))
            .ok_or_else(|| invalid(row))?;
        let next = dictionary.len() as i64;
        let code = *index.entry(value).or_insert_with(|| {
            dictionary.push(Some(value));
            next
        });
        codes.push(code);
    }
    debug_assert_eq!(codes.len(), rows);
    Ok(ColumnValues::Categorical(
        CategoricalValues::from_codes(&dictionary, &codes).map_err(core_err(py))?,
    ))
}

/// A column from a list of Python values, converted one by one.
fn objects_column(
    py: Python<'_>,
    name: &str,
    kind: ColumnKind,
    values: &Bound<'_, PyList>,
    na: &NaValues,
) -> PyResult<ColumnValues> {
    let at_row = |row: usize| move |e: tabship::Error| e.at_row(row);
    Ok(match kind {
        ColumnKind::Numeric => {
            let mut out = Vec::with_capacity(values.len());
            for (row, v) in values.iter().enumerate() {
                let x = field(&v, name, kind)
                    .and_then(|f| f.number(name, na))
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

/// The dict's values for the schema's columns (`keys`: the column names as interned Python
/// strings, whose hashes are cached), kept alive while the record is used.
pub(crate) fn dict_values<'py>(
    dict: &Bound<'py, PyDict>,
    keys: &[Py<PyString>],
) -> PyResult<Vec<Option<Bound<'py, PyAny>>>> {
    let py = dict.py();
    keys.iter().map(|k| dict.get_item(k.bind(py))).collect()
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
