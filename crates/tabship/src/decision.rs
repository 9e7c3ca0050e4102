//! What turns the model's raw output into the pipeline's prediction (format 1.3): a stored
//! decision threshold for binary classifiers and an inverse target transform for regressors.
//! Both apply wherever the pipeline predicts a label or a value; probabilities never change.

use serde::{Deserialize, Serialize};

use crate::labels::ClassLabel;
use crate::{Error, Result};

/// A binary classifier's decision rule: predict `positive_class` when its probability is at least
/// `threshold`, the other class otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionThreshold {
    /// The class whose probability is compared with the threshold (one of the two classes).
    pub positive_class: ClassLabel,
    /// The probability at or above which the positive class is predicted, in `[0, 1]`.
    pub threshold: f64,
}

/// A transform the regressor was fitted under: the model predicts `f(y)`, the pipeline returns
/// `f⁻¹` of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TargetTransform {
    /// Fitted on `ln(1 + y)`; predictions are `exp(z) - 1`.
    Log1p,
}

impl TargetTransform {
    /// The transform's name (`log1p`).
    pub fn name(self) -> &'static str {
        match self {
            TargetTransform::Log1p => "log1p",
        }
    }

    /// The forward transform of a target value (training side).
    pub fn forward(self, y: f64) -> f64 {
        match self {
            TargetTransform::Log1p => y.ln_1p(),
        }
    }

    /// The inverse transform of a model output (prediction side).
    #[inline]
    pub fn inverse(self, z: f64) -> f64 {
        match self {
            TargetTransform::Log1p => z.exp_m1(),
        }
    }
}

/// A validated threshold: the positive class's index among the two classes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CompiledThreshold {
    pub positive: usize,
    pub threshold: f64,
}

impl CompiledThreshold {
    /// The class index for the probabilities of one row (`[p0, p1]`).
    #[inline]
    pub fn decide(&self, proba: &[f64]) -> usize {
        if proba[self.positive] >= self.threshold {
            self.positive
        } else {
            1 - self.positive
        }
    }
}

/// Checks a stored threshold against the pipeline's classes.
pub(crate) fn compile_threshold(
    threshold: &DecisionThreshold,
    classes: &[ClassLabel],
) -> Result<CompiledThreshold> {
    const FIELD: &str = "decision_threshold";
    if classes.len() != 2 {
        return Err(Error::field(
            FIELD,
            format!(
                "a decision threshold needs a binary classifier, this one has {} classes",
                classes.len()
            ),
        ));
    }
    if !(threshold.threshold.is_finite() && (0.0..=1.0).contains(&threshold.threshold)) {
        return Err(Error::field(
            format!("{FIELD}.threshold"),
            format!("must be in [0, 1], got `{}`", threshold.threshold),
        ));
    }
    let positive = classes
        .iter()
        .position(|c| *c == threshold.positive_class)
        .ok_or_else(|| {
            Error::field(
                format!("{FIELD}.positive_class"),
                format!(
                    "`{}` is not one of the classes `{}`, `{}`",
                    threshold.positive_class, classes[0], classes[1]
                ),
            )
        })?;
    Ok(CompiledThreshold {
        positive,
        threshold: threshold.threshold,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_decides_on_the_positive_class() {
        let classes = [
            ClassLabel::Text("no".into()),
            ClassLabel::Text("yes".into()),
        ];
        let t = compile_threshold(
            &DecisionThreshold {
                positive_class: ClassLabel::Text("yes".into()),
                threshold: 0.3,
            },
            &classes,
        )
        .expect("valid");
        assert_eq!(t.decide(&[0.7, 0.3]), 1);
        assert_eq!(t.decide(&[0.71, 0.29]), 0);
        let t = compile_threshold(
            &DecisionThreshold {
                positive_class: ClassLabel::Text("no".into()),
                threshold: 0.9,
            },
            &classes,
        )
        .expect("valid");
        assert_eq!(t.decide(&[0.8, 0.2]), 1);
        assert_eq!(t.decide(&[0.9, 0.1]), 0);
    }

    #[test]
    fn invalid_thresholds_name_the_field() {
        let classes = [ClassLabel::Integer(0), ClassLabel::Integer(1)];
        let bad = |label, threshold| {
            compile_threshold(
                &DecisionThreshold {
                    positive_class: label,
                    threshold,
                },
                &classes,
            )
            .expect_err("refused")
            .to_string()
        };
        assert!(bad(ClassLabel::Integer(2), 0.5).contains("`2` is not one of the classes"));
        assert!(bad(ClassLabel::Integer(1), 1.5).contains("decision_threshold.threshold"));
        assert!(bad(ClassLabel::Integer(1), f64::NAN).contains("must be in [0, 1]"));
        let three = [
            ClassLabel::Integer(0),
            ClassLabel::Integer(1),
            ClassLabel::Integer(2),
        ];
        let err = compile_threshold(
            &DecisionThreshold {
                positive_class: ClassLabel::Integer(1),
                threshold: 0.5,
            },
            &three,
        )
        .expect_err("refused");
        assert!(err.to_string().contains("has 3 classes"), "{err}");
    }
}
