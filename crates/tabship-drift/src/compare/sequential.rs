//! An always-valid sequential test of the difference of two arms' mean losses: the mixture
//! sequential probability ratio test (mSPRT) with a normal mixture, as Johari, Koomen, Pekelis and
//! Walsh, "Peeking at A/B Tests: Why it matters, and what to do about it" (KDD 2017) and "Always
//! Valid Inference" (Operations Research, 2022), which Optimizely's Stats Engine implements.
//!
//! Two measures ([`Measure`]): the **error rate** of classifiers (0/1 loss) and the **mean
//! loss** of any non-negative per-label loss (the absolute error of regressors: the MAE). With
//! `θ = mean(first) − mean(second)` (positive: the second model loses less), its estimate `θ̂`
//! from the labels so far and its plug-in variance `V`, the mixture likelihood ratio against
//! `θ = θ₀` under a `N(θ₀, τ²)` mixture is
//!
//! ```text
//! Λ(θ₀) = √(V / (V + τ²)) · exp(τ² (θ̂ − θ₀)² / (2 V (V + τ²)))
//! ```
//!
//! The always-valid p-value is the running minimum of `min(1, 1/Λ(0))`, and the confidence
//! sequence the running intersection of `{θ₀ : Λ(θ₀) < 1/α}`, an interval of half-width
//! `√(2 V (V + τ²)/τ² · ln(√((V + τ²)/V) / α))` around `θ̂`. Both may be read after every label:
//! stopping at the first time `p < α` errs with probability at most `α` (up to the plug-in
//! variance, which the simulation in `docs/compare.md` measures).
//!
//! - **Error rate**: `V = p₁(1 − p₁)/n₁ + p₂(1 − p₂)/n₂` with the rates smoothed as
//!   `(errors + 1) / (labels + 2)`, so a rate of 0 or 1 after a few labels does not make `V`
//!   zero; `τ` is in error-rate points.
//! - **Mean loss**: per arm the count, sum and sum of squares of the losses;
//!   `V = s₁²/n₁ + s₂²/n₂` with the (biased, plug-in) variances `sᵢ² = Σx²/nᵢ − x̄ᵢ²`, each
//!   floored at `(scale/10)²` — a spread under a tenth of the mean loss is not believed, so a few
//!   equal losses (all exact, or all at one value) cannot make `V` zero. Losses have units, so
//!   `τ` is relative: the mixture's standard deviation is `τ · scale`, where `scale` is the
//!   pooled mean loss of both arms so far (a plug-in like `V`; a scale frozen at the start,
//!   after a few dozen labels, can be off by orders of magnitude and leave the test powerless).
//!   The test starts once the pooled mean loss is positive.
//!
//! Nothing is computed until each arm has [`SequentialOptions::min_labels`] labels.

use serde::{Deserialize, Serialize};

use super::verdict::{Verdict, decide};
use crate::{Error, Result};

/// The test's level and mixture.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SequentialOptions {
    /// The level `α` of the confidence sequence, in (0, 1) (default 0.05).
    pub alpha: f64,
    /// The mixture's standard deviation `τ`, in (0, 1] (default 0.05): on the error-rate
    /// difference, differences of a few points, which is what separates retrained models; on a
    /// mean loss, relative to the pooled mean loss at the start (5% of the MAE).
    pub tau: f64,
    /// Labels each arm needs before the test starts (default 30).
    pub min_labels: u64,
}

impl Default for SequentialOptions {
    fn default() -> Self {
        SequentialOptions {
            alpha: 0.05,
            tau: 0.05,
            min_labels: 30,
        }
    }
}

impl SequentialOptions {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<()> {
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(Error::InvalidOption {
                option: "alpha",
                reason: format!("expected a number in (0, 1), got `{}`", self.alpha),
            });
        }
        if !(self.tau > 0.0 && self.tau <= 1.0) {
            return Err(Error::InvalidOption {
                option: "tau",
                reason: format!("expected a number in (0, 1], got `{}`", self.tau),
            });
        }
        Ok(())
    }
}

/// What the test compares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Measure {
    /// Error rates (0/1 loss, classifiers): [`Sequential::observe`].
    #[default]
    ErrorRate,
    /// Mean non-negative losses (absolute errors of regressors: the MAE):
    /// [`Sequential::observe_loss`].
    MeanLoss,
}

/// Labels, errors and losses of one arm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ArmCounts {
    /// Labelled predictions.
    pub labels: u64,
    /// Wrong ones among them (error rate).
    pub errors: u64,
    /// Sum of the losses (mean loss; 0 for the error rate).
    #[serde(default)]
    pub sum: f64,
    /// Sum of the squared losses (mean loss; 0 for the error rate).
    #[serde(default)]
    pub sum_squares: f64,
}

impl ArmCounts {
    /// The error rate (0 without labels).
    pub fn error_rate(&self) -> f64 {
        if self.labels == 0 {
            0.0
        } else {
            self.errors as f64 / self.labels as f64
        }
    }

    /// The mean loss (0 without labels).
    pub fn mean_loss(&self) -> f64 {
        if self.labels == 0 {
            0.0
        } else {
            self.sum / self.labels as f64
        }
    }

    /// The plug-in variance of the mean loss, its spread floored at `floor²`.
    fn loss_variance(&self, floor: f64) -> f64 {
        let n = self.labels as f64;
        let mean = self.sum / n;
        let spread = (self.sum_squares / n - mean * mean).max(floor * floor);
        spread / n
    }

    fn smoothed_variance(&self) -> f64 {
        let p = (self.errors as f64 + 1.0) / (self.labels as f64 + 2.0);
        p * (1.0 - p) / self.labels as f64
    }
}

/// Which model a label belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Arm {
    /// The first model (the champion).
    First,
    /// The second model (the challenger).
    Second,
}

/// The mSPRT's state: counts per arm, the running p-value and the running interval. Plain data:
/// save it with serde and resume (a decoded state is checked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Sequential {
    /// The saved format: 1 (error rates only, before the mean loss), 2 (with `measure` and the
    /// arms' sums). A state without it is format 1.
    #[serde(default = "format_one")]
    format: u32,
    options: SequentialOptions,
    #[serde(default)]
    measure: Measure,
    first: ArmCounts,
    second: ArmCounts,
    p_value: f64,
    low: f64,
    high: f64,
}

validated_serde!(Sequential);

/// The format [`Sequential`] is saved in.
const FORMAT: u32 = 2;

fn format_one() -> u32 {
    1
}

/// Where a sequential test stands.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SequentialStatus {
    /// The first arm's counts.
    pub first: ArmCounts,
    /// The second arm's counts.
    pub second: ArmCounts,
    /// What is compared.
    pub measure: Measure,
    /// `mean(first) − mean(second)` of the loss: the second model's accuracy gain (error
    /// rate) or MAE reduction (mean loss).
    pub difference: f64,
    /// The always-valid p-value of "no difference".
    pub p_value: f64,
    /// Lower end of the confidence sequence of the difference.
    pub low: f64,
    /// Upper end of the confidence sequence of the difference.
    pub high: f64,
    /// The level `α`.
    pub alpha: f64,
    /// Whether each arm has `min_labels` labels (before, the p-value is 1 and the interval
    /// `[−1, 1]` for rates, unbounded — `±f64::MAX` — for losses).
    pub started: bool,
}

impl SequentialStatus {
    /// The verdict of [`decide`](super::decide) on the confidence sequence and the always-valid
    /// p-value, with the minimum gain `margin`: `inconclusive` until the test has started.
    pub fn verdict(&self, margin: f64) -> Verdict {
        if self.started {
            decide(self.low, self.high, Some(self.p_value), self.alpha, margin)
        } else {
            Verdict::Inconclusive
        }
    }
}

impl Sequential {
    /// A test of error rates with no label yet.
    pub fn new(options: SequentialOptions) -> Result<Self> {
        Sequential::with_measure(options, Measure::ErrorRate)
    }

    /// A test of `measure` with no label yet.
    pub fn with_measure(options: SequentialOptions, measure: Measure) -> Result<Self> {
        options.validate()?;
        let bound = bound(measure);
        Ok(Sequential {
            format: FORMAT,
            options,
            measure,
            first: ArmCounts::default(),
            second: ArmCounts::default(),
            p_value: 1.0,
            low: -bound,
            high: bound,
        })
    }

    fn validate(&self) -> Result<()> {
        if !(1..=FORMAT).contains(&self.format) {
            return Err(Error::state(
                "sequential.format",
                format!("expected 1 to {FORMAT}, got `{}`", self.format),
            ));
        }
        if self.format == 1 && self.measure != Measure::ErrorRate {
            return Err(Error::state(
                "sequential.measure",
                "expected `error-rate` in format 1 (mean losses came with format 2)",
            ));
        }
        self.options
            .validate()
            .map_err(|e| Error::state("sequential.options", e.to_string()))?;
        for (name, arm) in [("first", self.first), ("second", self.second)] {
            let sums_ok = arm.sum.is_finite()
                && arm.sum_squares.is_finite()
                && arm.sum >= 0.0
                && arm.sum_squares >= 0.0;
            if !sums_ok || (self.measure == Measure::ErrorRate && arm.sum + arm.sum_squares != 0.0)
            {
                return Err(Error::state(
                    format!("sequential.{name}.sum"),
                    format!(
                        "expected finite sums ≥ 0 (0 for error rates), got `{}` and `{}`",
                        arm.sum, arm.sum_squares
                    ),
                ));
            }
            if arm.errors > arm.labels {
                return Err(Error::state(
                    format!("sequential.{name}.errors"),
                    format!(
                        "expected at most `{}` (the labels), got `{}`",
                        arm.labels, arm.errors
                    ),
                ));
            }
        }
        if !(0.0..=1.0).contains(&self.p_value) {
            return Err(Error::state(
                "sequential.p_value",
                format!("expected [0, 1], got `{}`", self.p_value),
            ));
        }
        let bound = bound(self.measure);
        if !(-bound <= self.low && self.low <= self.high && self.high <= bound) {
            return Err(Error::state(
                "sequential.low",
                format!(
                    "expected −{bound} ≤ low ≤ high ≤ {bound}, got `{}` and `{}`",
                    self.low, self.high
                ),
            ));
        }
        Ok(())
    }

    /// The options.
    pub fn options(&self) -> &SequentialOptions {
        &self.options
    }

    /// What the test compares.
    pub fn measure(&self) -> Measure {
        self.measure
    }

    fn arm(&mut self, arm: Arm) -> &mut ArmCounts {
        match arm {
            Arm::First => &mut self.first,
            Arm::Second => &mut self.second,
        }
    }

    /// Adds one labelled prediction of `arm`, wrong or right, and updates the p-value and the
    /// interval. On a mean-loss test, a loss of 1 or 0.
    pub fn observe(&mut self, arm: Arm, error: bool) {
        if self.measure == Measure::MeanLoss {
            self.observe_loss(arm, f64::from(u8::from(error)));
            return;
        }
        let counts = self.arm(arm);
        counts.labels += 1;
        counts.errors += u64::from(error);
        self.update();
    }

    /// Adds one labelled prediction of `arm` with its `loss` (an absolute error: finite, ≥ 0;
    /// anything else is ignored) and updates. On an error-rate test, a positive loss is an
    /// error.
    pub fn observe_loss(&mut self, arm: Arm, loss: f64) {
        if !(loss.is_finite() && loss >= 0.0) {
            return;
        }
        if self.measure == Measure::ErrorRate {
            self.observe(arm, loss > 0.0);
            return;
        }
        let counts = self.arm(arm);
        counts.labels += 1;
        counts.sum += loss;
        counts.sum_squares += loss * loss;
        self.update();
    }

    /// Adds many labelled predictions of `arm` at once (counts from another replica or a
    /// batch), then updates once: valid, as the p-value is read only at the new counts.
    /// On a mean-loss test, use [`Sequential::observe_sums`] (this adds nothing there).
    pub fn observe_counts(&mut self, arm: Arm, labels: u64, errors: u64) {
        if self.measure == Measure::MeanLoss {
            return;
        }
        let counts = self.arm(arm);
        counts.labels += labels;
        counts.errors += errors.min(labels);
        self.update();
    }

    /// Adds many labelled predictions of `arm` on a mean-loss test at once: their count, sum of
    /// losses and sum of squared losses (ignored unless finite and ≥ 0), then updates once.
    pub fn observe_sums(&mut self, arm: Arm, labels: u64, sum: f64, sum_squares: f64) {
        let valid = sum.is_finite() && sum_squares.is_finite() && sum >= 0.0 && sum_squares >= 0.0;
        if self.measure != Measure::MeanLoss || !valid {
            return;
        }
        let counts = self.arm(arm);
        counts.labels += labels;
        counts.sum += sum;
        counts.sum_squares += sum_squares;
        self.update();
    }

    fn started(&self) -> bool {
        let min = self.options.min_labels.max(1);
        let enough = self.first.labels >= min && self.second.labels >= min;
        enough && (self.measure == Measure::ErrorRate || self.scale() > 0.0)
    }

    /// The pooled mean loss of both arms (the mean loss's mixture scale; see the module docs).
    fn scale(&self) -> f64 {
        let labels = self.first.labels + self.second.labels;
        if labels == 0 {
            0.0
        } else {
            (self.first.sum + self.second.sum) / labels as f64
        }
    }

    fn difference(&self) -> f64 {
        match self.measure {
            Measure::ErrorRate => self.first.error_rate() - self.second.error_rate(),
            Measure::MeanLoss => self.first.mean_loss() - self.second.mean_loss(),
        }
    }

    fn update(&mut self) {
        if !self.started() {
            return;
        }
        let (v, tau) = match self.measure {
            Measure::ErrorRate => (
                self.first.smoothed_variance() + self.second.smoothed_variance(),
                self.options.tau,
            ),
            Measure::MeanLoss => {
                let scale = self.scale();
                let floor = scale / 10.0;
                (
                    self.first.loss_variance(floor) + self.second.loss_variance(floor),
                    self.options.tau * scale,
                )
            }
        };
        let bound = bound(self.measure);
        let tau2 = tau * tau;
        let theta = self.difference();
        // ln Λ(0); the p-value is 1/Λ, in logs so a huge Λ stays finite.
        let ln_lambda = 0.5 * (v / (v + tau2)).ln() + tau2 * theta * theta / (2.0 * v * (v + tau2));
        let p = (-ln_lambda).exp().min(1.0);
        if p.is_finite() {
            self.p_value = self.p_value.min(p);
        }
        let half = (2.0 * v * (v + tau2) / tau2
            * (0.5 * ((v + tau2) / v).ln() - self.options.alpha.ln()))
        .sqrt();
        if half.is_finite() {
            self.low = self.low.max(theta - half).min(bound);
            self.high = self.high.min(theta + half).max(-bound);
            // Disjoint running bounds (possible only by chance under drift of the rates):
            // keep a point at the current estimate rather than an empty interval.
            if self.low > self.high {
                self.low = theta;
                self.high = theta;
            }
        }
    }

    /// Where the test stands.
    pub fn status(&self) -> SequentialStatus {
        SequentialStatus {
            measure: self.measure,
            first: self.first,
            second: self.second,
            difference: self.difference(),
            p_value: self.p_value,
            low: self.low,
            high: self.high,
            alpha: self.options.alpha,
            started: self.started(),
        }
    }
}

/// The bound of the difference: 1 for rates, none (`f64::MAX`, finite so it saves) for losses.
fn bound(measure: Measure) -> f64 {
    match measure {
        Measure::ErrorRate => 1.0,
        Measure::MeanLoss => f64::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_before_min_labels_then_a_clear_difference_is_found() {
        let Ok(mut test) = Sequential::new(SequentialOptions::default()) else {
            panic!("default options are valid");
        };
        for i in 0..29 {
            test.observe(Arm::First, i % 2 == 0);
            test.observe(Arm::Second, false);
        }
        let s = test.status();
        assert!(!s.started);
        assert_eq!((s.p_value, s.low, s.high), (1.0, -1.0, 1.0));
        // 50% against 10% errors.
        for i in 0..2000 {
            test.observe(Arm::First, i % 2 == 0);
            test.observe(Arm::Second, i % 10 == 0);
        }
        let s = test.status();
        assert!(s.started);
        assert!(s.p_value < 1e-6, "{s:?}");
        assert!(s.low > 0.3 && s.high < 0.5, "{s:?}");
    }

    #[test]
    fn p_value_never_rises_and_state_round_trips() {
        let Ok(mut test) = Sequential::new(SequentialOptions {
            min_labels: 1,
            ..Default::default()
        }) else {
            panic!("valid options");
        };
        let mut last = 1.0;
        for i in 0..500 {
            test.observe(Arm::First, i % 3 == 0);
            test.observe(Arm::Second, i % 4 == 0);
            let p = test.status().p_value;
            assert!(p <= last);
            last = p;
        }
        let json = serde_json::to_string(&test).unwrap_or_default();
        let back: Option<Sequential> = serde_json::from_str(&json).ok();
        assert_eq!(back.as_ref(), Some(&test));
        let bad = json.replace("\"p_value\":", "\"p_value\":7.0,\"x\":");
        assert!(serde_json::from_str::<Sequential>(&bad).is_err());
    }

    #[test]
    fn mean_losses_start_once_a_loss_is_positive_and_find_a_clear_difference() {
        let options = SequentialOptions {
            min_labels: 10,
            ..Default::default()
        };
        let Ok(mut test) = Sequential::with_measure(options, Measure::MeanLoss) else {
            panic!("valid options");
        };
        // All exact: no scale yet, so no start (and no zero variance).
        for _ in 0..20 {
            test.observe_loss(Arm::First, 0.0);
            test.observe_loss(Arm::Second, 0.0);
        }
        assert!(!test.status().started);
        assert_eq!(test.status().high, f64::MAX);
        // MAE 2 against 1, losses spread over [0, 2m].
        for i in 0..3000 {
            let u = (i % 11) as f64 / 5.0;
            test.observe_loss(Arm::First, 2.0 * u);
            test.observe_loss(Arm::Second, u);
        }
        let s = test.status();
        assert!(s.started && s.measure == Measure::MeanLoss);
        assert!(s.p_value < 1e-6, "{s:?}");
        assert!(s.low > 0.8 && s.high < 1.2, "{s:?}");
        assert_eq!(s.verdict(0.0), Verdict::Promote);
        // Not a loss: ignored.
        test.observe_loss(Arm::First, f64::NAN);
        test.observe_loss(Arm::First, -1.0);
        assert_eq!(test.status().first, s.first);
        let json = serde_json::to_string(&test).unwrap_or_default();
        let back: Option<Sequential> = serde_json::from_str(&json).ok();
        assert_eq!(back.as_ref(), Some(&test));
    }

    #[test]
    fn saved_formats_are_checked() {
        let Ok(test) = Sequential::new(SequentialOptions::default()) else {
            panic!("valid options");
        };
        let json = serde_json::to_string(&test).unwrap_or_default();
        assert!(json.contains("\"format\":2"), "{json}");
        // Format 1 (before mean losses): no format, measure nor scale; still read.
        let old = r#"{"options":{"alpha":0.05,"tau":0.05,"min_labels":30},"first":{"labels":3,"errors":1},"second":{"labels":2,"errors":0},"p_value":1.0,"low":-1.0,"high":1.0}"#;
        let back: Option<Sequential> = serde_json::from_str(old).ok();
        assert_eq!(back.map(|t| t.status().first.errors), Some(1));
        let error = |json: &str| {
            serde_json::from_str::<Sequential>(json)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(error(&json.replace("\"format\":2", "\"format\":3")).contains("sequential.format"));
        let loss1 = old.replace("{\"options\"", "{\"measure\":\"mean-loss\",\"options\"");
        assert!(error(&loss1).contains("sequential.measure"));
        let summed = json.replacen("\"sum\":0.0", "\"sum\":2.0", 1);
        assert!(error(&summed).contains("sequential.first.sum"), "{summed}");
    }

    #[test]
    fn options_are_checked() {
        let err = Sequential::new(SequentialOptions {
            alpha: 1.5,
            ..Default::default()
        })
        .err()
        .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("invalid option `alpha`: expected a number in (0, 1), got `1.5`")
        );
    }
}
