//! Evaluation: a pipeline's metrics on labelled rows, the one implementation behind the
//! trainer's holdout metrics, `tabship evaluate` and Python's `Pipeline.evaluate`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Pipeline, Predictions};
use crate::batch::{Batch, ColumnValues};
use crate::metrics::{ClassificationReport, RegressionReport};
use crate::model::Task;
use crate::value::number_as_category;
use crate::{Error, Result};

/// The true outcomes of rows, in the pipeline's terms.
#[derive(Debug, Clone, PartialEq)]
pub enum Truth {
    /// Class indices into [`Pipeline::classes`].
    Classes(Vec<usize>),
    /// True values of a regressor.
    Values(Vec<f64>),
}

impl Truth {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Truth::Classes(c) => c.len(),
            Truth::Values(v) => v.len(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Rows of a target column that can be scored, and how many could not.
#[derive(Debug, Clone, PartialEq)]
pub struct Labels {
    /// The 0-based rows kept, in order.
    pub rows: Vec<usize>,
    /// Their true outcomes.
    pub truth: Truth,
    /// The rows left out.
    pub skipped: Skipped,
}

impl Labels {
    /// No rows yet, for a pipeline doing `task`.
    pub fn new(task: Task) -> Self {
        Labels {
            rows: Vec::new(),
            truth: match task {
                Task::Classification => Truth::Classes(Vec::new()),
                Task::Regression => Truth::Values(Vec::new()),
            },
            skipped: Skipped::default(),
        }
    }

    /// Adds row `row` with its label (from [`Pipeline::label`]): kept, or counted as skipped.
    /// A label of the other task's kind is not an outcome of this model and counts as unknown.
    pub fn push(&mut self, row: usize, label: Label) {
        match (label, &mut self.truth) {
            (Label::Class(c), Truth::Classes(t)) => {
                self.rows.push(row);
                t.push(c);
            }
            (Label::Value(x), Truth::Values(t)) => {
                self.rows.push(row);
                t.push(x);
            }
            (Label::Missing, _) => self.skipped.missing_target += 1,
            (Label::UnknownClass | Label::Class(_) | Label::Value(_), _) => {
                self.skipped.unknown_labels += 1;
            }
        }
    }
}

/// The true outcome of one row of labelled data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Label {
    /// A class index into [`Pipeline::classes`].
    Class(usize),
    /// A regressor's true value.
    Value(f64),
    /// No value (empty, or a missing spelling of the input policy).
    Missing,
    /// A label that is not a class of the model.
    UnknownClass,
}

/// Rows left out of an evaluation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Rows whose target is missing (any missing spelling of the input policy).
    pub missing_target: u64,
    /// Rows whose label is not a class of the model.
    pub unknown_labels: u64,
}

/// A pipeline's metrics on labelled rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Evaluation {
    /// A classifier's report: accuracy, per-class scores, log loss, ROC AUC, confusion.
    Classification(ClassificationReport),
    /// A regressor's report: MAE, RMSE, R².
    Regression(RegressionReport),
}

impl Evaluation {
    /// The holdout metrics by name, as `train` stores them in the artifact: `accuracy`,
    /// `f1_macro`, `log_loss` (and `roc_auc` for two classes), or `mae`, `rmse`, `r2`.
    pub fn metrics(&self) -> BTreeMap<String, f64> {
        let mut m = BTreeMap::new();
        match self {
            Evaluation::Classification(r) => {
                m.insert("accuracy".to_owned(), r.accuracy);
                m.insert("f1_macro".to_owned(), r.f1_macro);
                m.insert("log_loss".to_owned(), r.log_loss);
                if let Some(auc) = r.roc_auc {
                    m.insert("roc_auc".to_owned(), auc);
                }
            }
            Evaluation::Regression(r) => {
                m.insert("mae".to_owned(), r.mae);
                m.insert("rmse".to_owned(), r.rmse);
                m.insert("r2".to_owned(), r.r2);
            }
        }
        m
    }

    /// Rows evaluated.
    pub fn rows(&self) -> u64 {
        match self {
            Evaluation::Classification(r) => r.rows,
            Evaluation::Regression(r) => r.rows,
        }
    }
}

impl Pipeline {
    /// The true outcome `text` of one row, from the target column `name` of labelled data:
    /// missing (empty, or any missing spelling of the schema's policy), a classifier's class
    /// (or a label it does not know), or a regressor's value. A regressor's target that is not
    /// a number is an error naming `name` and the text.
    pub fn label(&self, name: &str, text: &str) -> Result<Label> {
        let na = &self.schema().na_values;
        Ok(match self.task() {
            Task::Classification if text.trim().is_empty() || na.is_missing_category(text) => {
                Label::Missing
            }
            Task::Classification => self
                .class_index(text)
                .map_or(Label::UnknownClass, Label::Class),
            Task::Regression => na
                .parse_number(name, text)?
                .map_or(Label::Missing, Label::Value),
        })
    }

    /// The true outcomes in `values`, the target column `name` of labelled data (text, as a CSV
    /// gives it, or numbers), read by [`label`](Self::label): missing targets and unknown
    /// labels are left out and counted; an error names its 1-based row.
    pub fn labels(&self, name: &str, values: &ColumnValues) -> Result<Labels> {
        let mut labels = Labels::new(self.task());
        for i in 0..values.len() {
            let label = match values {
                ColumnValues::Categorical(c) => match c.get(i) {
                    None => Label::Missing,
                    Some(text) => self.label(name, text).map_err(|e| e.at_row(i))?,
                },
                ColumnValues::Numeric(v) if v[i].is_nan() => Label::Missing,
                ColumnValues::Numeric(v) if self.task() == Task::Regression => Label::Value(v[i]),
                ColumnValues::Numeric(v) => self
                    .label(name, &number_as_category(v[i]))
                    .map_err(|e| e.at_row(i))?,
            };
            labels.push(i, label);
        }
        Ok(labels)
    }

    /// Scores the pipeline's predictions on `batch` against `truth`, one per row: the metrics
    /// `tabship evaluate` reports and `train` stores (see [`Evaluation::metrics`]).
    pub fn evaluate(&self, batch: &Batch, truth: &Truth) -> Result<Evaluation> {
        check_rows(batch, truth, "evaluate")?;
        match (self.task(), truth) {
            (Task::Classification, Truth::Classes(truth)) => {
                let (predicted, proba) = self.predict_batch_with_proba(batch)?;
                let Predictions::Classes(predicted) = predicted else {
                    return Err(Error::InvalidBatch("a classifier predicted values".into()));
                };
                if let Some(&bad) = truth.iter().find(|&&c| c >= self.classes().len()) {
                    return Err(Error::InvalidBatch(format!(
                        "true class {bad} of a model with {} classes",
                        self.classes().len()
                    )));
                }
                Ok(Evaluation::Classification(ClassificationReport::new(
                    self.classes(),
                    truth,
                    &predicted,
                    &proba,
                )))
            }
            (Task::Regression, Truth::Values(truth)) => {
                let Predictions::Values(predicted) = self.predict_batch(batch)? else {
                    return Err(Error::InvalidBatch("a regressor predicted classes".into()));
                };
                Ok(Evaluation::Regression(RegressionReport::new(
                    truth, &predicted,
                )))
            }
            (task, _) => Err(Error::WrongTask {
                operation: "evaluate",
                needs: match task {
                    Task::Classification => "regression",
                    Task::Regression => "classification",
                },
                task: task.name(),
            }),
        }
    }
}

/// Checks that `truth` has one outcome per row of `batch` and that there are rows: metrics of no
/// rows are undefined. `what` names the operation (`evaluate`, `compare`).
pub(super) fn check_rows(batch: &Batch, truth: &Truth, what: &str) -> Result<()> {
    if truth.len() != batch.n_rows() {
        return Err(Error::InvalidBatch(format!(
            "{} true outcomes for {} rows",
            truth.len(),
            batch.n_rows()
        )));
    }
    if batch.n_rows() == 0 {
        return Err(Error::InvalidBatch(format!(
            "no rows to {what}: metrics of no rows are undefined"
        )));
    }
    Ok(())
}
