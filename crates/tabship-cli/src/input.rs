//! Reading a CSV input against an artifact's schema, and the checks shared by the commands
//! that read one.

use std::path::Path;

use tabship::{Batch, Pipeline, Schema, TextBatchBuilder};
use tabship_train::csv_input::{CsvFile, CsvOptions};

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

/// A CSV input read against an artifact's schema: the one place the commands that score a file
/// (`predict`, `evaluate`, `drift`, `bench`) open it, check its header and turn its rows into a
/// [`Batch`].
pub struct CsvInput {
    /// The schema rows are read against (the artifact's, with this command line's NA values).
    schema: Schema,
    file: CsvFile,
    header: csv::StringRecord,
}

impl CsvInput {
    /// Opens `path` with the command's CSV dialect and checks its header row.
    pub fn open(path: &Path, pipeline: &Pipeline, csv: &CsvOptions) -> Result<CsvInput> {
        let schema = crate::commands::input_schema(pipeline, csv)?;
        let file = csv.open(path)?;
        let header = file.header().clone();
        check_header(path, &header)?;
        Ok(CsvInput {
            schema,
            file,
            header,
        })
    }

    /// The header row.
    pub fn header(&self) -> &csv::StringRecord {
        &self.header
    }

    /// An empty batch builder for this file's columns (the schema's, by header name).
    pub fn builder(&self) -> Result<TextBatchBuilder<'_>> {
        let names: Vec<&str> = self.header.iter().collect();
        Ok(TextBatchBuilder::new(&self.schema, &names)?)
    }

    /// Reads the next record into `record`; `false` at the end of the file.
    pub fn read_record(&mut self, record: &mut csv::StringRecord) -> Result<bool> {
        Ok(self.file.read_record(record)?)
    }

    /// Bytes read so far (for a progress bar).
    pub fn position(&self) -> u64 {
        self.file.position()
    }

    /// Every remaining row.
    pub fn read_all(&mut self) -> Result<Vec<csv::StringRecord>> {
        Ok(self.file.read_all()?)
    }

    /// The remaining rows as one batch: `keep(i, record)` sees every record (numbered from 0)
    /// and says whether it joins the batch.
    pub fn read_batch(
        &mut self,
        mut keep: impl FnMut(usize, &csv::StringRecord) -> Result<bool>,
    ) -> Result<Batch> {
        let names: Vec<&str> = self.header.iter().collect();
        let mut builder = TextBatchBuilder::new(&self.schema, &names)?;
        let mut record = csv::StringRecord::new();
        let mut i = 0;
        while self.file.read_record(&mut record)? {
            if keep(i, &record)? {
                builder.push_row(record.iter())?;
            }
            i += 1;
        }
        Ok(builder.finish())
    }
}
