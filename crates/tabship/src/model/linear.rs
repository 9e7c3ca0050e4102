//! Linear models: regression (ordinary least squares, ridge, lasso, elastic net share one form) and
//! logistic regression with real probabilities.

use serde::{Deserialize, Serialize};

use crate::encode::Entry;
use crate::{Error, Result};

/// `y = x · coefficients + intercept`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearRegressor {
    /// One coefficient per model feature.
    pub coefficients: Vec<f64>,
    /// The intercept.
    pub intercept: f64,
}

/// Logistic regression. Binary: one coefficient row, `p(classes[1]) = sigmoid(z)`. Multiclass: one
/// row per class, probabilities are the softmax of the scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticClassifier {
    /// Rows of coefficients: 1 for binary, one per class otherwise.
    pub coefficients: Vec<Vec<f64>>,
    /// One intercept per row.
    pub intercepts: Vec<f64>,
}

/// Sequential dot product over the row's entries. Zero features are skipped, which gives exactly
/// the sum of the dense product taken in feature order.
#[inline]
fn dot(entries: &[Entry], weights: &[f64]) -> f64 {
    let mut sum = 0.0;
    for &(f, x) in entries {
        sum += x * weights[f as usize];
    }
    sum
}

impl LinearRegressor {
    /// The predicted value.
    #[inline]
    pub fn predict(&self, entries: &[Entry]) -> f64 {
        dot(entries, &self.coefficients) + self.intercept
    }

    pub(crate) fn validate(&self, width: usize) -> Result<()> {
        check_row("model.coefficients", &self.coefficients, width)?;
        check_finite("model.intercept", &[self.intercept])
    }
}

impl LogisticClassifier {
    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        if self.coefficients.len() == 1 {
            2
        } else {
            self.coefficients.len()
        }
    }

    /// The predicted class index, decided as smartcore decides it: binary `sigmoid(z) > 0.5`,
    /// multiclass the first highest score.
    #[inline]
    pub fn predict(&self, entries: &[Entry]) -> usize {
        if self.coefficients.len() == 1 {
            let z = dot(entries, &self.coefficients[0]) + self.intercepts[0];
            usize::from(sigmoid(z) > 0.5)
        } else {
            let mut best = 0;
            let mut best_score = f64::MIN;
            for (k, (w, b)) in self.coefficients.iter().zip(&self.intercepts).enumerate() {
                let z = dot(entries, w) + b;
                if z > best_score {
                    best_score = z;
                    best = k;
                }
            }
            best
        }
    }

    /// Class probabilities into `out` (length [`n_classes`](Self::n_classes)).
    #[inline]
    pub fn predict_proba(&self, entries: &[Entry], out: &mut [f64]) {
        if self.coefficients.len() == 1 {
            let p = sigmoid(dot(entries, &self.coefficients[0]) + self.intercepts[0]);
            out[0] = 1.0 - p;
            out[1] = p;
        } else {
            let mut max = f64::NEG_INFINITY;
            for (k, (w, b)) in self.coefficients.iter().zip(&self.intercepts).enumerate() {
                out[k] = dot(entries, w) + b;
                max = max.max(out[k]);
            }
            let mut total = 0.0;
            for z in out.iter_mut() {
                *z = (*z - max).exp();
                total += *z;
            }
            for p in out.iter_mut() {
                *p /= total;
            }
        }
    }

    pub(crate) fn validate(&self, width: usize, n_classes: usize) -> Result<()> {
        let rows = self.coefficients.len();
        let expected_rows = if n_classes == 2 { 1 } else { n_classes };
        if rows != expected_rows {
            return Err(Error::field(
                "model.coefficients",
                format!(
                    "{rows} coefficient rows for {n_classes} classes (expected {expected_rows})"
                ),
            ));
        }
        if self.intercepts.len() != rows {
            return Err(Error::field(
                "model.intercepts",
                format!(
                    "{} intercepts for {rows} coefficient rows",
                    self.intercepts.len()
                ),
            ));
        }
        for (k, row) in self.coefficients.iter().enumerate() {
            check_row(&format!("model.coefficients[{k}]"), row, width)?;
        }
        check_finite("model.intercepts", &self.intercepts)
    }
}

/// Numerically stable logistic function.
#[inline]
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

fn check_row(field: &str, row: &[f64], width: usize) -> Result<()> {
    if row.len() != width {
        return Err(Error::field(
            field,
            format!("{} coefficients for {width} model features", row.len()),
        ));
    }
    check_finite(field, row)
}

fn check_finite(field: &str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(Error::field(field, format!("value {i} is not finite"))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_probabilities_sum_to_one() {
        let m = LogisticClassifier {
            coefficients: vec![vec![2.0, -1.0]],
            intercepts: vec![0.5],
        };
        let entries = [(0, 1.0), (1, 3.0)];
        let mut p = [0.0; 2];
        m.predict_proba(&entries, &mut p);
        let z: f64 = 2.0 - 3.0 + 0.5;
        assert!((p[1] - 1.0 / (1.0 + (-z).exp())).abs() < 1e-15);
        assert!((p[0] + p[1] - 1.0).abs() < 1e-15);
        assert_eq!(m.predict(&entries), 0);
    }

    #[test]
    fn softmax_matches_argmax() {
        let m = LogisticClassifier {
            coefficients: vec![vec![1.0], vec![2.0], vec![-1.0]],
            intercepts: vec![0.0, 0.0, 3.0],
        };
        let entries = [(0, 2.0)];
        let mut p = [0.0; 3];
        m.predict_proba(&entries, &mut p);
        assert_eq!(m.predict(&entries), 1);
        let best = p
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i);
        assert_eq!(best, Some(1));
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn sigmoid_is_stable_at_the_extremes() {
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert_eq!(sigmoid(1000.0), 1.0);
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-16);
    }
}
