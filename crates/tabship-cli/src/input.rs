//! Checks on CSV inputs shared by the commands that read one.

use std::path::Path;

use crate::error::{Error, Result};

/// A header row that can name columns: present (a 0-byte file has none) and without a name
/// given twice.
pub fn check_header(path: &Path, header: &csv::StringRecord) -> Result<()> {
    if header.is_empty() {
        return Err(Error::Csv {
            path: path.to_path_buf(),
            message: "the file is empty: expected a header row".to_owned(),
        });
    }
    let names: Vec<&str> = header.iter().collect();
    match tabship_train::data::duplicate_header(&names) {
        Some(message) => Err(Error::Csv {
            path: path.to_path_buf(),
            message,
        }),
        None => Ok(()),
    }
}

/// A file whose header was read but that has no data rows: `what` says why rows are needed.
pub fn no_rows(path: &Path, what: &str) -> Error {
    Error::Csv {
        path: path.to_path_buf(),
        message: format!("no data rows: the file has only a header; {what}"),
    }
}
