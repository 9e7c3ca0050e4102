//! Champion against challenger: both pipelines score the same labelled rows through the batch
//! path, and their per-row outcomes go to `tabship_drift::compare` (metrics, McNemar or the
//! paired t-test, the paired bootstrap, the verdict). `tabship compare` calls it; a server or
//! Python would call the same function.

use tabship_drift::compare::{
    ClassifierOutcomes, CompareOptions, Comparison, Outcomes, RegressorOutcomes, compare,
};

use super::{Pipeline, Predictions, Truth};
use crate::batch::Batch;
use crate::model::Task;
use crate::{Error, Result};

/// One model's predictions on the rows, owned, before they are lent as [`Outcomes`].
enum Scored {
    Classes {
        predicted: Vec<usize>,
        proba_of_truth: Vec<f64>,
        positive: Option<Vec<f64>>,
    },
    Values(Vec<f64>),
}

impl Pipeline {
    /// Checks that `challenger` can be compared with this pipeline (the champion) on the same
    /// labelled rows: the same task, target and classes (in the same order), the same feature
    /// columns with the same kinds (in any order) and the same missing-value texts. The error
    /// names what differs and both sides.
    pub fn check_comparable(&self, challenger: &Pipeline) -> Result<()> {
        let differs = |what: &'static str, champion: String, challenger: String| {
            Err(Error::Incomparable {
                what,
                champion,
                challenger,
            })
        };
        if self.task() != challenger.task() {
            return differs(
                "task",
                self.task().name().into(),
                challenger.task().name().into(),
            );
        }
        let (ours, theirs) = (&self.training().target, &challenger.training().target);
        if ours != theirs {
            return differs("target", ours.clone(), theirs.clone());
        }
        if self.classes() != challenger.classes() {
            let list = |p: &Pipeline| {
                p.classes()
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return differs("classes", list(self), list(challenger));
        }
        let columns = |p: &Pipeline| {
            let mut c: Vec<String> = p
                .schema()
                .columns
                .iter()
                .map(|c| format!("{} ({})", c.name, c.kind.name()))
                .collect();
            c.sort();
            c
        };
        let (ours, theirs) = (columns(self), columns(challenger));
        if ours != theirs {
            let only = |a: &[String], b: &[String]| {
                let v: Vec<&str> = a
                    .iter()
                    .filter(|c| !b.contains(c))
                    .map(String::as_str)
                    .collect();
                if v.is_empty() {
                    "nothing else".to_owned()
                } else {
                    format!("also {}", v.join(", "))
                }
            };
            return differs(
                "feature columns",
                only(&ours, &theirs),
                only(&theirs, &ours),
            );
        }
        if self.schema().na_values != challenger.schema().na_values {
            return differs(
                "missing-value texts",
                format!("{:?}", self.schema().na_values),
                format!("{:?}", challenger.schema().na_values),
            );
        }
        Ok(())
    }

    /// Compares this pipeline (the champion, first) with `challenger` (second) on the labelled
    /// rows `batch` with true outcomes `truth` (read by [`Pipeline::labels`] or
    /// [`Pipeline::label`]): both score every row, then every metric of both, the paired test,
    /// the bootstrap interval and the verdict (see [`tabship_drift::compare::compare`]).
    pub fn compare(
        &self,
        challenger: &Pipeline,
        batch: &Batch,
        truth: &Truth,
        options: &CompareOptions,
    ) -> Result<Comparison> {
        self.check_comparable(challenger)?;
        super::evaluate::check_rows(batch, truth, "compare on")?;
        let first = self.scored(batch, truth)?;
        let second = challenger.scored(batch, truth)?;
        let classes = self.classes().len();
        Ok(compare(
            outcomes(&first, truth, classes)?,
            outcomes(&second, truth, classes)?,
            options,
        )?)
    }

    fn scored(&self, batch: &Batch, truth: &Truth) -> Result<Scored> {
        match (self.task(), truth) {
            (Task::Classification, Truth::Classes(truth)) => {
                let (predicted, proba) = self.predict_batch_with_proba(batch)?;
                let Predictions::Classes(predicted) = predicted else {
                    return Err(Error::InvalidBatch("a classifier predicted values".into()));
                };
                let classes = self.classes().len();
                if let Some(&bad) = truth.iter().find(|&&c| c >= classes) {
                    return Err(Error::InvalidBatch(format!(
                        "true class {bad} of a model with {classes} classes"
                    )));
                }
                let proba_of_truth = truth
                    .iter()
                    .enumerate()
                    .map(|(i, &t)| proba[[i, t]])
                    .collect();
                let positive = (classes == 2).then(|| proba.column(1).to_vec());
                Ok(Scored::Classes {
                    predicted,
                    proba_of_truth,
                    positive,
                })
            }
            (Task::Regression, Truth::Values(_)) => match self.predict_batch(batch)? {
                Predictions::Values(v) => Ok(Scored::Values(v)),
                Predictions::Classes(_) => {
                    Err(Error::InvalidBatch("a regressor predicted classes".into()))
                }
            },
            (task, _) => Err(Error::WrongTask {
                operation: "compare",
                needs: match task {
                    Task::Classification => "regression",
                    Task::Regression => "classification",
                },
                task: task.name(),
            }),
        }
    }
}

fn outcomes<'a>(scored: &'a Scored, truth: &'a Truth, classes: usize) -> Result<Outcomes<'a>> {
    Ok(match (scored, truth) {
        (
            Scored::Classes {
                predicted,
                proba_of_truth,
                positive,
            },
            Truth::Classes(truth),
        ) => Outcomes::Classifier(ClassifierOutcomes {
            truth,
            predicted,
            proba_of_truth: Some(proba_of_truth),
            positive_score: positive.as_deref(),
            classes,
        }),
        (Scored::Values(predicted), Truth::Values(truth)) => {
            Outcomes::Regressor(RegressorOutcomes { truth, predicted })
        }
        _ => {
            return Err(Error::InvalidBatch(
                "true outcomes of the other task".into(),
            ));
        }
    })
}
