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

/// The names of the files of `testdata/<dir>` that end in `suffix` (suffix removed), sorted:
/// fixture lists read from the directory, so a fixture added there is tested without being
/// listed again.
pub fn fixture_names(dir: &str, suffix: &str) -> Vec<String> {
    let path = testdata(dir);
    let mut names: Vec<String> = std::fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("fixture directory {}: {e}", path.display()))
        .filter_map(|entry| {
            let name = entry.expect("directory entry").file_name();
            name.to_str()?.strip_suffix(suffix).map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

/// The LightGBM models of `testdata/import/lightgbm/` (`NAME.model.txt`) whose predictions are
/// compared with LightGBM's: all 13 but the linear tree, which the importer refuses.
pub fn lightgbm_fixtures() -> Vec<String> {
    let names: Vec<String> = fixture_names("import/lightgbm", ".model.txt")
        .into_iter()
        .filter(|n| n != "linear_tree")
        .collect();
    assert_eq!(names.len(), 13, "the LightGBM fixtures: {names:?}");
    names
}
