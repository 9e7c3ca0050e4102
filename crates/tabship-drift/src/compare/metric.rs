//! The metrics a comparison reads, on one model's per-row outcomes and integer row weights (how
//! many times a bootstrap resample drew each row; all ones for the data as given). Each equals
//! scikit-learn's metric on the rows repeated by their weights: `accuracy_score`,
//! `f1_score(average="macro")`, `roc_auc_score`, `log_loss`, `mean_absolute_error` and
//! `root_mean_squared_error`.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A metric of one model on labelled rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Metric {
    /// Share of correct predictions (classification).
    Accuracy,
    /// Macro F1 over the classes present in the truth or the predictions (classification).
    F1,
    /// Area under the ROC curve of the positive class's score, ties averaged (two classes).
    RocAuc,
    /// Mean negative log-likelihood of the true class, probabilities clipped to `[ε, 1 − ε]`
    /// with `ε` the `f64` machine epsilon, as scikit-learn (classification).
    LogLoss,
    /// Mean absolute error (regression).
    Mae,
    /// Root mean squared error (regression).
    Rmse,
}

impl Metric {
    /// Every metric, in the order reports list them.
    pub const ALL: [Metric; 6] = [
        Metric::Accuracy,
        Metric::F1,
        Metric::RocAuc,
        Metric::LogLoss,
        Metric::Mae,
        Metric::Rmse,
    ];

    /// The metric's name in reports and options: `accuracy`, `f1`, `roc-auc`, `log-loss`, `mae`,
    /// `rmse`.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::F1 => "f1",
            Metric::RocAuc => "roc-auc",
            Metric::LogLoss => "log-loss",
            Metric::Mae => "mae",
            Metric::Rmse => "rmse",
        }
    }

    /// Whether a larger value is a better model (accuracy, F1, ROC AUC) or a worse one (losses
    /// and errors).
    pub fn higher_is_better(self) -> bool {
        matches!(self, Metric::Accuracy | Metric::F1 | Metric::RocAuc)
    }

    /// Whether the metric reads classifier outcomes (otherwise regressor outcomes).
    pub fn is_classification(self) -> bool {
        !matches!(self, Metric::Mae | Metric::Rmse)
    }
}

/// One classifier's per-row outcomes on labelled rows, classes as indices `0..classes`.
#[derive(Debug, Clone, Copy)]
pub struct ClassifierOutcomes<'a> {
    /// The true class of each row.
    pub truth: &'a [usize],
    /// The predicted class of each row.
    pub predicted: &'a [usize],
    /// The predicted probability of each row's true class (log loss; without it, log loss does
    /// not apply).
    pub proba_of_truth: Option<&'a [f64]>,
    /// The score of the positive class (index 1) of each row, for two classes (ROC AUC).
    pub positive_score: Option<&'a [f64]>,
    /// The number of classes.
    pub classes: usize,
}

impl<'a> ClassifierOutcomes<'a> {
    /// Predicted classes without scores: accuracy and F1 apply, log loss and ROC AUC do not.
    pub fn classes_only(truth: &'a [usize], predicted: &'a [usize], classes: usize) -> Self {
        ClassifierOutcomes {
            truth,
            predicted,
            proba_of_truth: None,
            positive_score: None,
            classes,
        }
    }
}

/// One regressor's per-row outcomes on labelled rows.
#[derive(Debug, Clone, Copy)]
pub struct RegressorOutcomes<'a> {
    /// The true value of each row.
    pub truth: &'a [f64],
    /// The predicted value of each row.
    pub predicted: &'a [f64],
}

/// One model's per-row outcomes on labelled rows.
#[derive(Debug, Clone, Copy)]
pub enum Outcomes<'a> {
    /// A classifier's.
    Classifier(ClassifierOutcomes<'a>),
    /// A regressor's.
    Regressor(RegressorOutcomes<'a>),
}

impl Outcomes<'_> {
    /// The number of rows.
    pub fn len(&self) -> usize {
        match self {
            Outcomes::Classifier(c) => c.truth.len(),
            Outcomes::Regressor(r) => r.truth.len(),
        }
    }

    /// Whether there is no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks that every array has one value per row and classes are in range.
    pub fn validate(&self) -> Result<()> {
        let rows = self.len();
        let check = |what: &str, len: usize| {
            if len == rows {
                Ok(())
            } else {
                Err(Error::mismatch(
                    format!("outcome array `{what}`"),
                    format!("{rows} values (one per row)"),
                    len.to_string(),
                ))
            }
        };
        match self {
            Outcomes::Classifier(c) => {
                check("predicted", c.predicted.len())?;
                if let Some(proba) = c.proba_of_truth {
                    check("proba_of_truth", proba.len())?;
                }
                if let Some(scores) = c.positive_score {
                    check("positive_score", scores.len())?;
                }
                if let Some(&bad) = c.truth.iter().chain(c.predicted).find(|&&k| k >= c.classes) {
                    return Err(Error::mismatch(
                        "a class index",
                        format!("less than {}", c.classes),
                        bad.to_string(),
                    ));
                }
            }
            Outcomes::Regressor(r) => check("predicted", r.predicted.len())?,
        }
        Ok(())
    }

    /// Each row's correctness (classifiers) or `None` (regressors).
    pub fn correct(&self) -> Option<Vec<bool>> {
        match self {
            Outcomes::Classifier(c) => Some(
                c.truth
                    .iter()
                    .zip(c.predicted)
                    .map(|(t, p)| t == p)
                    .collect(),
            ),
            Outcomes::Regressor(_) => None,
        }
    }

    /// Each row's loss under `metric` when the metric is a mean of per-row losses: 0/1 error
    /// (accuracy), negative log-likelihood (log loss), absolute error (MAE), squared error
    /// (RMSE, whose square is their mean). `None` for F1 and ROC AUC, which are not.
    pub fn row_losses(&self, metric: Metric) -> Option<Vec<f64>> {
        match (self, metric) {
            (Outcomes::Classifier(c), Metric::Accuracy) => Some(
                c.truth
                    .iter()
                    .zip(c.predicted)
                    .map(|(t, p)| f64::from(u8::from(t != p)))
                    .collect(),
            ),
            (Outcomes::Classifier(c), Metric::LogLoss) => {
                Some(c.proba_of_truth?.iter().map(|&p| nll(p)).collect())
            }
            (Outcomes::Regressor(r), Metric::Mae) => Some(
                r.truth
                    .iter()
                    .zip(r.predicted)
                    .map(|(t, p)| (t - p).abs())
                    .collect(),
            ),
            (Outcomes::Regressor(r), Metric::Rmse) => Some(
                r.truth
                    .iter()
                    .zip(r.predicted)
                    .map(|(t, p)| (t - p) * (t - p))
                    .collect(),
            ),
            _ => None,
        }
    }
}

/// Negative log-likelihood of a probability clipped to `[ε, 1 − ε]`, as scikit-learn's log loss.
fn nll(p: f64) -> f64 {
    -p.clamp(f64::EPSILON, 1.0 - f64::EPSILON).ln()
}

/// A metric bound to one model's outcomes, ready to be evaluated under many weightings (the ROC
/// curve's order is sorted once).
#[derive(Debug)]
pub struct Weighted<'a> {
    metric: Metric,
    outcomes: Outcomes<'a>,
    /// Row indices by increasing positive score (ROC AUC only).
    order: Vec<usize>,
}

impl<'a> Weighted<'a> {
    /// Binds `metric` to `outcomes`, checking that the metric applies to them.
    pub fn new(metric: Metric, outcomes: Outcomes<'a>) -> Result<Self> {
        outcomes.validate()?;
        let applies = match (&outcomes, metric) {
            (Outcomes::Classifier(c), Metric::RocAuc) => c.positive_score.is_some(),
            (Outcomes::Classifier(c), Metric::LogLoss) => c.proba_of_truth.is_some(),
            (Outcomes::Classifier(_), m) => m.is_classification(),
            (Outcomes::Regressor(_), m) => !m.is_classification(),
        };
        if !applies {
            let kind = match outcomes {
                Outcomes::Classifier(c) if c.classes != 2 && metric == Metric::RocAuc => {
                    "a classifier of more than two classes"
                }
                Outcomes::Classifier(_) if metric == Metric::RocAuc => {
                    "outcomes without the positive class's scores"
                }
                Outcomes::Classifier(_) if metric == Metric::LogLoss => {
                    "outcomes without probabilities"
                }
                Outcomes::Classifier(_) => "a classifier",
                Outcomes::Regressor(_) => "a regressor",
            };
            return Err(Error::InvalidOption {
                option: "metric",
                reason: format!("`{}` does not apply to {kind}", metric.name()),
            });
        }
        let mut order = Vec::new();
        if let (Outcomes::Classifier(c), Metric::RocAuc) = (&outcomes, metric) {
            let scores = c.positive_score.unwrap_or_default();
            order = (0..scores.len()).collect();
            order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
        }
        Ok(Weighted {
            metric,
            outcomes,
            order,
        })
    }

    /// The metric.
    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// The metric with every row counted once; `None` when undefined (no row, or ROC AUC with a
    /// single class).
    pub fn value(&self) -> Option<f64> {
        self.value_weighted(None)
    }

    /// The metric with row `i` counted `weights[i]` times (`None`: once each); `None` when
    /// undefined (no weight, ROC AUC without both classes, or `weights` not of one value per
    /// row).
    pub fn value_weighted(&self, weights: Option<&[u32]>) -> Option<f64> {
        let rows = self.outcomes.len();
        if weights.is_some_and(|w| w.len() != rows) {
            return None;
        }
        let w = |i: usize| weights.map_or(1.0, |w| f64::from(w[i]));
        let total: f64 = (0..rows).map(w).sum();
        if total == 0.0 {
            return None;
        }
        let mean = |f: &dyn Fn(usize) -> f64| (0..rows).map(|i| w(i) * f(i)).sum::<f64>() / total;
        match self.outcomes {
            Outcomes::Classifier(c) => match self.metric {
                Metric::Accuracy => {
                    Some(mean(&|i| f64::from(u8::from(c.truth[i] == c.predicted[i]))))
                }
                Metric::LogLoss => {
                    let proba = c.proba_of_truth?;
                    Some(mean(&|i| nll(proba[i])))
                }
                Metric::F1 => Some(macro_f1(&c, &w)),
                Metric::RocAuc => roc_auc(&c, &self.order, &w),
                Metric::Mae | Metric::Rmse => None,
            },
            Outcomes::Regressor(r) => match self.metric {
                Metric::Mae => Some(mean(&|i| (r.truth[i] - r.predicted[i]).abs())),
                Metric::Rmse => Some(
                    mean(&|i| (r.truth[i] - r.predicted[i]) * (r.truth[i] - r.predicted[i])).sqrt(),
                ),
                _ => None,
            },
        }
    }
}

/// Macro F1 over the classes with weight in the truth or the predictions (scikit-learn's labels
/// of the repeated rows); a class's F1 is `2 TP / (2 TP + FP + FN)`.
fn macro_f1(c: &ClassifierOutcomes<'_>, w: &dyn Fn(usize) -> f64) -> f64 {
    let mut tp = vec![0.0; c.classes];
    let mut fp = vec![0.0; c.classes];
    let mut fneg = vec![0.0; c.classes];
    for (i, (&t, &p)) in c.truth.iter().zip(c.predicted).enumerate() {
        let weight = w(i);
        if t == p {
            tp[t] += weight;
        } else {
            fp[p] += weight;
            fneg[t] += weight;
        }
    }
    let (sum, present) = (0..c.classes)
        .filter(|&k| tp[k] + fp[k] + fneg[k] > 0.0)
        .fold((0.0, 0u32), |(sum, n), k| {
            (sum + 2.0 * tp[k] / (2.0 * tp[k] + fp[k] + fneg[k]), n + 1)
        });
    if present == 0 {
        0.0
    } else {
        sum / f64::from(present)
    }
}

/// Weighted Mann–Whitney AUC over rows sorted by score: each positive counts the negatives below
/// it, ties as one half. `None` without both classes.
fn roc_auc(c: &ClassifierOutcomes<'_>, order: &[usize], w: &dyn Fn(usize) -> f64) -> Option<f64> {
    let scores = c.positive_score?;
    let (mut negatives_below, mut area, mut positives) = (0.0, 0.0, 0.0);
    let mut start = 0;
    while start < order.len() {
        let score = scores[order[start]];
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == score {
            end += 1;
        }
        let (mut pos, mut neg) = (0.0, 0.0);
        for &i in &order[start..end] {
            if c.truth[i] == 1 {
                pos += w(i);
            } else {
                neg += w(i);
            }
        }
        area += pos * (negatives_below + 0.5 * neg);
        negatives_below += neg;
        positives += pos;
        start = end;
    }
    (positives > 0.0 && negatives_below > 0.0).then(|| area / (positives * negatives_below))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classifier<'a>(
        truth: &'a [usize],
        predicted: &'a [usize],
        proba: &'a [f64],
        scores: &'a [f64],
    ) -> Outcomes<'a> {
        Outcomes::Classifier(ClassifierOutcomes {
            truth,
            predicted,
            proba_of_truth: Some(proba),
            positive_score: Some(scores),
            classes: 2,
        })
    }

    #[test]
    fn by_hand() {
        let truth = [0, 0, 1, 1];
        let predicted = [0, 1, 1, 1];
        let proba = [0.9, 0.4, 0.8, 0.7];
        let scores = [0.1, 0.6, 0.8, 0.7];
        let o = classifier(&truth, &predicted, &proba, &scores);
        let value = |m| Weighted::new(m, o).map(|w| w.value());
        assert_eq!(value(Metric::Accuracy).ok().flatten(), Some(0.75));
        assert_eq!(value(Metric::RocAuc).ok().flatten(), Some(1.0));
        // Class 0: TP 1, FN 1 → 2/3; class 1: TP 2, FP 1 → 4/5.
        let f1 = value(Metric::F1).ok().flatten().unwrap_or(f64::NAN);
        assert!((f1 - (2.0 / 3.0 + 0.8) / 2.0).abs() < 1e-15);
        // Weights: row 1 drawn three times, row 2 never.
        let w = Weighted::new(Metric::Accuracy, o).ok();
        let acc = w.and_then(|w| w.value_weighted(Some(&[1, 3, 0, 1])));
        assert_eq!(acc, Some(0.4));
    }

    #[test]
    fn auc_is_undefined_with_one_class_and_metrics_refuse_the_wrong_task() {
        let truth = [1, 1];
        let o = classifier(&truth, &[1, 0], &[0.6, 0.3], &[0.6, 0.7]);
        let w = Weighted::new(Metric::RocAuc, o);
        assert!(matches!(w.map(|w| w.value()), Ok(None)));
        let err = Weighted::new(Metric::Mae, o).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("invalid option `metric`: `mae` does not apply to a classifier")
        );
        let Outcomes::Classifier(mut c) = o else {
            panic!("a classifier")
        };
        c.proba_of_truth = None;
        let err = Weighted::new(Metric::LogLoss, Outcomes::Classifier(c))
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "invalid option `metric`: `log-loss` does not apply to outcomes without probabilities"
            )
        );
    }

    #[test]
    fn lengths_and_classes_are_checked() {
        let refused = |truth, predicted| {
            let o = classifier(truth, predicted, &[0.5, 0.5], &[0.5, 0.5]);
            o.validate()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let err = refused(&[0, 1], &[1]);
        assert!(
            err.contains("`predicted`") && err.contains("got 1"),
            "{err}"
        );
        let err = refused(&[0, 2], &[1, 1]);
        assert!(
            err.contains("less than 2") && err.contains("got 2"),
            "{err}"
        );
    }
}
