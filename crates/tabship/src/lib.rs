//! # tabship
//!
//! A tabular model as one artifact: input schema, fitted encoders (one-hot or ordinal with a real
//! **Unknown** slot for categories never seen in training, an **Other** slot for rare ones and a
//! **Missing** slot; imputation and scaling for numbers), the model, its class labels, provenance
//! and holdout metrics — saved as one versioned, checksummed MessagePack file (`.tabship`) that
//! loads without executing code and predicts with tabship's own code.
//!
//! This crate is the small, embeddable core: it depends on neither smartcore, HTTP nor Python.
//! Training lives in `tabship-train`.
//!
//! ```
//! use tabship::{Pipeline, Prediction, Value};
//!
//! # fn main() -> tabship::Result<()> {
//! # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/golden/iris_logistic.tabship");
//! let pipeline = Pipeline::load(path)?;
//! let flower = [
//!     ("sepal_length", Value::from(5.1)),
//!     ("sepal_width", Value::from(3.5)),
//!     ("petal_length", Value::from(1.4)),
//!     ("petal_width", Value::from(0.2)),
//! ];
//! let Prediction::Class { label, .. } = pipeline.predict_one(&flower)? else { unreachable!() };
//! assert_eq!(label.to_string(), "setosa");
//! let probabilities = pipeline.predict_proba_one(&flower)?;
//! assert!((probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-12);
//! # Ok(())
//! # }
//! ```
//!
//! # Features
//! - [`Pipeline`]: `load`/`save`, `from_bytes`/`to_bytes`; prediction through two entries, the
//!   record path [`Pipeline::score_records`] (and `predict_one`, `predict_proba_one`) and the batch
//!   path [`Pipeline::score_batch`] (and `predict_batch`, `predict_proba_*`);
//!   [`Pipeline::evaluate`] on labelled rows; [`Pipeline::column_summaries`]; and
//!   [`EncodingStats`] counting Unknown, Other and Missing values per column.
//! - [`Batch`]: columnar input, categorical columns dictionary-encoded; [`TextBatchBuilder`] builds
//!   one from CSV-like text rows.
//! - [`artifact`]: the envelope and its limits; [`fs`]: the safe, atomic file write behind every
//!   file tabship writes (through symlinks, never over a device, FIFO or directory).
//! - [`metrics`]: accuracy, F1, ROC AUC, log loss, MAE, RMSE, R², as scikit-learn computes them.
//! - [`drift`] (the `tabship-drift` crate): the reference profile stored in artifacts of format
//!   1.2, [`Pipeline::drift_report`] on a live [`Batch`], [`Pipeline::drift_monitor`] and
//!   [`Pipeline::observe_drift`] for windowed monitoring in a server.
//!
//! Missing values: null, empty text and `NaN` are missing, and so are the spellings of
//! [`NaValues`] (by default `NA`, `null`, `None`, `?`... in numeric columns); infinity is an error; a column absent
//! from the input is an error; extra columns are ignored.

pub mod artifact;
mod batch;
mod decision;
pub mod encode;
mod error;
pub mod fs;
mod labels;
mod metadata;
pub mod metrics;
mod missing;
pub mod model;
mod pipeline;
mod schema;
mod value;

pub use artifact::{ArtifactHeader, PipelineParts};
pub use batch::{Batch, CategoricalValues, ColumnValues, MISSING_CODE, TextBatchBuilder};
pub use decision::{DecisionThreshold, TargetTransform};
pub use encode::{ColumnCounts, EncodingStats, FeatureEncoder};
pub use error::{Error, Result, quoted};
pub use labels::ClassLabel;
pub use metadata::{ParamValue, RetrainedFrom, TrainingInfo};
pub use missing::{DEFAULT_NA_VALUES, NaValues};
pub use model::{Model, Task};
pub use pipeline::{
    ColumnSummary, Evaluation, Example, Label, Labels, Pipeline, Prediction, Predictions, Scores,
    Skipped, Truth,
};
pub use schema::{ColumnKind, ColumnSpec, Schema};
pub use value::{FieldValue, Record, Value, number_as_category, parse_number};

/// The drift crate, re-exported: profiles, reports, monitors and concept-drift detectors.
pub use tabship_drift as drift;

/// This library's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
