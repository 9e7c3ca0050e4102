//! Imbalanced classes: class weights for the fit (scikit-learn's `class_weight`) and the rules
//! that choose a binary classifier's stored decision threshold on the holdout.

use std::fmt;
use std::str::FromStr;

use tabship::ClassLabel;

use crate::{Error, Result};

/// How much each class's rows weigh in the fitted objective.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassWeight {
    /// `n_rows / (n_classes · rows of the class)`, counted on the training rows, as
    /// scikit-learn's `class_weight="balanced"`.
    Balanced,
    /// One weight per named class; classes not named weigh 1 (as in scikit-learn).
    PerClass(Vec<(String, f64)>),
}

impl FromStr for ClassWeight {
    type Err = Error;
    /// `balanced`, or `label=weight` pairs separated by commas (`yes=5,no=1`).
    fn from_str(s: &str) -> Result<Self> {
        if s.trim() == "balanced" {
            return Ok(ClassWeight::Balanced);
        }
        let bad = |reason: String| Error::InvalidOption {
            option: "class-weight",
            reason,
        };
        let mut pairs: Vec<(String, f64)> = Vec::new();
        for item in s.split(',') {
            let Some((label, weight)) = item.rsplit_once('=') else {
                return Err(bad(format!(
                    "expected `balanced` or `label=weight` pairs such as `yes=5,no=1`, got `{item}`"
                )));
            };
            let label = label.trim().to_owned();
            let weight = weight.trim();
            let value = weight
                .parse::<f64>()
                .ok()
                .filter(|w| w.is_finite() && *w > 0.0)
                .ok_or_else(|| {
                    bad(format!(
                        "class `{label}`: expected a weight > 0, got `{weight}`"
                    ))
                })?;
            if pairs.iter().any(|(l, _)| *l == label) {
                return Err(bad(format!("class `{label}` is given twice")));
            }
            pairs.push((label, value));
        }
        Ok(ClassWeight::PerClass(pairs))
    }
}

impl fmt::Display for ClassWeight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClassWeight::Balanced => f.write_str("balanced"),
            ClassWeight::PerClass(pairs) => {
                let text: Vec<String> = pairs.iter().map(|(l, w)| format!("{l}={w}")).collect();
                f.write_str(&text.join(","))
            }
        }
    }
}

/// Whether `text` names `label` (integer labels also match `3.0`).
pub fn label_matches(label: &ClassLabel, text: &str) -> bool {
    let text = text.trim();
    match label {
        ClassLabel::Text(s) => s == text,
        ClassLabel::Integer(i) => text
            .parse::<f64>()
            .is_ok_and(|x| x.fract() == 0.0 && x == *i as f64),
    }
}

fn class_list(classes: &[ClassLabel]) -> String {
    classes
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The index of the class named `text`, or an error for option `option` listing the classes.
pub fn find_class(option: &'static str, classes: &[ClassLabel], text: &str) -> Result<usize> {
    classes
        .iter()
        .position(|c| label_matches(c, text))
        .ok_or_else(|| Error::InvalidOption {
            option,
            reason: format!(
                "`{text}` is not a class of the target (classes: {})",
                class_list(classes)
            ),
        })
}

impl ClassWeight {
    /// One weight per class, for training rows labelled `y` (class indices).
    pub fn weights(&self, classes: &[ClassLabel], y: &[usize]) -> Result<Vec<f64>> {
        match self {
            ClassWeight::Balanced => {
                let mut counts = vec![0usize; classes.len()];
                for &c in y {
                    counts[c] += 1;
                }
                if let Some(empty) = counts.iter().position(|&c| c == 0) {
                    return Err(Error::InvalidOption {
                        option: "class-weight",
                        reason: format!(
                            "`balanced` needs every class in the training rows; `{}` has none",
                            classes[empty]
                        ),
                    });
                }
                let n = y.len() as f64;
                let k = classes.len() as f64;
                Ok(counts.iter().map(|&c| n / (k * c as f64)).collect())
            }
            ClassWeight::PerClass(pairs) => {
                let mut weights = vec![1.0; classes.len()];
                for (label, w) in pairs {
                    weights[find_class("class-weight", classes, label)?] = *w;
                }
                Ok(weights)
            }
        }
    }
}

/// How the stored decision threshold of a binary classifier is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ThresholdRule {
    /// This probability of the positive class.
    Fixed(f64),
    /// The holdout probability that maximises F1 of the positive class (the lowest one on ties).
    F1,
    /// The lowest holdout probability whose precision reaches this value.
    Precision(f64),
    /// The highest holdout probability whose recall reaches this value.
    Recall(f64),
}

impl ThresholdRule {
    /// Whether the rule needs holdout rows.
    pub fn needs_holdout(self) -> bool {
        !matches!(self, ThresholdRule::Fixed(_))
    }
}

impl FromStr for ThresholdRule {
    type Err = Error;
    /// `0.3`, `f1`, `precision=0.9` or `recall=0.8`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidOption {
            option: "threshold",
            reason: format!(
                "expected a probability in [0, 1], `f1`, `precision=P` or `recall=R` \
                 (P, R in (0, 1]), got `{s}`"
            ),
        };
        let s = s.trim();
        if s == "f1" {
            return Ok(ThresholdRule::F1);
        }
        let target = |v: &str| {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| *x > 0.0 && *x <= 1.0)
                .ok_or_else(bad)
        };
        if let Some(v) = s.strip_prefix("precision=") {
            return Ok(ThresholdRule::Precision(target(v)?));
        }
        if let Some(v) = s.strip_prefix("recall=") {
            return Ok(ThresholdRule::Recall(target(v)?));
        }
        s.parse::<f64>()
            .ok()
            .filter(|x| (0.0..=1.0).contains(x))
            .map(ThresholdRule::Fixed)
            .ok_or_else(bad)
    }
}

impl fmt::Display for ThresholdRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThresholdRule::Fixed(t) => write!(f, "{t}"),
            ThresholdRule::F1 => f.write_str("f1"),
            ThresholdRule::Precision(p) => write!(f, "precision={p}"),
            ThresholdRule::Recall(r) => write!(f, "recall={r}"),
        }
    }
}

/// Per candidate threshold (each distinct holdout score, ascending): the threshold and the true
/// and false positives when rows scoring at least it are called positive.
fn candidates(positive: &[bool], scores: &[f64]) -> Vec<(f64, usize, usize)> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut out = Vec::new();
    let (mut tp, mut fp) = (0, 0);
    for (i, &row) in order.iter().enumerate() {
        if positive[row] {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_value = order
            .get(i + 1)
            .is_none_or(|&next| scores[next] != scores[row]);
        if last_of_value {
            out.push((scores[row], tp, fp));
        }
    }
    out.reverse();
    out
}

/// Chooses the threshold for `rule` from holdout rows: whether each is of the positive class,
/// and its probability of the positive class. Predicting positive means `score >= threshold`.
pub fn choose_threshold(rule: ThresholdRule, positive: &[bool], scores: &[f64]) -> Result<f64> {
    if let ThresholdRule::Fixed(t) = rule {
        return Ok(t);
    }
    let fail = |reason: String| Error::InvalidOption {
        option: "threshold",
        reason,
    };
    let n_positive = positive.iter().filter(|&&p| p).count();
    if n_positive == 0 {
        return Err(fail(format!(
            "`{rule}` is chosen on the holdout, which has no row of the positive class \
             (raise --test-fraction)"
        )));
    }
    let all = candidates(positive, scores);
    let precision = |tp: usize, fp: usize| tp as f64 / (tp + fp) as f64;
    let recall = |tp: usize| tp as f64 / n_positive as f64;
    match rule {
        ThresholdRule::Fixed(t) => Ok(t),
        ThresholdRule::F1 => {
            let mut best = (f64::NEG_INFINITY, 0.0);
            for &(t, tp, fp) in &all {
                let f1 = 2.0 * tp as f64 / (2 * tp + fp + (n_positive - tp)) as f64;
                if f1 > best.0 {
                    best = (f1, t);
                }
            }
            Ok(best.1)
        }
        ThresholdRule::Precision(target) => all
            .iter()
            .find(|&&(_, tp, fp)| precision(tp, fp) >= target)
            .map(|&(t, _, _)| t)
            .ok_or_else(|| {
                let best = all
                    .iter()
                    .map(|&(_, tp, fp)| precision(tp, fp))
                    .fold(0.0, f64::max);
                fail(format!(
                    "no threshold reaches precision {target} on the holdout (the highest is {best:.4})"
                ))
            }),
        ThresholdRule::Recall(target) => all
            .iter()
            .rev()
            .find(|&&(_, tp, _)| recall(tp) >= target)
            .map(|&(t, _, _)| t)
            .ok_or_else(|| fail(format!("no threshold reaches recall {target} on the holdout"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(names: &[&str]) -> Vec<ClassLabel> {
        names
            .iter()
            .map(|n| ClassLabel::Text((*n).into()))
            .collect()
    }

    #[test]
    fn balanced_weights_are_scikit_learns() {
        let classes = labels(&["a", "b", "c"]);
        // bincount = [3, 1, 2], n = 6, k = 3: 6 / (3 · count).
        let w = ClassWeight::Balanced
            .weights(&classes, &[0, 0, 0, 1, 2, 2])
            .expect("weights");
        assert_eq!(w, vec![6.0 / 9.0, 2.0, 1.0]);
        let w = "c=5, a=0.5"
            .parse::<ClassWeight>()
            .expect("parses")
            .weights(&classes, &[0, 1, 2])
            .expect("weights");
        assert_eq!(w, vec![0.5, 1.0, 5.0]);
        let err = "z=2"
            .parse::<ClassWeight>()
            .expect("parses")
            .weights(&classes, &[0, 1, 2])
            .expect_err("unknown class");
        assert!(err.to_string().contains("`z` is not a class"), "{err}");
        assert!(err.to_string().contains("`a`, `b`, `c`"), "{err}");
        for bad in ["yes", "yes=0", "yes=-1", "yes=x", "a=1,a=2"] {
            assert!(bad.parse::<ClassWeight>().is_err(), "{bad}");
        }
        let err = ClassWeight::Balanced
            .weights(&classes, &[0, 2])
            .expect_err("empty class");
        assert!(err.to_string().contains("`b` has none"), "{err}");
    }

    #[test]
    fn integer_labels_match_their_numbers() {
        let classes = vec![ClassLabel::Integer(0), ClassLabel::Integer(1)];
        let w = "1=3"
            .parse::<ClassWeight>()
            .expect("parses")
            .weights(&classes, &[0, 1])
            .expect("weights");
        assert_eq!(w, vec![1.0, 3.0]);
    }

    #[test]
    fn rules_parse_and_print() {
        for text in ["0.3", "f1", "precision=0.9", "recall=0.8", "0", "1"] {
            let rule: ThresholdRule = text.parse().expect("parses");
            assert_eq!(rule.to_string(), text);
        }
        for bad in ["1.5", "-0.1", "precision=0", "recall=2", "f2", "nan"] {
            assert!(bad.parse::<ThresholdRule>().is_err(), "{bad}");
        }
    }

    /// Scores 0.1..0.9 with positives at 0.4, 0.7, 0.8, 0.9 (checked by hand).
    fn holdout() -> (Vec<bool>, Vec<f64>) {
        let scores = vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
        let positive = scores
            .iter()
            .map(|s| [0.4, 0.7, 0.8, 0.9].contains(s))
            .collect();
        (positive, scores)
    }

    #[test]
    fn thresholds_are_chosen_as_documented() {
        let (positive, scores) = holdout();
        let choose = |rule| choose_threshold(rule, &positive, &scores).expect("chosen");
        // t = 0.7: tp 3, fp 0, fn 1 → F1 6/7; t = 0.4: tp 4, fp 2 → F1 0.8.
        assert_eq!(choose(ThresholdRule::F1), 0.7);
        // Precision 1.0 holds from 0.7 up: the lowest is 0.7. Precision ≥ 0.6: 0.4 gives 4/6.
        assert_eq!(choose(ThresholdRule::Precision(1.0)), 0.7);
        assert_eq!(choose(ThresholdRule::Precision(0.6)), 0.4);
        // Recall ≥ 0.75 holds up to 0.7; recall 1 needs 0.4.
        assert_eq!(choose(ThresholdRule::Recall(0.75)), 0.7);
        assert_eq!(choose(ThresholdRule::Recall(1.0)), 0.4);
        assert_eq!(choose(ThresholdRule::Fixed(0.25)), 0.25);
    }

    #[test]
    fn ties_and_impossible_targets() {
        // Equal scores are one candidate: 0.5 covers both rows.
        let positive = [true, false, true];
        let scores = [0.5, 0.5, 0.9];
        assert_eq!(
            choose_threshold(ThresholdRule::Recall(1.0), &positive, &scores).expect("chosen"),
            0.5
        );
        let err = choose_threshold(ThresholdRule::Precision(1.0), &[false, true], &[0.9, 0.1])
            .expect_err("unreachable");
        assert!(err.to_string().contains("the highest is 0.5000"), "{err}");
        let err = choose_threshold(ThresholdRule::F1, &[false, false], &[0.9, 0.1])
            .expect_err("no positives");
        assert!(
            err.to_string().contains("no row of the positive class"),
            "{err}"
        );
    }
}
