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
    /// multiclass the first highest score. Scores that overflow `f64` are compared exactly as
    /// [`predict_proba`](Self::predict_proba) compares them, so the label is always the class
    /// with the highest probability.
    #[inline]
    pub fn predict(&self, entries: &[Entry]) -> usize {
        if self.coefficients.len() == 1 {
            let z = dot(entries, &self.coefficients[0]) + self.intercepts[0];
            if z.is_finite() {
                return usize::from(sigmoid(z) > 0.5);
            }
            let mut scaled = [0.0];
            self.scaled_scores(entries, &mut scaled);
            usize::from(scaled[0] > 0.0)
        } else {
            let mut best = 0;
            let mut best_score = f64::MIN;
            for (k, (w, b)) in self.coefficients.iter().zip(&self.intercepts).enumerate() {
                let z = dot(entries, w) + b;
                if !z.is_finite() {
                    let mut scaled = vec![0.0; self.coefficients.len()];
                    self.scaled_scores(entries, &mut scaled);
                    return first_max(&scaled);
                }
                if z > best_score {
                    best_score = z;
                    best = k;
                }
            }
            best
        }
    }

    /// Class probabilities into `out` (length [`n_classes`](Self::n_classes)): always finite and
    /// summing to one, also when extreme inputs make a score overflow `f64` (the scores are then
    /// recomputed over a shared power of two, see [`scaled_scores`](Self::scaled_scores)).
    #[inline]
    pub fn predict_proba(&self, entries: &[Entry], out: &mut [f64]) {
        if self.coefficients.len() == 1 {
            let mut z = dot(entries, &self.coefficients[0]) + self.intercepts[0];
            if !z.is_finite() {
                let mut scaled = [0.0];
                let exponent = self.scaled_scores(entries, &mut scaled);
                z = times_pow2(scaled[0], exponent);
            }
            let p = sigmoid(z);
            out[0] = 1.0 - p;
            out[1] = p;
        } else {
            let mut max = f64::NEG_INFINITY;
            let mut finite = true;
            for (k, (w, b)) in self.coefficients.iter().zip(&self.intercepts).enumerate() {
                out[k] = dot(entries, w) + b;
                finite &= out[k].is_finite();
                max = max.max(out[k]);
            }
            if finite {
                softmax_in_place(out, max, |d| d);
            } else {
                let exponent = self.scaled_scores(entries, out);
                let max = out.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                // `d` is a difference of scaled scores: 0 for the best class, negative for the
                // others, and negative times 2^exponent may round to -inf, whose exp is 0.
                softmax_in_place(out, max, |d| {
                    if d == 0.0 {
                        0.0
                    } else {
                        times_pow2(d, exponent)
                    }
                });
            }
        }
    }

    /// The scores divided by `2^exponent` (the returned exponent), for rows whose plain scores
    /// overflow. Both the row and the coefficients are scaled by exact powers of two so that every
    /// product is at most a few units; the scaled scores order the classes as the true scores do,
    /// and their differences times `2^exponent` are the true differences (to rounding). Entries
    /// and coefficients too small to matter next to an overflowing product may vanish. An entry
    /// whose scaling itself overflowed (a raw value near `f64::MAX` divided by a small scale)
    /// counts as `±f64::MAX`: the only value beyond `f64`'s range that can be represented.
    fn scaled_scores(&self, entries: &[Entry], out: &mut [f64]) -> i32 {
        let clamp = |x: f64| x.clamp(-f64::MAX, f64::MAX);
        let row_exponent = max_exponent(entries.iter().map(|&(_, x)| clamp(x)));
        let weight_exponent = max_exponent(self.coefficients.iter().flatten().copied());
        let exponent = row_exponent + weight_exponent;
        for (k, (w, b)) in self.coefficients.iter().zip(&self.intercepts).enumerate() {
            let mut sum = 0.0;
            for &(f, x) in entries {
                sum += times_pow2(clamp(x), -row_exponent)
                    * times_pow2(w[f as usize], -weight_exponent);
            }
            out[k] = sum + times_pow2(*b, -exponent);
        }
        exponent
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

/// `exp(d(z - max))` normalised to sum to one, in place.
fn softmax_in_place(scores: &mut [f64], max: f64, difference: impl Fn(f64) -> f64) {
    let mut total = 0.0;
    for z in scores.iter_mut() {
        *z = difference(*z - max).exp();
        total += *z;
    }
    for p in scores.iter_mut() {
        *p /= total;
    }
}

/// Index of the first highest value.
fn first_max(values: &[f64]) -> usize {
    let mut best = 0;
    for (k, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = k;
        }
    }
    best
}

/// The binary exponent `e` with `2^e <= |v| < 2^(e+1)` of the largest finite non-zero value, or 0.
fn max_exponent(values: impl Iterator<Item = f64>) -> i32 {
    let largest = values
        .filter(|v| v.is_finite())
        .map(f64::abs)
        .fold(0.0, f64::max);
    if largest == 0.0 {
        return 0;
    }
    let biased = ((largest.to_bits() >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // Subnormal: never the cause of an overflow, no scaling needed.
        0
    } else {
        biased - 1023
    }
}

/// `v * 2^e`, exact unless the result overflows (±inf) or underflows, for any `e`.
fn times_pow2(mut v: f64, mut e: i32) -> f64 {
    // 2^k for |k| <= 1000 is a normal f64; larger shifts go in steps.
    while e != 0 && v != 0.0 && v.is_finite() {
        let step = e.clamp(-1000, 1000);
        v *= f64::from_bits(((1023 + step) as u64) << 52);
        e -= step;
    }
    v
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

    /// Iris-like: a huge value in one feature makes two class scores overflow to +inf and -inf
    /// (the plain softmax gave `NaN` probabilities next to a confident label).
    #[test]
    fn overflowing_scores_give_finite_probabilities_consistent_with_the_label() {
        let m = LogisticClassifier {
            coefficients: vec![vec![-2.5, 0.3], vec![0.4, 0.1], vec![2.1, -0.2]],
            intercepts: vec![0.2, 1.0, -1.1],
        };
        for x in [1.31e308, -1.31e308, f64::MAX, f64::INFINITY, 1e300] {
            let entries = [(0, x), (1, 1.0)];
            let mut p = [0.0; 3];
            m.predict_proba(&entries, &mut p);
            assert!(p.iter().all(|v| v.is_finite()), "{x}: {p:?}");
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{x}: {p:?}");
            let label = m.predict(&entries);
            assert_eq!(
                p[label],
                p.iter().copied().fold(0.0, f64::max),
                "{x}: {p:?}"
            );
            let expected = if x > 0.0 { 2 } else { 0 };
            assert_eq!(label, expected, "{x}: {p:?}");
            assert_eq!(p[expected], 1.0, "{x}: {p:?}");
        }
    }

    #[test]
    fn overflowing_binary_score_is_a_certain_label() {
        let m = LogisticClassifier {
            coefficients: vec![vec![3.0, -3.0]],
            intercepts: vec![0.5],
        };
        // 3 * 1e308 overflows; the second product keeps it from being +inf only when both are big.
        for (a, b, label) in [
            (1e308, 0.0, 1),
            (-1e308, 0.0, 0),
            (1e308, 0.9e308, 1),
            (0.9e308, 1e308, 0),
        ] {
            let entries = [(0, a), (1, b)];
            let mut p = [0.0; 2];
            m.predict_proba(&entries, &mut p);
            assert!(p.iter().all(|v| v.is_finite()), "{a} {b}: {p:?}");
            assert_eq!(p[0] + p[1], 1.0);
            assert_eq!(m.predict(&entries), label, "{a} {b}: {p:?}");
            assert!(p[label] >= 0.5, "{a} {b}: {p:?}");
        }
    }

    #[test]
    fn ordinary_scores_keep_the_plain_softmax_bits() {
        let m = LogisticClassifier {
            coefficients: vec![vec![1.0], vec![2.0], vec![-1.0]],
            intercepts: vec![0.0, 0.0, 3.0],
        };
        let mut p = [0.0; 3];
        m.predict_proba(&[(0, 0.7)], &mut p);
        let z = [0.7_f64, 1.4, 2.3];
        let e: Vec<f64> = z.iter().map(|v| (v - 2.3).exp()).collect();
        let total: f64 = e.iter().sum();
        for k in 0..3 {
            assert_eq!(p[k], e[k] / total);
        }
    }

    #[test]
    fn powers_of_two_scale_exactly() {
        assert_eq!(times_pow2(3.0, -1080), 0.0);
        assert_eq!(times_pow2(1.5, 1023), 1.5 * 2f64.powi(1023));
        assert_eq!(times_pow2(1.0, 1024), f64::INFINITY);
        assert_eq!(
            times_pow2(f64::MAX, -2000),
            f64::MAX / 2f64.powi(1000) / 2f64.powi(1000)
        );
        assert_eq!(max_exponent([0.75, -3.0e-5].into_iter()), -1);
        assert_eq!(max_exponent([f64::MAX].into_iter()), 1023);
    }
}
