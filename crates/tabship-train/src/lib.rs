//! # tabship-train
//!
//! Fits [`tabship::Pipeline`]s: infers the schema, fits the encoders on the training rows only,
//! fits the model with smartcore, exports it into tabship's own parameter types and measures it
//! on a held-out split. smartcore's own model layouts never enter an artifact.
//!
//! ```no_run
//! use std::path::Path;
//! use tabship_train::{TrainOptions, data::{read_csv, KindOverrides}, train};
//!
//! # fn main() -> tabship_train::Result<()> {
//! let data = read_csv(Path::new("iris.csv"), &KindOverrides::default())?;
//! let trained = train(&data, &TrainOptions::new("species"))?;
//! println!("holdout accuracy {:.3}", trained.report.metrics["accuracy"]);
//! trained.pipeline.save("iris.tabship")?;
//! # Ok(())
//! # }
//! ```
//!
//! # Features
//! - [`csv_input`]: CSV dialects (delimiter, encoding, decimal comma, NA values), one reader for
//!   every command.
//! - [`data`]: CSV reading with kind inference and overrides, and the data fingerprint.
//! - [`train`] and [`cross_validate`], with [`TrainOptions`] checked once up front.
//! - [`linear`]: linear, ridge, lasso and elastic net through smartcore, with export.
//! - [`boost`]: gradient-boosted trees (logistic, softmax, squared error) on the histogram
//!   learner, with early stopping.
//! - [`logistic`]: logistic regression, smartcore's objective and L-BFGS with a real stopping rule.
//! - [`imbalance`]: class weights and the rules choosing a stored decision threshold.
//! - [`retrain`]: a champion refitted with its recorded algorithm and options on new rows.
//! - [`split`]: seeded train/test, stratified and k-fold splits.

pub mod boost;
pub mod choice;
pub mod csv_input;
pub mod data;
pub mod encoders;
mod error;
mod hist;
pub mod imbalance;
pub mod linear;
pub mod logistic;
mod missing;
pub mod options;
pub mod retrain;
pub mod ridge;
pub mod split;
mod suggest;
pub mod target;
mod trainer;
pub mod trees;

pub use boost::BoostSummary;
pub use choice::{Choice, parse_choice};
pub use error::{Error, Result};
pub use imbalance::{ClassWeight, ThresholdRule};
pub use options::{
    BoostingParams, DEFAULT_TREE_LEARNER, EncoderOptions, LinearParams, MaxFeatures, MinFrequency,
    ModelKind, TrainOptions, TreeLearner, TreeParams, parse_target_transform,
};
pub use retrain::{LabelledRows, RetrainOptions, Retrained, retrain};
pub use trainer::{CvSummary, TrainReport, Trained, cross_validate, train};
