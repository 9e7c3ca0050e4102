//! Shared helpers: the fixtures of `tabship-test-support`, and CSV records as a batch.

use tabship::{Batch, Pipeline, TextBatchBuilder};

pub use tabship_test_support::{golden, read_csv};

/// The records as a batch for `pipeline`.
pub fn batch_for(pipeline: &Pipeline, header: &[String], records: &[csv::StringRecord]) -> Batch {
    let mut builder =
        TextBatchBuilder::new(pipeline.schema(), header).expect("schema columns present");
    for r in records {
        builder.push_row(r.iter()).expect("row parses");
    }
    builder.finish()
}
