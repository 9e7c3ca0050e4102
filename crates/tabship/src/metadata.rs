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
    /// The model this one was retrained from (`tabship retrain`), and why; absent (not nil)
    /// for a pipeline trained from scratch, so older artifacts keep their bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrained_from: Option<RetrainedFrom>,
}

impl std::fmt::Display for RetrainedFrom {
    /// `churn version 7 (sha256:…) on 1200 new + 5000 old rows: drift on tenure`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} version {} ({}) on {} new + {} old rows",
            self.name, self.version, self.checksum, self.new_rows, self.old_rows
        )?;
        if !self.reason.is_empty() {
            write!(f, ": {}", self.reason)?;
        }
        Ok(())
    }
}

/// Provenance of a retrained model: the champion it was refitted from, with the champion's
/// recorded algorithm and options, and on which rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RetrainedFrom {
    /// The champion's name.
    pub name: String,
    /// The champion's version.
    pub version: String,
    /// The champion artifact's checksum, `sha256:<hex>` of its body (as `tabship inspect`
    /// shows it).
    pub checksum: String,
    /// Why it was retrained (`--reason`), empty when not given.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// New labelled rows read.
    pub new_rows: u64,
    /// Rows of the old training data added (the window), 0 without.
    pub old_rows: u64,
}
