//! Inference model types: tabship's own stable parameters, predicted by tabship's own code.

mod linear;
mod tree;

use serde::{Deserialize, Serialize};

pub use linear::{LinearRegressor, LogisticClassifier, sigmoid};
pub use tree::{
    Combination, LEAF, Link, MISSING_NAN, MISSING_NONE, MISSING_ZERO, SPLIT_LISTED_LEFT,
    SPLIT_LISTED_RIGHT, SPLIT_NUMERIC, TreeEnsemble, TreeSpec, ZERO_THRESHOLD,
};

use crate::encode::Entry;
use crate::{Error, Result};

/// What the pipeline predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// A class label, with probabilities.
    Classification,
    /// A real value.
    Regression,
}

impl Task {
    /// The task's lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Task::Classification => "classification",
            Task::Regression => "regression",
        }
    }
}

/// A fitted model, tagged by `type` in the artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Model {
    /// Linear regression (also ridge, lasso, elastic net).
    LinearRegression(LinearRegressor),
    /// Logistic regression.
    LogisticRegression(LogisticClassifier),
    /// Decision tree, random forest or extra trees.
    TreeEnsemble(TreeEnsemble),
}

/// Where a block of predictions goes; each slice holds one entry (or `n_classes` for `proba`) per
/// row. Crate-private: callers use
/// [`Pipeline::score_records`](crate::Pipeline::score_records) or
/// [`Pipeline::score_batch`](crate::Pipeline::score_batch).
#[derive(Debug, Default)]
pub(crate) struct Outputs<'a> {
    /// Predicted class indices (classifiers).
    pub classes: Option<&'a mut [usize]>,
    /// Predicted values (regressors).
    pub values: Option<&'a mut [f64]>,
    /// Class probabilities, row-major `rows × n_classes` (classifiers).
    pub proba: Option<&'a mut [f64]>,
}

impl Model {
    /// The task the model performs.
    pub fn task(&self) -> Task {
        match self {
            Model::LinearRegression(_) => Task::Regression,
            Model::LogisticRegression(_) => Task::Classification,
            Model::TreeEnsemble(m) => m.task,
        }
    }

    /// The lowest artifact format minor that holds this model: each variant declares its own
    /// (the linear models 1.0, tree ensembles 1.1, 1.4 with the boosting layout, or 1.5 with
    /// `f32` semantics, missing types or categorical splits), and
    /// [`artifact::required_minor`](crate::artifact::required_minor) takes the highest of every
    /// part's. A new variant or a new optional field of one declares its minor here.
    pub fn format_minor(&self) -> u16 {
        match self {
            Model::LinearRegression(_) | Model::LogisticRegression(_) => 0,
            Model::TreeEnsemble(m) => m.format_minor(),
        }
    }

    /// A short name of the model's type.
    pub fn kind(&self) -> &'static str {
        match self {
            Model::LinearRegression(_) => "linear_regression",
            Model::LogisticRegression(_) => "logistic_regression",
            Model::TreeEnsemble(_) => "tree_ensemble",
        }
    }

    /// Predicts encoded rows (`entries` holds `stride` entries per row, over `width` model
    /// features, which the model already knows from validation) into `out`. `scratch` is reused
    /// between calls to hold tree models' per-row sums.
    pub(crate) fn predict_rows(
        &self,
        entries: &[Entry],
        stride: usize,
        _width: usize,
        scratch: &mut Vec<f64>,
        mut out: Outputs<'_>,
    ) {
        match self {
            Model::LinearRegression(m) => {
                if let Some(values) = out.values {
                    for (v, row) in values.iter_mut().zip(entries.chunks_exact(stride)) {
                        *v = m.predict(row);
                    }
                }
            }
            Model::LogisticRegression(m) => {
                let k = m.n_classes();
                for (r, row) in entries.chunks_exact(stride).enumerate() {
                    if let Some(classes) = out.classes.as_deref_mut() {
                        classes[r] = m.predict(row);
                    }
                    if let Some(proba) = out.proba.as_deref_mut() {
                        m.predict_proba(row, &mut proba[r * k..(r + 1) * k]);
                    }
                }
            }
            Model::TreeEnsemble(m) => m.predict_entries(entries, stride, scratch, out),
        }
    }

    pub(crate) fn prepare(&mut self, width: usize, n_classes: Option<usize>) -> Result<()> {
        match (self, n_classes) {
            (Model::LinearRegression(m), None) => m.validate(width),
            (Model::LogisticRegression(m), Some(k)) if k >= 2 => m.validate(width, k),
            (Model::TreeEnsemble(m), k) if k.is_none() == (m.task == Task::Regression) => {
                m.prepare(width, k)
            }
            (m, k) => Err(Error::field(
                "model",
                format!(
                    "a {} model with {} class labels",
                    m.kind(),
                    k.map_or("no".to_owned(), |k| k.to_string())
                ),
            )),
        }
    }
}
