//! Evaluation metrics, computed the way scikit-learn computes them.

use std::collections::BTreeMap;

/// Fraction of equal labels.
pub fn accuracy(truth: &[usize], predicted: &[usize]) -> f64 {
    if truth.is_empty() {
        return f64::NAN;
    }
    let hits = truth.iter().zip(predicted).filter(|(a, b)| a == b).count();
    hits as f64 / truth.len() as f64
}

/// Mean negative log-likelihood of the true class; probabilities are clipped to `[1e-15, 1 - 1e-15]`.
pub fn log_loss(truth: &[usize], proba: &ndarray::Array2<f64>) -> f64 {
    let eps = 1e-15;
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
    fn f1_per_class() {
        // f1_score([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], average=None) == [0.8, 0, 0]
        let f = precision_recall_f1(&[0, 1, 2, 0, 1, 2], &[0, 2, 1, 0, 0, 1], 3);
        assert!((f[0].2 - 0.8).abs() < 1e-12);
        assert_eq!(f[1].2, 0.0);
    }
}
