//! Live model quality from feedback: windowed accuracy and macro F1 (classifiers) or MAE
//! (regressors) over the last labelled predictions.
//!
//! This module is the one place the server computes statistics about live traffic; input drift
//! against the artifact's reference profile belongs to `tabship-drift` and plugs in here.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;
use tabship::{Pipeline, Task};

/// Labelled predictions kept for the windowed metrics.
pub const QUALITY_WINDOW: usize = 1000;

/// The live state of one model version.
#[derive(Debug)]
pub struct Monitor {
    task: Task,
    n_classes: usize,
    inner: Mutex<Quality>,
}

#[derive(Debug, Default)]
struct Quality {
    labelled: u64,
    classes: VecDeque<(usize, usize)>,
    values: VecDeque<(f64, f64)>,
}

/// A snapshot of live quality.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QualitySnapshot {
    /// Labels received since load.
    pub labelled: u64,
    /// Labels in the current window.
    pub window: usize,
    /// Window accuracy (classifiers with at least one label).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
    /// Window macro F1 over the classes seen in the window (classifiers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub f1_macro: Option<f64>,
    /// Window mean absolute error (regressors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mae: Option<f64>,
}

/// A true label joined to a logged prediction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Labelled {
    /// Predicted and true class indices.
    Class {
        /// Predicted class index.
        predicted: usize,
        /// True class index.
        truth: usize,
    },
    /// Predicted and true values.
    Value {
        /// Predicted value.
        predicted: f64,
        /// True value.
        truth: f64,
    },
}

impl Monitor {
    /// A monitor for `pipeline`.
    pub fn new(pipeline: &Pipeline) -> Self {
        Monitor {
            task: pipeline.task(),
            n_classes: pipeline.classes().len(),
            inner: Mutex::new(Quality::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Quality> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Adds one labelled prediction to the window.
    pub fn record(&self, labelled: Labelled) {
        let mut q = self.lock();
        q.labelled += 1;
        match labelled {
            Labelled::Class { predicted, truth } => {
                if q.classes.len() == QUALITY_WINDOW {
                    q.classes.pop_front();
                }
                q.classes.push_back((predicted, truth));
            }
            Labelled::Value { predicted, truth } => {
                if q.values.len() == QUALITY_WINDOW {
                    q.values.pop_front();
                }
                q.values.push_back((predicted, truth));
            }
        }
    }

    /// The current window's metrics.
    pub fn quality(&self) -> QualitySnapshot {
        let q = self.lock();
        match self.task {
            Task::Classification => {
                let (predicted, truth): (Vec<usize>, Vec<usize>) =
                    q.classes.iter().copied().unzip();
                let (accuracy, f1_macro) = if truth.is_empty() {
                    (None, None)
                } else {
                    let per_class =
                        tabship::metrics::precision_recall_f1(&truth, &predicted, self.n_classes);
                    // Macro F1 over the classes present in the window (as truth or prediction),
                    // as scikit-learn does for the labels it sees.
                    let mut present = vec![false; self.n_classes];
                    for &c in truth.iter().chain(&predicted) {
                        if let Some(p) = present.get_mut(c) {
                            *p = true;
                        }
                    }
                    let f1: Vec<f64> = per_class
                        .iter()
                        .zip(&present)
                        .filter(|(_, p)| **p)
                        .map(|(c, _)| c.2)
                        .collect();
                    let macro_f1 = f1.iter().sum::<f64>() / f1.len().max(1) as f64;
                    (
                        Some(tabship::metrics::accuracy(&truth, &predicted)),
                        Some(macro_f1),
                    )
                };
                QualitySnapshot {
                    labelled: q.labelled,
                    window: truth.len(),
                    accuracy,
                    f1_macro,
                    mae: None,
                }
            }
            Task::Regression => {
                let n = q.values.len();
                let mae = (n > 0)
                    .then(|| q.values.iter().map(|(p, t)| (p - t).abs()).sum::<f64>() / n as f64);
                QualitySnapshot {
                    labelled: q.labelled,
                    window: n,
                    accuracy: None,
                    f1_macro: None,
                    mae,
                }
            }
        }
    }
}
