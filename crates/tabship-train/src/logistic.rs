//! Logistic regression: smartcore's objective and smartcore's L-BFGS optimiser, with the stopping
//! rule and iteration limit the user chooses.
//!
//! smartcore 0.7's `LogisticRegression` always runs `LBFGS::default()`: its absolute gradient
//! tolerance (1e-8 on a loss *summed* over rows) is practically never met, so every fit runs the
//! full 1,000 iterations, and it re-evaluates the loss over all rows several times per iteration.
//! This module minimises the very same objective (binary: Σ log(1 + e^z) − y·z; multiclass:
//! −Σ log softmax(z)_y; plus `alpha/2 · ‖w‖²` without the intercepts) with the very same
//! optimiser and line search, but
//! - stops when the largest gradient component of the *mean* loss is at most `tol` (scikit-learn's
//!   rule for `lbfgs`, default 1e-4) or after `max_iter` iterations, and
//! - evaluates the loss with matrix-vector products (one pass over `X` each) and caches the margins
//!   and gradients of the last points, since the optimiser asks for the loss and the gradient at
//!   the same point repeatedly.
//!
//! With `tol` small enough to reproduce smartcore's own rule, the fitted model predicts what
//! smartcore's `LogisticRegression` predicts ([`smartcore_reference`], used by the parity tests).

use std::cell::RefCell;

use ndarray::{Array2, ArrayView1};
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};
use smartcore::optimization::FunctionOrder;
use smartcore::optimization::first_order::FirstOrderOptimizer;
use smartcore::optimization::first_order::lbfgs::LBFGS;
use smartcore::optimization::line_search::Backtracking;
use tabship::model::LogisticClassifier;

use crate::linear::to_smartcore;
use crate::options::LinearParams;
use crate::{Error, Result};

/// A fitted logistic regression: one weight row and intercept per class (one row for two
/// classes, as smartcore fits it), and how the optimiser ended.
#[derive(Debug, Clone)]
pub struct FittedLogistic {
    coefficients: Array2<f64>,
    intercepts: Vec<f64>,
    /// L-BFGS iterations run.
    pub iterations: usize,
    /// Whether the gradient criterion was met before `max_iter`.
    pub converged: bool,
    /// The largest absolute component of the mean loss's gradient at the solution.
    pub largest_gradient: f64,
}

impl FittedLogistic {
    /// Fits on encoded features and class indices `0..n_classes`; every class must occur.
    pub fn fit(
        x: &Array2<f64>,
        y: &[usize],
        n_classes: usize,
        params: &LinearParams,
    ) -> Result<Self> {
        Self::fit_weighted(x, y, n_classes, params, None)
    }

    /// Fits with a weight per class (scikit-learn's `class_weight`): every row's loss is
    /// multiplied by its class's weight, the penalty is not, and the stopping rule is taken on
    /// the loss divided by the total weight (scikit-learn divides by the sum of sample weights).
    pub fn fit_weighted(
        x: &Array2<f64>,
        y: &[usize],
        n_classes: usize,
        params: &LinearParams,
        class_weights: Option<&[f64]>,
    ) -> Result<Self> {
        if let Some(w) = class_weights {
            if w.len() != n_classes || !w.iter().all(|v| v.is_finite() && *v > 0.0) {
                return Err(Error::Data(format!(
                    "logistic regression got {} class weights for {n_classes} classes, each must \
                     be finite and > 0",
                    w.len()
                )));
            }
        }
        let sample_weights: Option<Vec<f64>> = class_weights.map(|w| {
            y.iter()
                .map(|&c| w.get(c).copied().unwrap_or(1.0))
                .collect()
        });
        let total = sample_weights
            .as_ref()
            .map_or(x.nrows() as f64, |s| s.iter().sum());
        let g_atol = params.tol * total;
        fit_with(
            x,
            y,
            n_classes,
            params.alpha,
            params.max_iter,
            g_atol,
            sample_weights,
            total,
        )
    }

    /// tabship's own parameters.
    pub fn export(&self) -> LogisticClassifier {
        LogisticClassifier {
            coefficients: self.coefficients.outer_iter().map(|r| r.to_vec()).collect(),
            intercepts: self.intercepts.clone(),
        }
    }
}

/// Class indices predicted by smartcore's own `LogisticRegression` fitted on the same rows: the
/// reference for parity tests.
pub fn smartcore_reference(
    train_x: &Array2<f64>,
    train_y: &[usize],
    alpha: f64,
    x: &Array2<f64>,
) -> Result<Vec<usize>> {
    let failed = |e: smartcore::error::Failed| Error::Fit {
        model: "logistic",
        message: e.to_string(),
    };
    let labels: Vec<i32> = train_y.iter().map(|&c| c as i32).collect();
    let parameters = LogisticRegressionParameters::default().with_alpha(alpha);
    let model =
        LogisticRegression::fit(&to_smartcore(train_x)?, &labels, parameters).map_err(failed)?;
    let predicted = model.predict(&to_smartcore(x)?).map_err(failed)?;
    Ok(predicted
        .into_iter()
        .map(|c| model.classes()[c as usize] as usize)
        .collect())
}

#[allow(clippy::too_many_arguments)]
fn fit_with(
    x: &Array2<f64>,
    y: &[usize],
    n_classes: usize,
    alpha: f64,
    max_iter: usize,
    g_atol: f64,
    sample_weights: Option<Vec<f64>>,
    total_weight: f64,
) -> Result<FittedLogistic> {
    if y.len() != x.nrows() {
        return Err(Error::Data(format!(
            "logistic regression got {} labels for {} rows",
            y.len(),
            x.nrows()
        )));
    }
    if let Some(&c) = y.iter().find(|&&c| c >= n_classes) {
        return Err(Error::Data(format!(
            "logistic regression got class index {c}, expected 0 to {}",
            n_classes.saturating_sub(1)
        )));
    }
    let mut seen = vec![false; n_classes];
    for &c in y {
        seen[c] = true;
    }
    let present = seen.iter().filter(|&&s| s).count();
    if n_classes < 2 || present < n_classes {
        return Err(Error::Data(format!(
            "logistic regression saw {present} of {n_classes} classes in the training rows"
        )));
    }
    let mut objective = Objective::new(x, y, n_classes, alpha);
    objective.sample_weights = sample_weights;
    let f = |w: &Vec<f64>| objective.loss(w);
    let df = |g: &mut Vec<f64>, w: &Vec<f64>| objective.gradient(g, w);
    let line_search: Backtracking<f64> = Backtracking {
        order: FunctionOrder::THIRD,
        ..Default::default()
    };
    let optimizer = LBFGS {
        max_iter,
        g_atol,
        ..Default::default()
    };
    let x0 = vec![0.0; objective.n_weights()];
    let result = optimizer.optimize(&f, &df, &x0, &line_search);
    let mut gradient = vec![0.0; x0.len()];
    objective.gradient(&mut gradient, &result.x);
    let largest = gradient.iter().fold(0.0_f64, |m, g| m.max(g.abs()));
    if !result.x.iter().all(|w| w.is_finite()) {
        return Err(Error::Fit {
            model: "logistic",
            message: "the weights diverged (non-finite); scale the features or raise --alpha"
                .to_owned(),
        });
    }
    let p = x.ncols();
    let w = &result.x;
    Ok(FittedLogistic {
        coefficients: Array2::from_shape_fn((objective.weight_rows(), p), |(r, j)| {
            w[r * (p + 1) + j]
        }),
        intercepts: w.chunks(p + 1).map(|row| row[p]).collect(),
        iterations: result.iterations,
        converged: largest <= g_atol,
        largest_gradient: largest / total_weight,
    })
}

/// smartcore's logistic objective over encoded rows, evaluated with matrix-vector products. Weights are
/// laid out as smartcore lays them out: per weight row, `p` coefficients then the intercept.
struct Objective<'a> {
    x: &'a Array2<f64>,
    /// One-hot targets, `n × rows` (binary: one column holding y).
    y: Array2<f64>,
    alpha: f64,
    multiclass: bool,
    /// A weight per row multiplying its loss (class weights), or `None` for 1.
    sample_weights: Option<Vec<f64>>,
    /// The last few points evaluated.
    cache: RefCell<Vec<Evaluated>>,
}

/// A point the optimiser asked about: its margins, and its gradient once asked for.
struct Evaluated {
    w: Vec<f64>,
    margins: Array2<f64>,
    gradient: Option<Vec<f64>>,
}

/// Points whose margins are kept: smartcore's L-BFGS asks for the loss and the gradient at the
/// current point, the previous one and the line-search candidates in turn.
const CACHED_POINTS: usize = 3;

impl<'a> Objective<'a> {
    fn new(x: &'a Array2<f64>, y: &[usize], n_classes: usize, alpha: f64) -> Self {
        let multiclass = n_classes > 2;
        let rows = if multiclass { n_classes } else { 1 };
        let mut targets = Array2::zeros((y.len(), rows));
        for (i, &c) in y.iter().enumerate() {
            let column = if multiclass { c } else { 0 };
            if !multiclass && c == 0 {
                continue;
            }
            targets[[i, column]] = 1.0;
        }
        Objective {
            x,
            y: targets,
            alpha,
            multiclass,
            sample_weights: None,
            cache: RefCell::new(Vec::with_capacity(CACHED_POINTS)),
        }
    }

    fn weight_rows(&self) -> usize {
        self.y.ncols()
    }

    fn n_weights(&self) -> usize {
        self.weight_rows() * (self.x.ncols() + 1)
    }

    /// The cache slot of `w`, evaluating its margins `X·Wᵀ + b` (`n × rows`) when it is new.
    /// Matrix-vector products, one per weight row: a matrix-matrix product would copy (pack)
    /// all of `X` on every call.
    fn evaluated(&self, w: &[f64]) -> std::cell::RefMut<'_, Evaluated> {
        let mut cache = self.cache.borrow_mut();
        let slot = match cache.iter().position(|e| e.w == w) {
            Some(slot) => slot,
            None => {
                let p = self.x.ncols();
                let mut margins = Array2::zeros((self.x.nrows(), self.weight_rows()));
                for (r, weights) in w.chunks(p + 1).enumerate() {
                    let z = self.x.dot(&ArrayView1::from(&weights[..p])) + weights[p];
                    margins.column_mut(r).assign(&z);
                }
                if cache.len() == CACHED_POINTS {
                    cache.remove(0);
                }
                cache.push(Evaluated {
                    w: w.to_vec(),
                    margins,
                    gradient: None,
                });
                cache.len() - 1
            }
        };
        std::cell::RefMut::map(cache, |c| &mut c[slot])
    }

    fn penalty(&self, w: &[f64]) -> f64 {
        if self.alpha <= 0.0 {
            return 0.0;
        }
        let p = self.x.ncols();
        let squares: f64 = w
            .chunks(p + 1)
            .flat_map(|row| &row[..p])
            .map(|v| v * v)
            .sum();
        0.5 * self.alpha * squares
    }

    fn loss(&self, w: &[f64]) -> f64 {
        let evaluated = self.evaluated(w);
        let z = &evaluated.margins;
        let weight = |i: usize| self.sample_weights.as_ref().map_or(1.0, |s| s[i]);
        let data: f64 = if self.multiclass {
            z.outer_iter()
                .zip(self.y.outer_iter())
                .enumerate()
                .map(|(i, (zi, yi))| {
                    let max = zi.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
                    let log_sum = zi.iter().map(|v| (v - max).exp()).sum::<f64>().ln() + max;
                    weight(i) * (log_sum - zi.dot(&yi))
                })
                .sum()
        } else {
            z.column(0)
                .iter()
                .zip(self.y.column(0))
                .enumerate()
                .map(|(i, (&zi, &yi))| weight(i) * (ln_1pe(zi) - yi * zi))
                .sum()
        };
        data + self.penalty(w)
    }

    fn gradient(&self, g: &mut [f64], w: &[f64]) {
        let mut evaluated = self.evaluated(w);
        if let Some(cached) = &evaluated.gradient {
            g.copy_from_slice(cached);
            return;
        }
        let mut residual = evaluated.margins.clone();
        if self.multiclass {
            for mut row in residual.outer_iter_mut() {
                let max = row.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
                row.mapv_inplace(|v| (v - max).exp());
                let total = row.sum();
                row /= total;
            }
        } else {
            residual.mapv_inplace(sigmoid);
        }
        residual -= &self.y;
        if let Some(weights) = &self.sample_weights {
            for (mut row, &w) in residual.outer_iter_mut().zip(weights) {
                row *= w;
            }
        }
        // Xᵀ·residual in one pass over the rows of X (column by column would stride through all
        // of X once per feature).
        let p = self.x.ncols();
        g.fill(0.0);
        for (x_row, residual_row) in self.x.outer_iter().zip(residual.outer_iter()) {
            for (g_row, &ri) in g.chunks_mut(p + 1).zip(residual_row) {
                let g_coefficients = &mut g_row[..p];
                match x_row.as_slice() {
                    Some(x_row) => {
                        for (gj, &xj) in g_coefficients.iter_mut().zip(x_row) {
                            *gj += ri * xj;
                        }
                    }
                    None => {
                        for (gj, &xj) in g_coefficients.iter_mut().zip(x_row.iter()) {
                            *gj += ri * xj;
                        }
                    }
                }
                g_row[p] += ri;
            }
        }
        if self.alpha > 0.0 {
            for (g_row, w_row) in g.chunks_mut(p + 1).zip(w.chunks(p + 1)) {
                for (gj, &wj) in g_row[..p].iter_mut().zip(&w_row[..p]) {
                    *gj += self.alpha * wj;
                }
            }
        }
        evaluated.gradient = Some(g.to_vec());
    }
}

/// `ln(1 + e^z)` as smartcore computes it.
fn ln_1pe(z: f64) -> f64 {
    if z > 15.0 { z } else { z.exp().ln_1p() }
}

/// The logistic function as smartcore computes it (clamped beyond ±40).
fn sigmoid(z: f64) -> f64 {
    if z < -40.0 {
        0.0
    } else if z > 40.0 {
        1.0
    } else {
        1.0 / (1.0 + (-z).exp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> (Array2<f64>, Vec<usize>) {
        let x = ndarray::array![
            [0.0, 1.0],
            [1.0, 0.5],
            [2.0, -1.0],
            [3.0, 0.0],
            [0.5, 2.0],
            [2.5, -0.5]
        ];
        (x, vec![0, 0, 1, 1, 0, 1])
    }

    /// The analytic gradient matches central finite differences of the loss (weighted rows).
    #[test]
    fn gradient_matches_finite_differences() {
        let (x, y) = toy();
        for (labels, k) in [(y.clone(), 2), (vec![0, 1, 2, 2, 0, 1], 3)] {
            let mut objective = Objective::new(&x, &labels, k, 0.7);
            objective.sample_weights = Some(vec![1.0, 2.5, 0.5, 1.0, 3.0, 0.2]);
            let w: Vec<f64> = (0..objective.n_weights())
                .map(|i| 0.3 * i as f64 - 0.4)
                .collect();
            let mut g = vec![0.0; w.len()];
            objective.gradient(&mut g, &w);
            for i in 0..w.len() {
                let (mut up, mut down) = (w.clone(), w.clone());
                up[i] += 1e-6;
                down[i] -= 1e-6;
                let numeric = (objective.loss(&up) - objective.loss(&down)) / 2e-6;
                assert!(
                    (numeric - g[i]).abs() < 1e-5,
                    "k={k} weight {i}: analytic {} numeric {numeric}",
                    g[i]
                );
            }
        }
    }

    #[test]
    fn stops_at_the_tolerance_and_reports_it() {
        let (x, y) = toy();
        let params = LinearParams::default();
        let fitted = FittedLogistic::fit(&x, &y, 2, &params).expect("fits");
        assert!(fitted.converged);
        assert!(fitted.iterations < params.max_iter);
        let limited = LinearParams {
            max_iter: 1,
            tol: 1e-12,
            ..LinearParams::default()
        };
        let fitted = FittedLogistic::fit(&x, &y, 2, &limited).expect("fits");
        assert_eq!(fitted.iterations, 1);
        assert!(!fitted.converged);
    }

    #[test]
    fn inconsistent_labels_are_errors_not_panics() {
        let (x, _) = toy();
        let p = LinearParams::default();
        let err = |y: &[usize], k| FittedLogistic::fit(&x, y, k, &p).expect_err("refused");
        assert!(err(&[0; 6], 2).to_string().contains("saw 1 of 2 classes"));
        assert!(
            err(&[0, 1, 2, 0, 1, 3], 3)
                .to_string()
                .contains("class index 3")
        );
        assert!(err(&[0, 1], 2).to_string().contains("2 labels for 6 rows"));
    }
}
