//! Integration tests of training: parity of exported models with smartcore, end-to-end training.

mod boosting;
mod drift;
mod hist_forests;
mod imbalance;
mod na_values;
mod parity;
mod retrain;
mod training;
mod trees;

use tabship::Batch;
use tabship_train::data::{KindOverrides, read_csv};

/// A committed CSV of `testdata/`, read as training data.
pub fn testdata(name: &str) -> Batch {
    read_csv(
        &tabship_test_support::testdata(name),
        &KindOverrides::default(),
    )
    .expect("test data reads")
}
