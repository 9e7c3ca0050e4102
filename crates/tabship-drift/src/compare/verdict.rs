//! The one decision rule of a comparison, offline (`tabship compare`) or live (the server's
//! experiment): an interval of the **improvement** (the challenger's gain, positive when it is
//! better, whatever the metric's direction), a p-value of "no difference" and a minimum effect.

use serde::{Deserialize, Serialize};

/// What to do with the challenger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The challenger is better by more than the margin: replace the champion.
    Promote,
    /// The challenger cannot be better by the margin: keep the champion.
    Keep,
    /// Not enough evidence either way: keep the champion and collect more labels.
    Inconclusive,
}

impl Verdict {
    /// `promote`, `keep` or `inconclusive`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Promote => "promote",
            Verdict::Keep => "keep",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// The verdict from an improvement interval `[low, high]` at confidence `1 − alpha`, the p-value
/// of a test of no difference (`None` when no test applies: the interval alone decides) and the
/// minimum improvement `margin` (in the metric's units, ≥ 0):
///
/// - **promote** when the whole interval lies above the margin **and** the test rejects "no
///   difference" at `alpha` (both must agree, so a percentile interval a little too narrow on
///   few rows cannot promote alone);
/// - **keep** when the whole interval lies below the margin (the challenger may be better, but
///   not by the margin: with margin 0, it is worse);
/// - **inconclusive** otherwise.
pub fn decide(low: f64, high: f64, p_value: Option<f64>, alpha: f64, margin: f64) -> Verdict {
    let significant = p_value.is_none_or(|p| p < alpha);
    if low > margin && significant {
        Verdict::Promote
    } else if high < margin {
        Verdict::Keep
    } else {
        Verdict::Inconclusive
    }
}

/// The improvement interval of a difference `second − first` of a metric: itself when higher is
/// better, negated and swapped when lower is (a loss).
pub fn improvement(low: f64, high: f64, higher_is_better: bool) -> (f64, f64) {
    if higher_is_better {
        (low, high)
    } else {
        (-high, -low)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule() {
        assert_eq!(decide(0.01, 0.03, Some(0.001), 0.05, 0.0), Verdict::Promote);
        // Interval above 0 but the exact test does not reject: no promotion.
        assert_eq!(
            decide(0.01, 0.03, Some(0.06), 0.05, 0.0),
            Verdict::Inconclusive
        );
        assert_eq!(decide(0.01, 0.03, None, 0.05, 0.0), Verdict::Promote);
        assert_eq!(
            decide(0.01, 0.03, Some(0.001), 0.05, 0.02),
            Verdict::Inconclusive
        );
        assert_eq!(decide(0.001, 0.015, Some(0.001), 0.05, 0.02), Verdict::Keep);
        assert_eq!(decide(-0.03, -0.01, Some(0.001), 0.05, 0.0), Verdict::Keep);
        assert_eq!(
            decide(-0.01, 0.01, Some(0.5), 0.05, 0.0),
            Verdict::Inconclusive
        );
        assert_eq!(improvement(-0.2, 0.1, false), (-0.1, 0.2));
    }
}
