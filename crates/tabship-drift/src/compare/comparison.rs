//! Two models' outcomes on the same labelled rows, compared: every applicable metric of each,
//! the paired test of the chosen metric, its bootstrap interval and the verdict.

use serde::{Deserialize, Serialize};

use super::bootstrap::{BootstrapInterval, BootstrapOptions, paired_bootstrap};
use super::mcnemar::{McNemar, discordant, mcnemar_exact};
use super::metric::{Metric, Outcomes, Weighted};
use super::paired::{PairedT, Wilcoxon, paired_t, wilcoxon};
use super::verdict::{Verdict, decide, improvement};
use crate::{Error, Result};

/// How to compare.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CompareOptions {
    /// The metric the verdict is on (default: accuracy for classifiers, MAE for regressors).
    pub metric: Option<Metric>,
    /// Minimum improvement of the metric, in its units (default 0).
    pub margin: f64,
    /// Level of the test; the interval's confidence is `1 − alpha` (default 0.05).
    pub alpha: f64,
    /// Bootstrap resamples (default 2000).
    pub resamples: u32,
    /// Bootstrap seed (default 0).
    pub seed: u64,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            metric: None,
            margin: 0.0,
            alpha: 0.05,
            resamples: 2000,
            seed: 0,
        }
    }
}

/// One metric of both models on the rows as given.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetricPair {
    /// The metric.
    pub metric: Metric,
    /// The first model's value.
    pub first: f64,
    /// The second model's value.
    pub second: f64,
    /// `second − first`.
    pub difference: f64,
}

/// The paired test the verdict reads.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "test", rename_all = "kebab-case")]
pub enum PairedTest {
    /// The exact McNemar test (accuracy).
    #[serde(rename = "mcnemar")]
    McNemar(McNemar),
    /// Student's paired t-test on per-row losses (log loss, MAE, RMSE through squared errors).
    PairedT(PairedT),
}

impl PairedTest {
    /// The two-sided p-value of "no difference".
    pub fn p_value(&self) -> f64 {
        match self {
            PairedTest::McNemar(t) => t.p_value,
            PairedTest::PairedT(t) => t.p_value,
        }
    }
}

/// A comparison of a first (champion) and a second (challenger) model on the same rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Labelled rows compared.
    pub rows: u64,
    /// Every metric that applies, for both models.
    pub metrics: Vec<MetricPair>,
    /// The metric of the verdict.
    pub metric: Metric,
    /// The paired test of that metric (none for F1 and ROC AUC, which are not means of per-row
    /// losses: their interval alone decides).
    pub test: Option<PairedTest>,
    /// The Wilcoxon signed-rank test on the same per-row losses (regression), as a check.
    pub wilcoxon: Option<Wilcoxon>,
    /// The bootstrap interval of `metric(second) − metric(first)`.
    pub interval: BootstrapInterval,
    /// The improvement interval (positive: the second model is better).
    pub improvement_low: f64,
    /// Its upper end.
    pub improvement_high: f64,
    /// The minimum improvement.
    pub margin: f64,
    /// The level.
    pub alpha: f64,
    /// What to do.
    pub verdict: Verdict,
}

/// Compares two models' outcomes on the same labelled rows (see [`decide`] for the rule).
pub fn compare(
    first: Outcomes<'_>,
    second: Outcomes<'_>,
    options: &CompareOptions,
) -> Result<Comparison> {
    if !(options.alpha > 0.0 && options.alpha < 1.0) {
        return Err(Error::InvalidOption {
            option: "alpha",
            reason: format!("expected a number in (0, 1), got `{}`", options.alpha),
        });
    }
    if !(options.margin >= 0.0 && options.margin.is_finite()) {
        return Err(Error::InvalidOption {
            option: "margin",
            reason: format!("expected a finite number ≥ 0, got `{}`", options.margin),
        });
    }
    let classifier = matches!(first, Outcomes::Classifier(_));
    if classifier != matches!(second, Outcomes::Classifier(_)) {
        return Err(Error::mismatch(
            "the second model's task",
            "the first model's",
            "another task",
        ));
    }
    if first.is_empty() {
        return Err(Error::mismatch("labelled rows", "at least one", "0"));
    }
    let metric = options.metric.unwrap_or(if classifier {
        Metric::Accuracy
    } else {
        Metric::Mae
    });
    let bootstrap = BootstrapOptions {
        resamples: options.resamples,
        confidence: 1.0 - options.alpha,
        seed: options.seed,
    };
    let interval = paired_bootstrap(metric, first, second, &bootstrap)?;

    let mut metrics = Vec::new();
    for m in Metric::ALL {
        let (Ok(a), Ok(b)) = (Weighted::new(m, first), Weighted::new(m, second)) else {
            continue;
        };
        if let (Some(x), Some(y)) = (a.value(), b.value()) {
            metrics.push(MetricPair {
                metric: m,
                first: x,
                second: y,
                difference: y - x,
            });
        }
    }

    let differences = match (first.row_losses(metric), second.row_losses(metric)) {
        (Some(a), Some(b)) => Some(a.iter().zip(&b).map(|(x, y)| x - y).collect::<Vec<f64>>()),
        _ => None,
    };
    let test = match (metric, &differences) {
        (Metric::Accuracy, _) => {
            let (Some(a), Some(b)) = (first.correct(), second.correct()) else {
                return Err(Error::mismatch(
                    "outcomes",
                    "a classifier's",
                    "a regressor's",
                ));
            };
            let (only_first, only_second) = discordant(&a, &b);
            Some(PairedTest::McNemar(mcnemar_exact(only_first, only_second)))
        }
        (_, Some(d)) => Some(PairedTest::PairedT(paired_t(d))),
        _ => None,
    };
    let wilcoxon = differences.as_deref().filter(|_| !classifier).map(wilcoxon);

    let (low, high) = improvement(interval.low, interval.high, metric.higher_is_better());
    let verdict = decide(
        low,
        high,
        test.map(|t| t.p_value()),
        options.alpha,
        options.margin,
    );
    Ok(Comparison {
        rows: first.len() as u64,
        metrics,
        metric,
        test,
        wilcoxon,
        interval,
        improvement_low: low,
        improvement_high: high,
        margin: options.margin,
        alpha: options.alpha,
        verdict,
    })
}
