//! Paths of the repository's `testdata/` and readers of its CSV files.

use std::path::{Path, PathBuf};

/// A file (or directory) of the repository's `testdata/`.
pub fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(name)
}

/// A file of `testdata/golden/`: the golden artifacts, their inputs and expected predictions.
pub fn golden(name: &str) -> PathBuf {
    testdata("golden").join(name)
}

/// Header and records of a CSV file (comma-separated, a header line).
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_path(path)
        .unwrap_or_else(|e| panic!("test CSV {} opens: {e}", path.display()));
    let header = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    let records = reader.records().map(|r| r.expect("record")).collect();
    (header, records)
}

/// Header and rows (as owned strings) of a CSV of `testdata/golden/`, such as
/// `iris_logistic.expected.csv`.
pub fn golden_rows(name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let (header, records) = read_csv(&golden(name));
    let rows = records
        .iter()
        .map(|r| r.iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}
