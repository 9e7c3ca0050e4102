//! Exact imports of models trained elsewhere into tabship pipelines.
//!
//! An importer reads a model file natively (no Python) into an [`Imported`] model: a
//! `TreeEnsemble` that predicts bit for bit what the source library predicts (its comparison
//! rules, `f32` arithmetic, missing-value routing and categorical splits are format 1.5's
//! semantics, see `docs/artifact-format.md`), and the features it reads. Reference data (a CSV
//! of rows like the training rows, [`reference`]) then supplies what a model file does not
//! carry: the schema, the category ↔ code mapping when the file has none, the encoders (which
//! pass missing values on as NaN for the trees to route) and the drift profile.
//!
//! Whatever tabship cannot reproduce exactly is refused with an error naming the field or the
//! feature ([`Error::Unsupported`]), never approximated.
//!
//! ```no_run
//! use tabship_import::{reference, xgboost};
//!
//! let imported = xgboost::read_file("model.json".as_ref())?;
//! let data = reference::ReferenceData::read_csv("train.csv".as_ref())?;
//! let options = reference::ReferenceOptions {
//!     target: Some("label".into()),
//!     ..Default::default()
//! };
//! let pipeline = reference::assemble(imported, &data, &options)?;
//! pipeline.save("model.tabship")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//! - [`xgboost`]: XGBoost JSON and UBJSON models (1.7, 2.x, 3.x), objectives
//!   `reg:squarederror`, `binary:logistic`, `binary:logitraw`, `multi:softprob`,
//!   `multi:softmax`, numeric and categorical splits.
//! - [`lightgbm`]: LightGBM text models (`v4`, LightGBM 4.x), objectives `regression` (and the
//!   other identity-output regressions), `binary`, `multiclass`; missing types None/Zero/NaN,
//!   categorical splits (pandas categories when the file carries them), `average_output`
//!   random forests.

mod error;
pub mod lightgbm;
mod model_file;
pub mod reference;
mod ubjson;
pub mod xgboost;

use std::collections::BTreeMap;

use tabship::model::TreeEnsemble;
use tabship::{ParamValue, Task};

pub use error::{Error, Result};
pub use model_file::MAX_MODEL_BYTES;

/// A model read from another library's file, before reference data completes it.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The source library (`xgboost`, `lightgbm`).
    pub library: &'static str,
    /// The version of the library that wrote the file, when the file says (`3.2.0`).
    pub library_version: Option<String>,
    /// What `training.algorithm` records, such as `xgboost gbtree`.
    pub algorithm: String,
    /// The model's input features in model order: feature `i` of the trees is `features[i]`.
    pub features: Vec<ModelFeature>,
    /// Classification or regression.
    pub task: Task,
    /// Classes of a classifier (none for regression).
    pub n_classes: Option<usize>,
    /// The trees, with the source library's semantics.
    pub model: TreeEnsemble,
    /// What `training.hyperparameters` records: the objective, the number of trees, ...
    pub hyperparameters: BTreeMap<String, ParamValue>,
}

/// One input feature of an imported model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFeature {
    /// Its name, when the model file has names.
    pub name: Option<String>,
    /// Numeric or categorical, as the model file says (or as its splits show).
    pub kind: FeatureKind,
}

/// How the model reads a feature.
#[derive(Debug, Clone, PartialEq)]
pub enum FeatureKind {
    /// A number, compared against thresholds.
    Numeric,
    /// A category code `0..n`, tested against categorical splits' bitsets.
    Categorical {
        /// The categories in code order when the model file stores them (XGBoost ≥ 3.1, LightGBM's
        /// `pandas_categorical`); otherwise the reference data gives them.
        categories: Option<Vec<String>>,
    },
}
