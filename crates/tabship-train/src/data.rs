//! Training data: CSV reading with column-kind inference, kind overrides, and the data fingerprint.

use std::path::Path;

use sha2::{Digest, Sha256};
use tabship::{
    Batch, CategoricalValues, ColumnKind, ColumnSpec, ColumnValues, NaValues, Schema,
    TextBatchBuilder, number_as_category,
};

use crate::csv_input::{CsvFile, CsvOptions};
use crate::{Error, Result};

/// Columns whose inferred kind the user overrides.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KindOverrides {
    /// Treat these columns as categorical even when every value is a number.
    pub categorical: Vec<String>,
    /// Treat these columns as numeric; a value that is not a number is then an error.
    pub numeric: Vec<String>,
}

impl KindOverrides {
    fn kind_of(&self, name: &str) -> Option<ColumnKind> {
        if self.categorical.iter().any(|c| c == name) {
            Some(ColumnKind::Categorical)
        } else if self.numeric.iter().any(|c| c == name) {
            Some(ColumnKind::Numeric)
        } else {
            None
        }
    }

    fn check(&self, names: &[String]) -> Result<()> {
        for (option, list) in [
            ("categorical", &self.categorical),
            ("numeric", &self.numeric),
        ] {
            for name in list {
                if !names.contains(name) {
                    return Err(Error::InvalidOption {
                        option,
                        reason: format!(
                            "no column `{name}` in the data{} (columns: {})",
                            crate::suggest::did_you_mean(name, names),
                            names.join(", ")
                        ),
                    });
                }
            }
        }
        if let Some(both) = self.categorical.iter().find(|c| self.numeric.contains(c)) {
            return Err(Error::InvalidOption {
                option: "categorical",
                reason: format!("column `{both}` is also listed as numeric"),
            });
        }
        Ok(())
    }
}

/// Reads a CSV file (header row, comma-separated, UTF-8, default NA values) into a batch with
/// every column, inferring each column's kind as [`read_csv_with`] does.
pub fn read_csv(path: &Path, overrides: &KindOverrides) -> Result<Batch> {
    read_csv_with(path, &CsvOptions::default(), overrides)
}

/// Reads a CSV file in the dialect `csv` into a batch with every column, inferring each
/// column's kind: numeric when every value is a finite number or missing (empty, `NaN`, or one
/// of `csv.na_values`), categorical otherwise, unless `overrides` says else.
///
/// A regular file is read twice, streaming: once to infer the kinds, once into the batch, so
/// the rows are never held as text (a 31 MB CSV held as text records took ~350 MB). Anything
/// else (a pipe) is read once, its rows held as text while the kinds are inferred.
pub fn read_csv_with(path: &Path, csv: &CsvOptions, overrides: &KindOverrides) -> Result<Batch> {
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        let (header, records) = read_text_rows(path, csv)?;
        if records.is_empty() {
            return Err(no_rows(path, &header));
        }
        return text_rows_to_batch(&header, &records, overrides, &csv.na_values);
    }
    let (mut file, header) = open_with_header(path, csv)?;
    overrides.check(&header)?;
    let mut kinds = KindInference::new(&header, &csv.na_values);
    let mut record = csv::StringRecord::new();
    let mut rows = 0usize;
    while file.read_record(&mut record)? {
        kinds.observe(&record);
        rows += 1;
    }
    if rows == 0 {
        return Err(no_rows(path, &header));
    }
    let schema = kinds.schema(overrides)?;
    let mut file = csv.open(path)?;
    let mut builder = TextBatchBuilder::new(&schema, &header)?;
    let mut read = 0usize;
    while file.read_record(&mut record)? {
        builder.push_row(record.iter())?;
        read += 1;
    }
    if read != rows {
        return Err(Error::Csv {
            path: path.to_path_buf(),
            message: format!("the file changed while it was read: {rows} data rows, then {read}"),
        });
    }
    Ok(builder.finish())
}

/// The error for a file without data rows.
fn no_rows(path: &Path, header: &[String]) -> Error {
    let what = if header.is_empty() {
        "the file is empty: expected a header row, then data rows"
    } else {
        "no data rows: the file has only a header"
    };
    Error::Csv {
        path: path.to_path_buf(),
        message: what.to_owned(),
    }
}

/// Column kinds inferred from text rows seen one at a time: per column, whether every value is
/// a number or missing, and whether any is missing read as a number or as a category.
struct KindInference<'a> {
    header: &'a [String],
    na: &'a NaValues,
    /// Per column: (every value a number or missing, some number missing, some category missing).
    seen: Vec<(bool, bool, bool)>,
}

impl<'a> KindInference<'a> {
    fn new(header: &'a [String], na: &'a NaValues) -> Self {
        KindInference {
            header,
            na,
            seen: vec![(true, false, false); header.len()],
        }
    }

    /// Takes one row into account (a short row's missing fields read as empty).
    fn observe(&mut self, row: &csv::StringRecord) {
        for (i, (name, seen)) in self.header.iter().zip(&mut self.seen).enumerate() {
            let field = row.get(i).unwrap_or("");
            seen.0 = seen.0 && self.na.is_number_or_missing(field);
            seen.1 = seen.1 || self.na.parse_number(name, field).is_ok_and(|x| x.is_none());
            seen.2 = seen.2 || self.na.is_missing_category(field);
        }
    }

    /// The schema of the rows seen, `overrides` deciding kinds where they name a column.
    fn schema(&self, overrides: &KindOverrides) -> Result<Schema> {
        let columns = self
            .header
            .iter()
            .zip(&self.seen)
            .map(|(name, &(numeric, missing_number, missing_category))| {
                let kind = overrides.kind_of(name).unwrap_or(if numeric {
                    ColumnKind::Numeric
                } else {
                    ColumnKind::Categorical
                });
                ColumnSpec {
                    name: name.clone(),
                    kind,
                    nullable: match kind {
                        ColumnKind::Numeric => missing_number,
                        ColumnKind::Categorical => missing_category,
                    },
                }
            })
            .collect();
        Ok(Schema::new(columns)?.with_na_values(self.na.clone())?)
    }
}

/// The header's names and every data row of `path`, as text, in the dialect `csv`; a column
/// named twice in the header is refused.
pub fn read_text_rows(
    path: &Path,
    csv: &CsvOptions,
) -> Result<(Vec<String>, Vec<csv::StringRecord>)> {
    let (mut file, header) = open_with_header(path, csv)?;
    Ok((header, file.read_all()?))
}

/// `path` opened in the dialect `csv`, with its header's names; a column named twice is refused.
fn open_with_header(path: &Path, csv: &CsvOptions) -> Result<(CsvFile, Vec<String>)> {
    let file = csv.open(path)?;
    let header = file.names();
    if let Some(message) = duplicate_header(&header) {
        return Err(Error::Csv {
            path: path.to_path_buf(),
            message,
        });
    }
    Ok((file, header))
}

/// Why a header row cannot name columns: a name given twice (1-based field numbers, as a
/// spreadsheet counts them).
pub fn duplicate_header<S: AsRef<str>>(header: &[S]) -> Option<String> {
    let mut seen = std::collections::HashMap::new();
    for (i, name) in header.iter().enumerate() {
        if let Some(first) = seen.insert(name.as_ref(), i) {
            return Some(format!(
                "column `{}` appears twice in the header (fields {} and {}): rename one",
                name.as_ref(),
                first + 1,
                i + 1
            ));
        }
    }
    None
}

/// Builds a typed batch from text rows, inferring kinds as [`read_csv_with`] does, with `na` as
/// the missing-value policy.
pub fn text_rows_to_batch(
    header: &[String],
    rows: &[csv::StringRecord],
    overrides: &KindOverrides,
    na: &NaValues,
) -> Result<Batch> {
    if let Some(message) = duplicate_header(header) {
        return Err(Error::Data(message));
    }
    overrides.check(header)?;
    let mut kinds = KindInference::new(header, na);
    for row in rows {
        kinds.observe(row);
    }
    let schema = kinds.schema(overrides)?;
    let mut builder = TextBatchBuilder::new(&schema, header)?;
    for row in rows {
        builder.push_row(row.iter())?;
    }
    Ok(builder.finish())
}

/// Converts a column to `kind`: numbers become category text (`3`, `2.5`), text is parsed as
/// numbers under the NA policy `na` (an error names the first value that is not one).
pub fn convert_column(
    name: &str,
    values: &ColumnValues,
    kind: ColumnKind,
    na: &NaValues,
) -> Result<ColumnValues> {
    Ok(match (values, kind) {
        (ColumnValues::Numeric(_), ColumnKind::Numeric)
        | (ColumnValues::Categorical(_), ColumnKind::Categorical) => values.clone(),
        (ColumnValues::Numeric(v), ColumnKind::Categorical) => {
            let texts: Vec<Option<String>> = v
                .iter()
                .map(|x| (!x.is_nan()).then(|| number_as_category(*x)))
                .collect();
            ColumnValues::Categorical(CategoricalValues::from_options(
                texts.iter().map(|t| t.as_deref()),
            ))
        }
        (ColumnValues::Categorical(v), ColumnKind::Numeric) => {
            let mut out = Vec::with_capacity(v.len());
            for i in 0..v.len() {
                let x = match v.get(i) {
                    None => f64::NAN,
                    Some(text) => na
                        .parse_number(name, text)
                        .map_err(|e| e.at_row(i))?
                        .unwrap_or(f64::NAN),
                };
                out.push(x);
            }
            ColumnValues::Numeric(out)
        }
    })
}

/// `sha256:<hex>` over a batch: every column's name, then its values (numbers as IEEE bits with
/// one canonical NaN, texts as UTF-8, missing as a marker). Equal data gives an equal fingerprint
/// whether it came from CSV, pandas or Rust.
pub fn fingerprint(batch: &Batch) -> String {
    let mut hasher = Sha256::new();
    for name in batch.names() {
        hasher.update((name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
        match batch.column(name) {
            Some(ColumnValues::Numeric(v)) => {
                hasher.update(b"N");
                for x in v {
                    let bits = if x.is_nan() {
                        f64::NAN.to_bits()
                    } else {
                        x.to_bits()
                    };
                    hasher.update(bits.to_le_bytes());
                }
            }
            Some(ColumnValues::Categorical(v)) => {
                hasher.update(b"C");
                for i in 0..v.len() {
                    match v.get(i) {
                        Some(t) => {
                            hasher.update((t.len() as u64).to_le_bytes());
                            hasher.update(t.as_bytes());
                        }
                        None => hasher.update(u64::MAX.to_le_bytes()),
                    }
                }
            }
            None => {}
        }
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(data: &[&[&str]]) -> Vec<csv::StringRecord> {
        data.iter()
            .map(|r| csv::StringRecord::from(r.to_vec()))
            .collect()
    }

    #[test]
    fn infers_kinds_and_applies_overrides() {
        let header = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let data = rows(&[&["1", "x", "3"], &["", "y", "4"]]);
        let na = NaValues::default();
        let batch = text_rows_to_batch(&header, &data, &KindOverrides::default(), &na).unwrap();
        assert!(matches!(batch.column("a"), Some(ColumnValues::Numeric(_))));
        assert!(matches!(
            batch.column("b"),
            Some(ColumnValues::Categorical(_))
        ));
        let overrides = KindOverrides {
            categorical: vec!["c".into()],
            numeric: vec![],
        };
        let batch = text_rows_to_batch(&header, &data, &overrides, &na).unwrap();
        assert!(matches!(
            batch.column("c"),
            Some(ColumnValues::Categorical(_))
        ));
        let bad = KindOverrides {
            categorical: vec![],
            numeric: vec!["b".into()],
        };
        let err = text_rows_to_batch(&header, &data, &bad, &na)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "row 1, column `b`: expected a number, got `x`");
    }

    #[test]
    fn a_file_streamed_twice_reads_as_its_rows_held_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let text = "n,c,mixed,na,last\n1,x,2,NA,5\n,y,z,3,\n2.5,,4,,7\n-1,x,5,NA,\n";
        std::fs::write(&path, text).unwrap();
        let csv = CsvOptions::default();
        let streamed = read_csv_with(&path, &csv, &KindOverrides::default()).unwrap();
        let (header, records) = read_text_rows(&path, &csv).unwrap();
        let held = text_rows_to_batch(&header, &records, &KindOverrides::default(), &csv.na_values)
            .unwrap();
        assert_eq!(fingerprint(&streamed), fingerprint(&held));
        for name in &header {
            assert_eq!(
                kind_of(streamed.column(name).unwrap()),
                kind_of(held.column(name).unwrap()),
                "{name}"
            );
        }
        assert!(matches!(
            streamed.column("na"),
            Some(ColumnValues::Numeric(_))
        ));
        assert!(matches!(
            streamed.column("mixed"),
            Some(ColumnValues::Categorical(_))
        ));
        let overrides = KindOverrides {
            categorical: vec!["n".into()],
            numeric: vec![],
        };
        let streamed = read_csv_with(&path, &csv, &overrides).unwrap();
        assert!(matches!(
            streamed.column("n"),
            Some(ColumnValues::Categorical(_))
        ));

        std::fs::write(&path, "a,b\n").unwrap();
        let e = read_csv_with(&path, &csv, &KindOverrides::default()).unwrap_err();
        assert!(e.to_string().contains("only a header"), "{e}");
        std::fs::write(&path, "").unwrap();
        let e = read_csv_with(&path, &csv, &KindOverrides::default()).unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
    }

    fn kind_of(values: &ColumnValues) -> &'static str {
        match values {
            ColumnValues::Numeric(_) => "numeric",
            ColumnValues::Categorical(_) => "categorical",
        }
    }

    #[test]
    fn fingerprint_depends_on_values() {
        let a = Batch::new(vec![(
            "x".into(),
            ColumnValues::Numeric(vec![1.0, f64::NAN]),
        )])
        .unwrap();
        let b = Batch::new(vec![("x".into(), ColumnValues::Numeric(vec![1.0, 2.0]))]).unwrap();
        assert_eq!(fingerprint(&a), fingerprint(&a.clone()));
        assert_ne!(fingerprint(&a), fingerprint(&b));
    }
}
