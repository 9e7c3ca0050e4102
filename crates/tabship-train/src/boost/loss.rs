//! The objectives gradient boosting minimises: their base scores, gradients and hessians per row,
//! and the loss that early stopping watches.
//!
//! Three objectives exist, one per kind of target: logistic loss (two classes), softmax
//! cross-entropy (three classes or more) and squared error (regression). Others (absolute error,
//! Huber, Poisson, ...) are not offered. Margins are laid out as the core sums them: one per row,
//! or `k` consecutive ones per row under softmax (`margins[row * k + class]`).

/// Probabilities are clipped to `[EPS, 1 − EPS]` in the reported log loss, as scikit-learn's
/// `log_loss` clips them, so a confident wrong row costs a finite amount.
const EPS: f64 = 1e-15;

/// The smallest hessian a row contributes: a row the model is sure of (p = 0 or 1 in `f64`)
/// keeps a positive curvature, so a leaf of only such rows still has a finite Newton step.
const MIN_HESSIAN: f64 = 1e-16;

/// What is minimised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Objective {
    /// Two classes, labels 0/1: log loss of `sigmoid(margin)`.
    Logistic,
    /// `classes ≥ 3` classes: cross-entropy of `softmax(margins)`; one tree per class and round.
    Softmax {
        /// The number of classes.
        classes: usize,
    },
    /// Regression: half the squared error of the margin.
    SquaredError,
}

/// The targets of the rows, as the objective reads them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Labels<'a> {
    /// Class indices.
    Classes(&'a [usize]),
    /// Values.
    Values(&'a [f64]),
}

/// The labels of some rows, owned ([`Labels::take`]).
#[derive(Debug, Clone)]
pub(crate) enum OwnedLabels {
    /// Class indices.
    Classes(Vec<usize>),
    /// Values.
    Values(Vec<f64>),
}

impl OwnedLabels {
    /// Borrowed.
    pub(crate) fn view(&self) -> Labels<'_> {
        match self {
            OwnedLabels::Classes(y) => Labels::Classes(y),
            OwnedLabels::Values(y) => Labels::Values(y),
        }
    }
}

impl Labels<'_> {
    /// The labels of `rows`, in their order.
    pub(crate) fn take(&self, rows: &[usize]) -> OwnedLabels {
        match self {
            Labels::Classes(y) => OwnedLabels::Classes(rows.iter().map(|&r| y[r]).collect()),
            Labels::Values(y) => OwnedLabels::Values(rows.iter().map(|&r| y[r]).collect()),
        }
    }

    /// Rows labelled.
    pub(crate) fn len(&self) -> usize {
        match self {
            Labels::Classes(y) => y.len(),
            Labels::Values(y) => y.len(),
        }
    }

    fn class(&self, row: usize) -> usize {
        match self {
            Labels::Classes(y) => y[row],
            Labels::Values(y) => y[row] as usize,
        }
    }

    fn value(&self, row: usize) -> f64 {
        match self {
            Labels::Classes(y) => y[row] as f64,
            Labels::Values(y) => y[row],
        }
    }
}

/// `1 / (1 + exp(−m))`, the core's logistic link to the bit.
pub(crate) fn sigmoid(m: f64) -> f64 {
    1.0 / (1.0 + (-m).exp())
}

/// `softmax(margins)` into `out`, computed as the core computes it (shifted by the largest
/// margin, normalised by the sum of the exponentials in class order).
pub(crate) fn softmax(margins: &[f64], out: &mut [f64]) {
    let max = margins.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut total = 0.0;
    for (o, &m) in out.iter_mut().zip(margins) {
        *o = (m - max).exp();
        total += *o;
    }
    for o in out.iter_mut() {
        *o /= total;
    }
}

impl Objective {
    /// Trees per round (margins per row): the classes under softmax, else one.
    pub(crate) fn groups(self) -> usize {
        match self {
            Objective::Softmax { classes } => classes,
            _ => 1,
        }
    }

    /// The margin every row starts from, on the (weighted) rows: the log-odds of the positive
    /// rate (LightGBM's `boost_from_average` for binary), the mean (regression), and 0 under
    /// softmax (the core's sum has one base score for all classes; the first round's trees
    /// start from equal class margins instead of the class priors).
    pub(crate) fn base_score(self, labels: Labels<'_>, weights: Option<&[f64]>) -> f64 {
        let weight = |r: usize| weights.map_or(1.0, |w| w[r]);
        let total: f64 = (0..labels.len()).map(weight).sum();
        if total <= 0.0 {
            return 0.0;
        }
        let mean = (0..labels.len())
            .map(|r| weight(r) * labels.value(r))
            .sum::<f64>()
            / total;
        match self {
            Objective::Logistic => {
                let p = mean.clamp(EPS, 1.0 - EPS);
                (p / (1.0 - p)).ln()
            }
            Objective::Softmax { .. } => 0.0,
            Objective::SquaredError => mean,
        }
    }

    /// Every row's gradient and hessian of the loss at `margins`, times the row's weight, into
    /// `grad` and `hess` laid out by group (`grad[group * rows + row]`) as the trees take them.
    pub(crate) fn gradients(
        self,
        margins: &[f64],
        labels: Labels<'_>,
        weights: Option<&[f64]>,
        grad: &mut [f32],
        hess: &mut [f32],
    ) {
        let n = labels.len();
        let weight = |r: usize| weights.map_or(1.0, |w| w[r]);
        match self {
            Objective::Logistic => {
                for r in 0..n {
                    let p = sigmoid(margins[r]);
                    let w = weight(r);
                    grad[r] = (w * (p - labels.value(r))) as f32;
                    hess[r] = (w * (p * (1.0 - p)).max(MIN_HESSIAN)) as f32;
                }
            }
            Objective::SquaredError => {
                for r in 0..n {
                    let w = weight(r);
                    grad[r] = (w * (margins[r] - labels.value(r))) as f32;
                    hess[r] = w as f32;
                }
            }
            Objective::Softmax { classes: k } => {
                let mut p = vec![0.0; k];
                for r in 0..n {
                    softmax(&margins[r * k..(r + 1) * k], &mut p);
                    let (w, y) = (weight(r), labels.class(r));
                    for (c, &pc) in p.iter().enumerate() {
                        let target = if c == y { 1.0 } else { 0.0 };
                        grad[c * n + r] = (w * (pc - target)) as f32;
                        // The diagonal of the Hessian: each class's tree is a Newton step on
                        // its own margin with the others held.
                        hess[c * n + r] = (w * (pc * (1.0 - pc)).max(MIN_HESSIAN)) as f32;
                    }
                }
            }
        }
    }

    /// The (weighted) mean loss at `margins`: log loss, multiclass log loss, or the mean squared
    /// error (regression). Lower is better.
    pub(crate) fn loss(self, margins: &[f64], labels: Labels<'_>, weights: Option<&[f64]>) -> f64 {
        let n = labels.len();
        let weight = |r: usize| weights.map_or(1.0, |w| w[r]);
        let mut total = 0.0;
        let mut weights_sum = 0.0;
        let mut p = vec![0.0; self.groups()];
        for r in 0..n {
            let w = weight(r);
            let row_loss = match self {
                Objective::Logistic => {
                    let p1 = sigmoid(margins[r]).clamp(EPS, 1.0 - EPS);
                    if labels.class(r) == 1 {
                        -p1.ln()
                    } else {
                        -(1.0 - p1).ln()
                    }
                }
                Objective::Softmax { classes: k } => {
                    softmax(&margins[r * k..(r + 1) * k], &mut p);
                    -p[labels.class(r)].clamp(EPS, 1.0 - EPS).ln()
                }
                Objective::SquaredError => (margins[r] - labels.value(r)).powi(2),
            };
            total += w * row_loss;
            weights_sum += w;
        }
        if weights_sum > 0.0 {
            total / weights_sum
        } else {
            0.0
        }
    }

    /// The loss's name, for reports.
    pub(crate) fn loss_name(self) -> &'static str {
        match self {
            Objective::Logistic => "log loss",
            Objective::Softmax { .. } => "multiclass log loss",
            Objective::SquaredError => "mean squared error",
        }
    }
}
