//! The seeded paired bootstrap: the same resampled rows score both models, so the interval of
//! the metric difference accounts for their correlation. Resamples are drawn by ChaCha8 seeded
//! from a `u64` and row indices as `u64` ranges, so a seed gives the same interval on every
//! platform; the interval is the percentile interval (numpy's linear interpolation between order
//! statistics, as `scipy.stats.bootstrap(method="percentile")`).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::metric::{Metric, Outcomes, Weighted};
use crate::{Error, Result};

/// How many resamples, at what confidence, from which seed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapOptions {
    /// Number of resamples (default 2000; 100 to 1,000,000).
    pub resamples: u32,
    /// Two-sided confidence of the interval, in (0, 1) (default 0.95).
    pub confidence: f64,
    /// The random seed (default 0).
    pub seed: u64,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        BootstrapOptions {
            resamples: 2000,
            confidence: 0.95,
            seed: 0,
        }
    }
}

impl BootstrapOptions {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<()> {
        if !(100..=1_000_000).contains(&self.resamples) {
            return Err(Error::InvalidOption {
                option: "resamples",
                reason: format!("expected 100 to 1000000, got `{}`", self.resamples),
            });
        }
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(Error::InvalidOption {
                option: "confidence",
                reason: format!("expected a number in (0, 1), got `{}`", self.confidence),
            });
        }
        Ok(())
    }
}

/// A bootstrap interval of `metric(second) − metric(first)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapInterval {
    /// The metric.
    pub metric: Metric,
    /// The metric of the first model on the rows as given.
    pub first: f64,
    /// The metric of the second model on the rows as given.
    pub second: f64,
    /// `second − first` on the rows as given.
    pub difference: f64,
    /// Lower end of the percentile interval of the difference.
    pub low: f64,
    /// Upper end of the percentile interval of the difference.
    pub high: f64,
    /// The interval's two-sided confidence.
    pub confidence: f64,
    /// Resamples drawn.
    pub resamples: u32,
    /// Resamples where the metric was undefined (ROC AUC of a resample holding one class),
    /// left out of the interval.
    pub undefined: u32,
}

/// The paired bootstrap interval of `metric(second) − metric(first)` on the same rows.
///
/// Both outcome sets must have the same number of rows (the same labelled rows, scored by each
/// model). Errors when the metric does not apply, on length mismatches, when the metric is
/// undefined on the rows as given, or when it is undefined in more than half the resamples.
pub fn paired_bootstrap(
    metric: Metric,
    first: Outcomes<'_>,
    second: Outcomes<'_>,
    options: &BootstrapOptions,
) -> Result<BootstrapInterval> {
    options.validate()?;
    if first.len() != second.len() {
        return Err(Error::mismatch(
            "rows scored by the second model",
            format!("{} (as many as the first)", first.len()),
            second.len().to_string(),
        ));
    }
    let a = Weighted::new(metric, first)?;
    let b = Weighted::new(metric, second)?;
    let undefined_on_rows = || Error::InvalidOption {
        option: "metric",
        reason: format!(
            "`{}` is undefined on these {} rows (no row, or a single class)",
            metric.name(),
            first.len()
        ),
    };
    let first_value = a.value().ok_or_else(undefined_on_rows)?;
    let second_value = b.value().ok_or_else(undefined_on_rows)?;

    let rows = first.len();
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut weights = vec![0u32; rows];
    let mut differences = Vec::with_capacity(options.resamples as usize);
    let mut undefined = 0u32;
    for _ in 0..options.resamples {
        weights.fill(0);
        for _ in 0..rows {
            // u64 ranges: the same draws on 32- and 64-bit platforms.
            let row = rng.random_range(0..rows as u64) as usize;
            weights[row] += 1;
        }
        match (
            a.value_weighted(Some(&weights)),
            b.value_weighted(Some(&weights)),
        ) {
            (Some(x), Some(y)) => differences.push(y - x),
            _ => undefined += 1,
        }
    }
    if differences.len() * 2 < options.resamples as usize {
        return Err(Error::InvalidOption {
            option: "metric",
            reason: format!(
                "`{}` is undefined in {undefined} of {} resamples: too few rows of a class",
                metric.name(),
                options.resamples
            ),
        });
    }
    differences.sort_by(f64::total_cmp);
    let tail = (1.0 - options.confidence) / 2.0;
    Ok(BootstrapInterval {
        metric,
        first: first_value,
        second: second_value,
        difference: second_value - first_value,
        low: percentile(&differences, tail),
        high: percentile(&differences, 1.0 - tail),
        confidence: options.confidence,
        resamples: options.resamples,
        undefined,
    })
}

/// The `q` quantile of sorted values by numpy's default (linear) rule: position `(m − 1) q`,
/// interpolated between its neighbours.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return f64::NAN;
    };
    let h = last as f64 * q.clamp(0.0, 1.0);
    let below = h.floor() as usize;
    let above = (below + 1).min(last);
    sorted[below] + (h - below as f64) * (sorted[above] - sorted[below])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::RegressorOutcomes;

    #[test]
    fn percentile_is_numpys_linear_rule() {
        let v = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(percentile(&v, 0.0), 1.0);
        assert_eq!(percentile(&v, 1.0), 8.0);
        // h = 3 × 0.5 = 1.5 → 2 + 0.5 × (4 − 2).
        assert_eq!(percentile(&v, 0.5), 3.0);
        assert!((percentile(&v, 0.025) - 1.075).abs() < 1e-15);
        assert!(percentile(&[], 0.5).is_nan());
    }

    #[test]
    fn same_seed_same_interval_and_options_are_checked() {
        let truth: Vec<f64> = (0..200).map(|i| f64::from(i % 17)).collect();
        let p1: Vec<f64> = truth.iter().map(|t| t + 1.0).collect();
        let p2: Vec<f64> = truth
            .iter()
            .enumerate()
            .map(|(i, t)| t + (i % 3) as f64)
            .collect();
        let first = Outcomes::Regressor(RegressorOutcomes {
            truth: &truth,
            predicted: &p1,
        });
        let second = Outcomes::Regressor(RegressorOutcomes {
            truth: &truth,
            predicted: &p2,
        });
        let options = BootstrapOptions {
            seed: 7,
            ..BootstrapOptions::default()
        };
        let one = paired_bootstrap(Metric::Mae, first, second, &options).ok();
        let two = paired_bootstrap(Metric::Mae, first, second, &options).ok();
        assert!(one.is_some());
        assert_eq!(one, two);
        let other = BootstrapOptions { seed: 8, ..options };
        let three = paired_bootstrap(Metric::Mae, first, second, &other).ok();
        assert_ne!(one.map(|i| i.low), three.map(|i| i.low));
        let bad = BootstrapOptions {
            resamples: 10,
            ..options
        };
        let err = paired_bootstrap(Metric::Mae, first, second, &bad)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("invalid option `resamples`: expected 100 to 1000000, got `10`")
        );
    }
}
