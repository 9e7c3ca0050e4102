//! Integration tests of training: parity of exported models with smartcore, end-to-end training.

mod drift;
mod imbalance;
mod na_values;
mod parity;
mod training;
mod trees;

use std::path::PathBuf;

use tabship::Batch;
use tabship_train::data::{KindOverrides, read_csv};

/// A committed CSV of `testdata/`, read as training data.
pub fn testdata(name: &str) -> Batch {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(name);
    read_csv(&path, &KindOverrides::default()).expect("test data reads")
}
