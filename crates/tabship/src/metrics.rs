//! Evaluation metrics, computed the way scikit-learn computes them.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::ClassLabel;

/// Fraction of equal labels.
pub fn accuracy(truth: &[usize], predicted: &[usize]) -> f64 {
    if truth.is_empty() {
        return f64::NAN;
    }
    let hits = truth.iter().zip(predicted).filter(|(a, b)| a == b).count();
    hits as f64 / truth.len() as f64
}

/// Mean negative log-likelihood of the true class; probabilities are clipped to
/// `[eps, 1 - eps]` with `eps` the float64 machine epsilon, as scikit-learn ≥ 1.5 does.
pub fn log_loss(truth: &[usize], proba: &ndarray::Array2<f64>) -> f64 {
    let eps = f64::EPSILON;
    let total: f64 = truth
        .iter()
        .enumerate()
        .map(|(i, &t)| -proba[[i, t]].clamp(eps, 1.0 - eps).ln())
        .sum();
    total / truth.len() as f64
}

/// Area under the ROC curve of `scores` for the positive class `truth == true`, with ties averaged
/// (the Mann–Whitney statistic, equal to scikit-learn's `roc_auc_score`).
pub fn roc_auc(truth: &[bool], scores: &[f64]) -> f64 {
    let n_pos = truth.iter().filter(|&&t| t).count();
    let n_neg = truth.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return f64::NAN;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let average_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            if truth[k] {
                rank_sum_pos += average_rank;
            }
        }
        i = j + 1;
    }
    let n_pos = n_pos as f64;
    (rank_sum_pos - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg as f64)
}

/// Per-class precision, recall and F1 (zero where undefined, as scikit-learn's `zero_division=0`).
pub fn precision_recall_f1(
    truth: &[usize],
    predicted: &[usize],
    n_classes: usize,
) -> Vec<(f64, f64, f64)> {
    let mut tp = vec![0usize; n_classes];
    let mut predicted_count = vec![0usize; n_classes];
    let mut true_count = vec![0usize; n_classes];
    for (&t, &p) in truth.iter().zip(predicted) {
        true_count[t] += 1;
        predicted_count[p] += 1;
        if t == p {
            tp[t] += 1;
        }
    }
    (0..n_classes)
        .map(|k| {
            let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
            let precision = ratio(tp[k], predicted_count[k]);
            let recall = ratio(tp[k], true_count[k]);
            let f1 = if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            (precision, recall, f1)
        })
        .collect()
}

/// Holdout metrics of a classifier: accuracy, macro F1, log loss, and ROC AUC for two classes.
pub fn classification_metrics(
    truth: &[usize],
    predicted: &[usize],
    proba: &ndarray::Array2<f64>,
) -> BTreeMap<String, f64> {
    let n_classes = proba.ncols();
    let per_class = precision_recall_f1(truth, predicted, n_classes);
    let mut m = BTreeMap::new();
    m.insert("accuracy".to_owned(), accuracy(truth, predicted));
    m.insert(
        "f1_macro".to_owned(),
        per_class.iter().map(|c| c.2).sum::<f64>() / n_classes as f64,
    );
    m.insert("log_loss".to_owned(), log_loss(truth, proba));
    if n_classes == 2 {
        let positive: Vec<bool> = truth.iter().map(|&t| t == 1).collect();
        let scores: Vec<f64> = proba.column(1).to_vec();
        m.insert("roc_auc".to_owned(), roc_auc(&positive, &scores));
    }
    m
}

/// Holdout metrics of a regressor: MAE, RMSE and R².
pub fn regression_metrics(truth: &[f64], predicted: &[f64]) -> BTreeMap<String, f64> {
    let n = truth.len() as f64;
    let mae = truth
        .iter()
        .zip(predicted)
        .map(|(t, p)| (t - p).abs())
        .sum::<f64>()
        / n;
    let sse = truth
        .iter()
        .zip(predicted)
        .map(|(t, p)| (t - p).powi(2))
        .sum::<f64>();
    let mean = truth.iter().sum::<f64>() / n;
    let sst = truth.iter().map(|t| (t - mean).powi(2)).sum::<f64>();
    let r2 = if sst == 0.0 {
        f64::NAN
    } else {
        1.0 - sse / sst
    };
    let mut m = BTreeMap::new();
    m.insert("mae".to_owned(), mae);
    m.insert("rmse".to_owned(), (sse / n).sqrt());
    m.insert("r2".to_owned(), r2);
    m
}

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassScores {
    /// The class label.
    pub class: ClassLabel,
    /// Of the rows predicted as this class, the share that are.
    pub precision: f64,
    /// Of the rows of this class, the share predicted as it.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Rows of this class.
    pub support: u64,
}

/// Everything `tabship evaluate` reports for a classifier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassificationReport {
    /// Rows evaluated.
    pub rows: u64,
    /// Share of correct labels.
    pub accuracy: f64,
    /// Per class, in the pipeline's class order.
    pub per_class: Vec<ClassScores>,
    /// Unweighted mean precision over classes (scikit-learn's `precision_macro`).
    pub precision_macro: f64,
    /// Unweighted mean recall (`recall_macro`).
    pub recall_macro: f64,
    /// Unweighted mean F1 (`f1_macro`, the name of the holdout metric `train` stores).
    pub f1_macro: f64,
    /// Mean log loss of the probabilities.
    pub log_loss: f64,
    /// ROC AUC of the positive class's probability (two classes only).
    pub roc_auc: Option<f64>,
    /// `confusion[true][predicted]` counts.
    pub confusion: Vec<Vec<u64>>,
}

impl ClassificationReport {
    /// Scores predictions and probabilities (`rows × classes`) against true class indices;
    /// `classes` are the labels of those indices (the pipeline's classes).
    pub fn new(
        classes: &[ClassLabel],
        truth: &[usize],
        predicted: &[usize],
        proba: &ndarray::Array2<f64>,
    ) -> Self {
        let k = proba.ncols();
        let prf = precision_recall_f1(truth, predicted, k);
        let mut confusion = vec![vec![0u64; k]; k];
        for (&t, &p) in truth.iter().zip(predicted) {
            confusion[t][p] += 1;
        }
        let per_class: Vec<ClassScores> = prf
            .iter()
            .enumerate()
            .map(|(c, &(precision, recall, f1))| ClassScores {
                class: classes
                    .get(c)
                    .cloned()
                    .unwrap_or(ClassLabel::Integer(c as i64)),
                precision,
                recall,
                f1,
                support: confusion[c].iter().sum(),
            })
            .collect();
        let mean = |f: fn(&ClassScores) -> f64| per_class.iter().map(f).sum::<f64>() / k as f64;
        let roc_auc = (k == 2).then(|| {
            let positive: Vec<bool> = truth.iter().map(|&t| t == 1).collect();
            roc_auc(&positive, &proba.column(1).to_vec())
        });
        ClassificationReport {
            rows: truth.len() as u64,
            accuracy: accuracy(truth, predicted),
            precision_macro: mean(|c| c.precision),
            recall_macro: mean(|c| c.recall),
            f1_macro: mean(|c| c.f1),
            per_class,
            log_loss: log_loss(truth, proba),
            roc_auc,
            confusion,
        }
    }
}

/// Everything `tabship evaluate` reports for a regressor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RegressionReport {
    /// Rows evaluated.
    pub rows: u64,
    /// Mean absolute error.
    pub mae: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Coefficient of determination.
    pub r2: f64,
}

impl RegressionReport {
    /// Scores predictions against true values.
    pub fn new(truth: &[f64], predicted: &[f64]) -> Self {
        let m = regression_metrics(truth, predicted);
        RegressionReport {
            rows: truth.len() as u64,
            mae: m["mae"],
            rmse: m["rmse"],
            r2: m["r2"],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_matches_scikit_learn() {
        // sklearn.metrics.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
        let auc = roc_auc(&[false, false, true, true], &[0.1, 0.4, 0.35, 0.8]);
        assert!((auc - 0.75).abs() < 1e-12);
        // ties: roc_auc_score([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]) == 0.875
        let auc = roc_auc(&[false, true, false, true], &[0.5, 0.5, 0.2, 0.9]);
        assert!((auc - 0.875).abs() < 1e-12);
    }

    #[test]
    fn regression_metrics_match_scikit_learn() {
        // r2_score([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]) == 0.9486081370449679
        let m = regression_metrics(&[3.0, -0.5, 2.0, 7.0], &[2.5, 0.0, 2.0, 8.0]);
        assert!((m["r2"] - 0.948_608_137_044_967_9).abs() < 1e-12);
        assert!((m["mae"] - 0.5).abs() < 1e-12);
        assert!((m["rmse"] - 0.375f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn report_matches_scikit_learn_known_values() {
        // y_true = [0, 1, 1, 0, 1, 1]; y_pred = [0, 1, 0, 0, 1, 1];
        // p1 = [0.2, 0.8, 0.4, 0.3, 0.9, 0.6]
        // sklearn: accuracy 0.8333333333333334, precision [0.6666666666666666, 1.0],
        // recall [1.0, 0.75], f1 [0.8, 0.8571428571428571], log_loss 0.38923981964418736,
        // roc_auc 1.0, confusion [[2, 0], [1, 3]]
        let truth = [0, 1, 1, 0, 1, 1];
        let predicted = [0, 1, 0, 0, 1, 1];
        let p1 = [0.2, 0.8, 0.4, 0.3, 0.9, 0.6];
        let proba =
            ndarray::Array2::from_shape_fn(
                (6, 2),
                |(i, j)| if j == 1 { p1[i] } else { 1.0 - p1[i] },
            );
        let classes = [
            ClassLabel::Text("no".into()),
            ClassLabel::Text("yes".into()),
        ];
        let r = ClassificationReport::new(&classes, &truth, &predicted, &proba);
        assert_eq!(r.per_class[1].class, classes[1]);
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(json["per_class"][0]["class"], "no");
        assert!(json["f1_macro"].is_number(), "{json}");
        assert!((r.accuracy - 0.833_333_333_333_333_4).abs() < 1e-12);
        assert!((r.per_class[0].precision - 0.666_666_666_666_666_6).abs() < 1e-12);
        assert!((r.per_class[1].recall - 0.75).abs() < 1e-12);
        assert!((r.per_class[1].f1 - 0.857_142_857_142_857_1).abs() < 1e-12);
        assert!((r.log_loss - 0.389_239_819_644_187_36).abs() < 1e-12);
        assert_eq!(r.roc_auc, Some(1.0));
        assert_eq!(r.confusion, vec![vec![2, 0], vec![1, 3]]);
        assert_eq!(r.per_class[1].support, 4);
    }

    #[test]
    fn f1_per_class() {
        // f1_score([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], average=None) == [0.8, 0, 0]
        let f = precision_recall_f1(&[0, 1, 2, 0, 1, 2], &[0, 2, 1, 0, 0, 1], 3);
        assert!((f[0].2 - 0.8).abs() < 1e-12);
        assert_eq!(f[1].2, 0.0);
    }
}
