//! Shared helpers: the fixtures of `tabship-test-support`, and CSV records as a batch.

use std::collections::HashMap;

use tabship::{Batch, Pipeline, TextBatchBuilder, Value};

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

/// One adult (the first row of `adult_sample.csv`) as a record, every column of the model.
pub fn adult_person() -> HashMap<String, Value> {
    [
        ("age", Value::from(39.0)),
        ("workclass", Value::from("State-gov")),
        ("education", Value::from("Bachelors")),
        ("education_num", Value::from(13.0)),
        ("marital_status", Value::from("Never-married")),
        ("occupation", Value::from("Adm-clerical")),
        ("relationship", Value::from("Not-in-family")),
        ("race", Value::from("White")),
        ("gender", Value::from("Male")),
        ("capital_gain", Value::from(2174.0)),
        ("capital_loss", Value::from(0.0)),
        ("hours_per_week", Value::from(40.0)),
        ("native_country", Value::from("United-States")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}
