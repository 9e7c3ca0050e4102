//! Training data: CSV reading with column-kind inference, kind overrides, and the data fingerprint.

use std::path::Path;

use sha2::{Digest, Sha256};
use tabship::{
    Batch, CategoricalValues, ColumnKind, ColumnSpec, ColumnValues, NaValues, Schema,
    TextBatchBuilder, number_as_category,
};

use crate::csv_input::CsvOptions;
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
pub fn read_csv_with(path: &Path, csv: &CsvOptions, overrides: &KindOverrides) -> Result<Batch> {
    let (header, records) = read_text_rows(path, csv)?;
    if records.is_empty() {
        let what = if header.is_empty() {
            "the file is empty: expected a header row, then data rows"
        } else {
            "no data rows: the file has only a header"
        };
        return Err(Error::Csv {
            path: path.to_path_buf(),
            message: what.to_owned(),
        });
    }
    text_rows_to_batch(&header, &records, overrides, &csv.na_values)
}

/// The header's names and every data row of `path`, as text, in the dialect `csv`; a column
/// named twice in the header is refused.
pub fn read_text_rows(
    path: &Path,
    csv: &CsvOptions,
) -> Result<(Vec<String>, Vec<csv::StringRecord>)> {
    let mut file = csv.open(path)?;
    let header = file.names();
    if let Some(message) = duplicate_header(&header) {
        return Err(Error::Csv {
            path: path.to_path_buf(),
            message,
        });
    }
    Ok((header, file.read_all()?))
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
    let mut columns = Vec::with_capacity(header.len());
    for (i, name) in header.iter().enumerate() {
        fn field(r: &csv::StringRecord, i: usize) -> &str {
            r.get(i).unwrap_or("")
        }
        let kind = overrides.kind_of(name).unwrap_or_else(|| {
            if rows.iter().all(|r| na.is_number_or_missing(field(r, i))) {
                ColumnKind::Numeric
            } else {
                ColumnKind::Categorical
            }
        });
        let nullable = rows.iter().any(|r| match kind {
            ColumnKind::Numeric => na
                .parse_number(name, field(r, i))
                .is_ok_and(|x| x.is_none()),
            ColumnKind::Categorical => na.is_missing_category(field(r, i)),
        });
        columns.push(ColumnSpec {
            name: name.clone(),
            kind,
            nullable,
        });
    }
    let schema = Schema::new(columns)?.with_na_values(na.clone())?;
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
