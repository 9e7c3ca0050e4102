//! Inference model types: tabship's own stable parameters, predicted by tabship's own code.

mod linear;

use serde::{Deserialize, Serialize};

pub use linear::{LinearRegressor, LogisticClassifier, sigmoid};

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
}

/// A raw model output for one row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RawPrediction {
    /// Index into the pipeline's classes.
    Class(usize),
    /// A regression value.
    Value(f64),
}

impl Model {
    /// The task the model performs.
    pub fn task(&self) -> Task {
        match self {
            Model::LinearRegression(_) => Task::Regression,
            Model::LogisticRegression(_) => Task::Classification,
        }
    }

    /// A short name of the model's type.
    pub fn kind(&self) -> &'static str {
        match self {
            Model::LinearRegression(_) => "linear_regression",
            Model::LogisticRegression(_) => "logistic_regression",
        }
    }

    /// Number of classes (classifiers) or `None`.
    pub fn n_classes(&self) -> Option<usize> {
        match self {
            Model::LinearRegression(_) => None,
            Model::LogisticRegression(m) => Some(m.n_classes()),
        }
    }

    /// Predicts one encoded row.
    #[inline]
    pub fn predict(&self, entries: &[Entry]) -> RawPrediction {
        match self {
            Model::LinearRegression(m) => RawPrediction::Value(m.predict(entries)),
            Model::LogisticRegression(m) => RawPrediction::Class(m.predict(entries)),
        }
    }

    /// Class probabilities of one encoded row into `out`.
    #[inline]
    pub fn predict_proba(&self, entries: &[Entry], out: &mut [f64]) -> Result<()> {
        match self {
            Model::LogisticRegression(m) => {
                m.predict_proba(entries, out);
                Ok(())
            }
            Model::LinearRegression(_) => Err(Error::WrongTask {
                operation: "predict_proba",
                needs: "classification",
                task: "regression",
            }),
        }
    }

    pub(crate) fn validate(&self, width: usize, n_classes: Option<usize>) -> Result<()> {
        match (self, n_classes) {
            (Model::LinearRegression(m), None) => m.validate(width),
            (Model::LogisticRegression(m), Some(k)) if k >= 2 => m.validate(width, k),
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
