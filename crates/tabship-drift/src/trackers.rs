//! Windowed quality trackers over the last `N` labelled predictions: accuracy, F1 of a positive
//! class, mean absolute error. Each keeps the last `N` outcomes (one byte, or one `f64` for MAE)
//! so the window is exact; the counts are updated in O(1) per value.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Checks a deserialized window: non-zero and holding at most `window` values.
fn check_len(tracker: &str, window: usize, len: usize) -> Result<()> {
    check_window(window)?;
    if len > window {
        return Err(Error::state(
            format!("{tracker}.outcomes"),
            format!("expected at most `{window}` values, got `{len}`"),
        ));
    }
    Ok(())
}

fn inconsistent(tracker: &str, field: &str, value: impl std::fmt::Display) -> Error {
    Error::state(
        format!("{tracker}.{field}"),
        format!("inconsistent with the window's values, got `{value}`"),
    )
}

fn check_window(window: usize) -> Result<()> {
    if window == 0 {
        return Err(Error::InvalidOption {
            option: "window",
            reason: "must hold at least one value, got `0`".into(),
        });
    }
    Ok(())
}

/// Accuracy over the last `window` predictions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct WindowedAccuracy {
    window: usize,
    outcomes: VecDeque<bool>,
    correct: usize,
}

validated_serde!(WindowedAccuracy);

impl WindowedAccuracy {
    /// The window length.
    pub fn window(&self) -> usize {
        self.window
    }

    fn validate(&self) -> Result<()> {
        check_len("accuracy", self.window, self.outcomes.len())?;
        let correct = self.outcomes.iter().filter(|&&c| c).count();
        if correct != self.correct {
            return Err(inconsistent("accuracy", "correct", self.correct));
        }
        Ok(())
    }

    /// A tracker over the last `window` predictions.
    pub fn new(window: usize) -> Result<Self> {
        check_window(window)?;
        Ok(WindowedAccuracy {
            window,
            outcomes: VecDeque::with_capacity(window.min(1 << 20)),
            correct: 0,
        })
    }

    /// Adds one prediction's outcome.
    pub fn update(&mut self, correct: bool) {
        if self.outcomes.len() == self.window && self.outcomes.pop_front() == Some(true) {
            self.correct -= 1;
        }
        self.outcomes.push_back(correct);
        self.correct += usize::from(correct);
    }

    /// Accuracy in the window (`None` while empty).
    pub fn value(&self) -> Option<f64> {
        (!self.outcomes.is_empty()).then(|| self.correct as f64 / self.outcomes.len() as f64)
    }

    /// Predictions in the window.
    pub fn len(&self) -> usize {
        self.outcomes.len()
    }

    /// True when the window is empty.
    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }
}

/// F1 score of one positive class over the last `window` predictions (as scikit-learn's
/// `f1_score` with that `pos_label`: 0 when there is no true or predicted positive).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct WindowedF1 {
    window: usize,
    /// Bit 0: predicted positive, bit 1: actually positive.
    outcomes: VecDeque<u8>,
    counts: [usize; 4],
}

validated_serde!(WindowedF1);

impl WindowedF1 {
    /// The window length.
    pub fn window(&self) -> usize {
        self.window
    }

    fn validate(&self) -> Result<()> {
        check_len("f1", self.window, self.outcomes.len())?;
        let mut counts = [0usize; 4];
        for &code in &self.outcomes {
            match counts.get_mut(usize::from(code)) {
                Some(c) => *c += 1,
                None => return Err(inconsistent("f1", "outcomes", code)),
            }
        }
        if counts != self.counts {
            return Err(inconsistent("f1", "counts", format!("{:?}", self.counts)));
        }
        Ok(())
    }

    /// A tracker over the last `window` predictions.
    pub fn new(window: usize) -> Result<Self> {
        check_window(window)?;
        Ok(WindowedF1 {
            window,
            outcomes: VecDeque::with_capacity(window.min(1 << 20)),
            counts: [0; 4],
        })
    }

    /// Adds one prediction: whether it predicted the positive class, whether the label was it.
    pub fn update(&mut self, predicted_positive: bool, actually_positive: bool) {
        if self.outcomes.len() == self.window {
            if let Some(old) = self.outcomes.pop_front() {
                self.counts[old as usize] -= 1;
            }
        }
        let code = u8::from(predicted_positive) | (u8::from(actually_positive) << 1);
        self.outcomes.push_back(code);
        self.counts[code as usize] += 1;
    }

    /// F1 in the window (`None` while empty).
    pub fn value(&self) -> Option<f64> {
        if self.outcomes.is_empty() {
            return None;
        }
        let tp = self.counts[3] as f64;
        let fp = self.counts[1] as f64;
        let fn_ = self.counts[2] as f64;
        let denominator = 2.0 * tp + fp + fn_;
        Some(if denominator == 0.0 {
            0.0
        } else {
            2.0 * tp / denominator
        })
    }

    /// Predictions in the window.
    pub fn len(&self) -> usize {
        self.outcomes.len()
    }

    /// True when the window is empty.
    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }
}

/// Mean absolute error over the last `window` predictions. The running sum is recomputed from
/// the window every `window` updates, so rounding errors cannot accumulate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct WindowedMae {
    window: usize,
    errors: VecDeque<f64>,
    sum: f64,
    since_resum: usize,
}

validated_serde!(WindowedMae);

impl WindowedMae {
    /// The window length.
    pub fn window(&self) -> usize {
        self.window
    }

    fn validate(&self) -> Result<()> {
        check_len("mae", self.window, self.errors.len())?;
        if let Some(e) = self.errors.iter().find(|e| !(e.is_finite() && **e >= 0.0)) {
            return Err(inconsistent("mae", "errors", e));
        }
        let sum: f64 = self.errors.iter().sum();
        if !self.sum.is_finite() || (self.sum - sum).abs() > 1e-6 * sum.max(1.0) {
            return Err(inconsistent("mae", "sum", self.sum));
        }
        if self.since_resum > self.window {
            return Err(inconsistent("mae", "since_resum", self.since_resum));
        }
        Ok(())
    }

    /// A tracker over the last `window` predictions.
    pub fn new(window: usize) -> Result<Self> {
        check_window(window)?;
        Ok(WindowedMae {
            window,
            errors: VecDeque::with_capacity(window.min(1 << 20)),
            sum: 0.0,
            since_resum: 0,
        })
    }

    /// Adds one prediction and its true value; pairs with a non-finite value are ignored.
    pub fn update(&mut self, predicted: f64, actual: f64) {
        let e = (predicted - actual).abs();
        if !e.is_finite() {
            return;
        }
        if self.errors.len() == self.window {
            if let Some(old) = self.errors.pop_front() {
                self.sum -= old;
            }
        }
        self.errors.push_back(e);
        self.sum += e;
        self.since_resum += 1;
        if self.since_resum >= self.window {
            self.sum = self.errors.iter().sum();
            self.since_resum = 0;
        }
    }

    /// MAE in the window (`None` while empty).
    pub fn value(&self) -> Option<f64> {
        (!self.errors.is_empty()).then(|| self.sum.max(0.0) / self.errors.len() as f64)
    }

    /// Predictions in the window.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// True when the window is empty.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trackers_by_hand() {
        let mut a = WindowedAccuracy::new(3).expect("valid");
        assert_eq!(a.value(), None);
        for c in [true, false, true, true] {
            a.update(c);
        }
        assert_eq!(a.value(), Some(2.0 / 3.0));
        let mut f = WindowedF1::new(4).expect("valid");
        // (pred, actual): TP, FP, FN, TN, TP → window drops the first TP: TP=1, FP=1, FN=1
        for (p, y) in [
            (true, true),
            (true, false),
            (false, true),
            (false, false),
            (true, true),
        ] {
            f.update(p, y);
        }
        assert_eq!(f.value(), Some(2.0 / 4.0));
        let mut m = WindowedMae::new(2).expect("valid");
        for (p, y) in [(1.0, 0.0), (2.0, 0.0), (0.0, 4.0), (f64::NAN, 1.0)] {
            m.update(p, y);
        }
        assert_eq!(m.value(), Some(3.0));
        assert!(WindowedMae::new(0).is_err());
    }
}
