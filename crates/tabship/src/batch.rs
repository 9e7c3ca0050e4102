//! Columnar batches: many rows at once, columns by name.
//!
//! Categorical columns are dictionary-encoded (like Arrow dictionary arrays): each distinct text is
//! stored once and rows hold a code, so encoding a batch looks each distinct value up once.

use rustc_hash::FxHashMap;

use crate::schema::{ColumnKind, ColumnSpec, Schema};
use crate::{Error, Result};

/// Code of a missing value in [`CategoricalValues::codes`].
pub const MISSING_CODE: u32 = u32::MAX;

/// A dictionary-encoded text column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CategoricalValues {
    dictionary: Vec<String>,
    codes: Vec<u32>,
    index: FxHashMap<String, u32>,
}

impl CategoricalValues {
    /// An empty column.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a column from optional texts; `None` and `""` are missing.
    pub fn from_options<'a, I>(values: I) -> Self
    where
        I: IntoIterator<Item = Option<&'a str>>,
    {
        let mut column = Self::new();
        for v in values {
            column.push(v);
        }
        column
    }

    /// Builds a column from a dictionary and one code per row, the layout of pandas'
    /// `factorize`/`Categorical` and Arrow dictionary arrays, without hashing every row.
    ///
    /// A negative code is missing; so is a code whose dictionary entry is `None` or `""`.
    /// Entries that are equal (e.g. `3` and `"3"` after conversion to text) are merged, so the
    /// result is the same as pushing every row's text. A code past the end of the dictionary is an
    /// [`Error::InvalidBatch`] naming the row (1-based) and the dictionary size.
    pub fn from_codes<S: AsRef<str>>(dictionary: &[Option<S>], codes: &[i64]) -> Result<Self> {
        let mut column = Self::new();
        let remap: Vec<u32> = dictionary
            .iter()
            .map(|entry| match entry.as_ref().map(AsRef::as_ref) {
                None | Some("") => MISSING_CODE,
                Some(text) => column.intern(text),
            })
            .collect();
        column.codes.reserve(codes.len());
        for (row, &code) in codes.iter().enumerate() {
            let mapped = if code < 0 {
                MISSING_CODE
            } else {
                *usize::try_from(code)
                    .ok()
                    .and_then(|c| remap.get(c))
                    .ok_or_else(|| {
                        Error::InvalidBatch(format!(
                            "row {}: code `{code}` is past the end of a dictionary of {} entries",
                            row + 1,
                            dictionary.len()
                        ))
                    })?
            };
            column.codes.push(mapped);
        }
        Ok(column)
    }

    fn intern(&mut self, text: &str) -> u32 {
        match self.index.get(text) {
            Some(&code) => code,
            None => {
                let code = self.dictionary.len() as u32;
                self.dictionary.push(text.to_owned());
                self.index.insert(text.to_owned(), code);
                code
            }
        }
    }

    /// Appends one value; `None` and `""` are missing.
    pub fn push(&mut self, value: Option<&str>) {
        let code = match value {
            None | Some("") => MISSING_CODE,
            Some(text) => self.intern(text),
        };
        self.codes.push(code);
    }

    /// The distinct texts, in order of first appearance.
    pub fn dictionary(&self) -> &[String] {
        &self.dictionary
    }

    /// One code per row: an index into [`dictionary`](Self::dictionary), or [`MISSING_CODE`].
    pub fn codes(&self) -> &[u32] {
        &self.codes
    }

    /// The text of row `i`, `None` when missing.
    pub fn get(&self, i: usize) -> Option<&str> {
        match self.codes.get(i) {
            Some(&code) if code != MISSING_CODE => Some(self.dictionary[code as usize].as_str()),
            _ => None,
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Rows `indices`, in that order, as a new column.
    pub fn take(&self, indices: &[usize]) -> Self {
        Self::from_options(indices.iter().map(|&i| self.get(i)))
    }
}

/// The values of one batch column.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnValues {
    /// Numbers; `NaN` is missing.
    Numeric(Vec<f64>),
    /// Dictionary-encoded text.
    Categorical(CategoricalValues),
}

impl ColumnValues {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            ColumnValues::Numeric(v) => v.len(),
            ColumnValues::Categorical(v) => v.len(),
        }
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rows `indices`, in that order.
    pub fn take(&self, indices: &[usize]) -> Self {
        match self {
            ColumnValues::Numeric(v) => {
                ColumnValues::Numeric(indices.iter().map(|&i| v[i]).collect())
            }
            ColumnValues::Categorical(v) => ColumnValues::Categorical(v.take(indices)),
        }
    }
}

/// Many rows, stored by column.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Batch {
    n_rows: usize,
    names: Vec<String>,
    columns: Vec<ColumnValues>,
}

impl Batch {
    /// Creates a batch from named columns of equal length with unique names.
    pub fn new(columns: Vec<(String, ColumnValues)>) -> Result<Self> {
        let n_rows = columns.first().map_or(0, |(_, c)| c.len());
        let mut names = Vec::with_capacity(columns.len());
        let mut values = Vec::with_capacity(columns.len());
        for (name, column) in columns {
            if column.len() != n_rows {
                return Err(Error::InvalidBatch(format!(
                    "column `{name}` has {} rows, the first column has {n_rows}",
                    column.len()
                )));
            }
            if names.contains(&name) {
                return Err(Error::InvalidBatch(format!(
                    "column `{name}` appears twice"
                )));
            }
            names.push(name);
            values.push(column);
        }
        Ok(Batch {
            n_rows,
            names,
            columns: values,
        })
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Column names in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// A column by name.
    pub fn column(&self, name: &str) -> Option<&ColumnValues> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| &self.columns[i])
    }

    /// The column of schema column `spec` ([`Error::MissingColumn`] when absent).
    pub fn column_for(&self, spec: &ColumnSpec) -> Result<&ColumnValues> {
        self.column(&spec.name).ok_or_else(|| Error::missing(spec))
    }

    /// Rows `indices`, in that order, as a new batch.
    pub fn take(&self, indices: &[usize]) -> Batch {
        Batch {
            n_rows: indices.len(),
            names: self.names.clone(),
            columns: self.columns.iter().map(|c| c.take(indices)).collect(),
        }
    }
}

/// Builds a [`Batch`] from rows of text (CSV records), parsing each schema column by its kind
/// and reading the schema's [`NaValues`](crate::NaValues) as missing.
///
/// Columns in the header that the schema does not name are skipped; a schema column missing from
/// the header is an error.
#[derive(Debug)]
pub struct TextBatchBuilder<'s> {
    schema: &'s Schema,
    positions: Vec<usize>,
    columns: Vec<ColumnValues>,
    n_rows: usize,
}

impl<'s> TextBatchBuilder<'s> {
    /// Maps the schema's columns onto `header`.
    pub fn new<S: AsRef<str>>(schema: &'s Schema, header: &[S]) -> Result<Self> {
        let mut positions = Vec::with_capacity(schema.len());
        let mut columns = Vec::with_capacity(schema.len());
        for column in &schema.columns {
            let position = header
                .iter()
                .position(|h| h.as_ref() == column.name)
                .ok_or_else(|| Error::missing(column))?;
            positions.push(position);
            columns.push(match column.kind {
                ColumnKind::Numeric => ColumnValues::Numeric(Vec::new()),
                ColumnKind::Categorical => ColumnValues::Categorical(CategoricalValues::new()),
            });
        }
        Ok(TextBatchBuilder {
            schema,
            positions,
            columns,
            n_rows: 0,
        })
    }

    /// Appends one row given as its fields in header order. On error nothing is appended.
    pub fn push_row<'a, R>(&mut self, row: R) -> Result<()>
    where
        R: IntoIterator<Item = &'a str>,
    {
        let fields: Vec<&str> = row.into_iter().collect();
        let row_index = self.n_rows;
        // Parse every numeric field first so that a bad row leaves the builder unchanged.
        let mut parsed = Vec::with_capacity(self.positions.len());
        for (spec, &pos) in self.schema.columns.iter().zip(&self.positions) {
            let text = fields.get(pos).copied().unwrap_or("");
            if spec.kind == ColumnKind::Numeric {
                parsed.push(
                    self.schema
                        .na_values
                        .parse_number(&spec.name, text)
                        .map_err(|e| e.at_row(row_index))?
                        .unwrap_or(f64::NAN),
                );
            } else {
                parsed.push(0.0);
            }
        }
        for ((column, &pos), x) in self.columns.iter_mut().zip(&self.positions).zip(parsed) {
            match column {
                ColumnValues::Numeric(values) => values.push(x),
                ColumnValues::Categorical(values) => values.push(
                    fields
                        .get(pos)
                        .copied()
                        .filter(|t| !self.schema.na_values.is_missing_category(t)),
                ),
            }
        }
        self.n_rows += 1;
        Ok(())
    }

    /// Rows pushed so far.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// The finished batch, with the schema's columns in schema order.
    pub fn finish(self) -> Batch {
        Batch {
            n_rows: self.n_rows,
            names: self.schema.columns.iter().map(|c| c.name.clone()).collect(),
            columns: self.columns,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ColumnSpec;

    fn schema() -> Schema {
        Schema::new(vec![
            ColumnSpec {
                name: "age".into(),
                kind: ColumnKind::Numeric,
                nullable: false,
            },
            ColumnSpec {
                name: "job".into(),
                kind: ColumnKind::Categorical,
                nullable: true,
            },
        ])
        .unwrap()
    }

    #[test]
    fn text_rows_become_typed_columns() {
        let schema = schema();
        let mut b = TextBatchBuilder::new(&schema, &["job", "extra", "age"]).unwrap();
        b.push_row(["a", "zzz", "1.5"]).unwrap();
        b.push_row(["", "zzz", ""]).unwrap();
        b.push_row(["a", "zzz", "3"]).unwrap();
        let err = b.push_row(["a", "zzz", "x"]).unwrap_err().to_string();
        assert_eq!(err, "row 4, column `age`: expected a number, got `x`");
        let batch = b.finish();
        assert_eq!(batch.n_rows(), 3);
        match batch.column("age").unwrap() {
            ColumnValues::Numeric(v) => {
                assert_eq!(v[0], 1.5);
                assert!(v[1].is_nan());
            }
            other => panic!("{other:?}"),
        }
        match batch.column("job").unwrap() {
            ColumnValues::Categorical(v) => {
                assert_eq!(v.dictionary(), ["a".to_owned()]);
                assert_eq!(v.codes(), [0, MISSING_CODE, 0]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn missing_header_column_is_named() {
        let schema = schema();
        let err = TextBatchBuilder::new(&schema, &["job"])
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "missing column `age`: the pipeline needs it as a number"
        );
    }

    #[test]
    fn codes_with_a_dictionary_equal_pushed_texts() {
        let dictionary = [Some("b"), None, Some(""), Some("a"), Some("b")];
        let codes = [0, -1, 1, 2, 3, 4, 0];
        let column = CategoricalValues::from_codes(&dictionary, &codes).unwrap();
        let pushed = CategoricalValues::from_options([
            Some("b"),
            None,
            None,
            None,
            Some("a"),
            Some("b"),
            Some("b"),
        ]);
        assert_eq!(column.dictionary(), pushed.dictionary());
        assert_eq!(column.codes(), pushed.codes());
        assert_eq!(column.get(5), Some("b"));
        let appended = {
            let mut c = column.clone();
            c.push(Some("a"));
            c
        };
        assert_eq!(appended.codes().last(), Some(&1));
    }

    #[test]
    fn codes_past_the_dictionary_are_refused() {
        let err = CategoricalValues::from_codes(&[Some("a")], &[0, 1])
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "invalid batch: row 2: code `1` is past the end of a dictionary of 1 entries"
        );
        assert!(
            CategoricalValues::from_codes::<&str>(&[], &[])
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn unequal_columns_are_refused() {
        let err = Batch::new(vec![
            ("a".into(), ColumnValues::Numeric(vec![1.0])),
            ("b".into(), ColumnValues::Numeric(vec![])),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("column `b` has 0 rows"));
    }
}
