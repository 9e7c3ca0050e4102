//! Provenance stored with every pipeline.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A hyperparameter value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// A flag.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A real number.
    Float(f64),
    /// Text, such as a solver name.
    Text(String),
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Float(x) => write!(f, "{x}"),
            ParamValue::Text(s) => f.write_str(s),
        }
    }
}

/// How, when and on what the pipeline was trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TrainingInfo {
    /// The pipeline's name.
    pub name: String,
    /// The user's version string for this model.
    pub version: String,
    /// When training finished, RFC 3339 UTC.
    pub created_at: String,
    /// The target column's name.
    pub target: String,
    /// The training algorithm (`logistic`, `ridge`, ...).
    pub algorithm: String,
    /// Hyperparameters as given to the trainer, by name.
    pub hyperparameters: BTreeMap<String, ParamValue>,
    /// `sha256:<hex>` over the training table (header and every cell, as text).
    pub data_fingerprint: String,
    /// Rows used to fit the final model.
    pub train_rows: u64,
    /// Rows held out for the metrics.
    pub test_rows: u64,
    /// The tabship version that trained it.
    pub library_version: String,
}
