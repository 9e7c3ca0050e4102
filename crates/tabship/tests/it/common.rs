//! Shared helpers: paths of the committed test data and CSV reading.

use std::path::PathBuf;

use tabship::{Batch, Pipeline, TextBatchBuilder};

pub fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(name)
}

pub fn golden(name: &str) -> PathBuf {
    testdata("golden").join(name)
}

/// Header and records of a CSV file.
pub fn read_csv(path: &std::path::Path) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_path(path).expect("test CSV opens");
    let header = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    let records = reader.records().map(|r| r.expect("record")).collect();
    (header, records)
}

/// The records as a batch for `pipeline`.
pub fn batch_for(pipeline: &Pipeline, header: &[String], records: &[csv::StringRecord]) -> Batch {
    let mut builder =
        TextBatchBuilder::new(pipeline.schema(), header).expect("schema columns present");
    for r in records {
        builder.push_row(r.iter()).expect("row parses");
    }
    builder.finish()
}
