//! An always-valid sequential test of the difference of two error rates: the mixture sequential
//! probability ratio test (mSPRT) with a normal mixture, as Johari, Koomen, Pekelis and Walsh,
//! "Peeking at A/B Tests: Why it matters, and what to do about it" (KDD 2017) and "Always Valid
//! Inference" (Operations Research, 2022), which Optimizely's Stats Engine implements.
//!
//! With `θ = error(first) − error(second)` (positive: the second model errs less), its estimate
//! `θ̂` from the labels so far and its variance `V = p₁(1 − p₁)/n₁ + p₂(1 − p₂)/n₂`, the mixture
//! likelihood ratio against `θ = θ₀` under a `N(θ₀, τ²)` mixture is
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
//! The variance uses the rates smoothed as `(errors + 1) / (labels + 2)`, so a rate of 0 or 1
//! after a few labels does not make `V` zero. Nothing is computed until each arm has
//! [`SequentialOptions::min_labels`] labels.

use serde::{Deserialize, Serialize};

use super::verdict::{Verdict, decide};
use crate::{Error, Result};

/// The test's level and mixture.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SequentialOptions {
    /// The level `α` of the confidence sequence, in (0, 1) (default 0.05).
    pub alpha: f64,
    /// The mixture's standard deviation `τ` on the error-rate difference, in (0, 1]
    /// (default 0.05: differences of a few points, which is what separates retrained models).
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

/// Labels and errors of one arm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArmCounts {
    /// Labelled predictions.
    pub labels: u64,
    /// Wrong ones among them.
    pub errors: u64,
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
    options: SequentialOptions,
    first: ArmCounts,
    second: ArmCounts,
    p_value: f64,
    low: f64,
    high: f64,
}

validated_serde!(Sequential);

/// Where a sequential test stands.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SequentialStatus {
    /// The first arm's counts.
    pub first: ArmCounts,
    /// The second arm's counts.
    pub second: ArmCounts,
    /// `error(first) − error(second)`: the second model's accuracy gain.
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
    /// `[−1, 1]`).
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
    /// A test with no label yet.
    pub fn new(options: SequentialOptions) -> Result<Self> {
        options.validate()?;
        Ok(Sequential {
            options,
            first: ArmCounts::default(),
            second: ArmCounts::default(),
            p_value: 1.0,
            low: -1.0,
            high: 1.0,
        })
    }

    fn validate(&self) -> Result<()> {
        self.options
            .validate()
            .map_err(|e| Error::state("sequential.options", e.to_string()))?;
        for (name, arm) in [("first", self.first), ("second", self.second)] {
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
        if !(-1.0 <= self.low && self.low <= self.high && self.high <= 1.0) {
            return Err(Error::state(
                "sequential.low",
                format!(
                    "expected −1 ≤ low ≤ high ≤ 1, got `{}` and `{}`",
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

    /// Adds one labelled prediction of `arm`, wrong or right, and updates the p-value and the
    /// interval.
    pub fn observe(&mut self, arm: Arm, error: bool) {
        let counts = match arm {
            Arm::First => &mut self.first,
            Arm::Second => &mut self.second,
        };
        counts.labels += 1;
        counts.errors += u64::from(error);
        self.update();
    }

    /// Adds many labelled predictions of `arm` at once (counts from another replica or a
    /// batch), then updates once: valid, as the p-value is read only at the new counts.
    pub fn observe_counts(&mut self, arm: Arm, labels: u64, errors: u64) {
        let counts = match arm {
            Arm::First => &mut self.first,
            Arm::Second => &mut self.second,
        };
        counts.labels += labels;
        counts.errors += errors.min(labels);
        self.update();
    }

    fn started(&self) -> bool {
        let min = self.options.min_labels.max(1);
        self.first.labels >= min && self.second.labels >= min
    }

    fn difference(&self) -> f64 {
        self.first.error_rate() - self.second.error_rate()
    }

    fn update(&mut self) {
        if !self.started() {
            return;
        }
        let v = self.first.smoothed_variance() + self.second.smoothed_variance();
        let tau2 = self.options.tau * self.options.tau;
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
            self.low = self.low.max(theta - half).min(1.0);
            self.high = self.high.min(theta + half).max(-1.0);
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
