//! Class labels: text or integers, in a fixed sorted order that indexes probabilities.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// One class label. Integer targets keep integer labels so that they come back as integers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ClassLabel {
    /// An integer label.
    Integer(i64),
    /// A text label.
    Text(String),
}

impl fmt::Display for ClassLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClassLabel::Integer(i) => write!(f, "{i}"),
            ClassLabel::Text(s) => f.write_str(s),
        }
    }
}

impl ClassLabel {
    /// Parses a target value: an integer label when the text is an integer, text otherwise.
    pub fn parse(text: &str, integer: bool) -> Option<ClassLabel> {
        if integer {
            text.trim().parse().ok().map(ClassLabel::Integer)
        } else {
            Some(ClassLabel::Text(text.to_owned()))
        }
    }
}

/// Checks that labels are all of one type, sorted, unique and at least two.
pub(crate) fn validate_classes(classes: &[ClassLabel]) -> Result<()> {
    if classes.len() < 2 {
        return Err(Error::field(
            "classes",
            "a classifier needs at least two classes",
        ));
    }
    if classes.len() > crate::artifact::limits::MAX_CLASSES {
        return Err(Error::field(
            "classes",
            format!("more than {} classes", crate::artifact::limits::MAX_CLASSES),
        ));
    }
    let integer = matches!(classes[0], ClassLabel::Integer(_));
    for w in classes.windows(2) {
        if matches!(w[1], ClassLabel::Integer(_)) != integer {
            return Err(Error::field("classes", "labels mix integers and text"));
        }
        if w[0] >= w[1] {
            return Err(Error::field(
                "classes",
                format!(
                    "labels must be sorted and unique, `{}` then `{}`",
                    w[0], w[1]
                ),
            ));
        }
    }
    Ok(())
}
