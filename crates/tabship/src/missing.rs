//! Which texts mean *missing*: the NA policy shared by training, every prediction path and the
//! artifact.
//!
//! A numeric column cannot hold `NA` or `null` as a value, so the usual spellings of missing
//! ([`DEFAULT_NA_VALUES`], pandas' default list plus `?` and `-`) are missing there by default.
//! A categorical column can: `NA` is Namibia's country code and `None` a legitimate answer, so the
//! defaults never apply to categories; only the empty text and the values a user names
//! explicitly ([`NaValues::values`], `--na-values`) are missing in a categorical column.

use serde::{Deserialize, Serialize};

use crate::value::non_finite;
use crate::{Error, Result};

/// Texts that are missing in a numeric column unless [`NaValues::defaults`] is off: pandas'
/// default `na_values` (as of pandas 2.2), plus `?` (the UCI repository's spelling) and a lone
/// `-` (reports and spreadsheets). The empty text and any text that parses as `NaN` are missing
/// whatever the policy.
pub const DEFAULT_NA_VALUES: [&str; 21] = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null", "?", "-",
];

/// Most user-given NA values an artifact may hold.
pub const MAX_NA_VALUES: usize = 1_000;
/// Longest user-given NA value, in bytes.
pub const MAX_NA_VALUE_BYTES: usize = 256;

/// The missing-value policy of a pipeline's input (stored in the artifact's schema from format
/// 1.3 when it differs from the default).
///
/// - Numeric columns: empty text, text that parses as `NaN`, [`DEFAULT_NA_VALUES`] (when
///   `defaults`) and `values` are missing, compared after trimming spaces as numbers are.
/// - Categorical columns: empty text and `values` are missing, compared exactly (categories are
///   case-sensitive and not trimmed). The defaults never apply, so a category named `NA` or
///   `None` stays a category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NaValues {
    /// Whether [`DEFAULT_NA_VALUES`] are missing in numeric columns (pandas' `keep_default_na`).
    pub defaults: bool,
    /// Further texts that are missing in every column; sorted, unique, non-empty.
    pub values: Vec<String>,
}

impl Default for NaValues {
    fn default() -> Self {
        NaValues {
            defaults: true,
            values: Vec::new(),
        }
    }
}

impl NaValues {
    /// A policy: the defaults (or not) plus `values` (sorted, duplicates and empty texts dropped,
    /// since the empty text is always missing).
    pub fn new<I, S>(defaults: bool, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut values: Vec<String> = values
            .into_iter()
            .map(Into::into)
            .filter(|v| !v.is_empty())
            .collect();
        values.sort();
        values.dedup();
        NaValues { defaults, values }
    }

    /// True for the default policy (what artifacts before format 1.3 get).
    pub fn is_default(&self) -> bool {
        self.defaults && self.values.is_empty()
    }

    /// This policy with `other`'s values added, and the defaults only when both keep them: what
    /// a run with extra `--na-values` reads on top of an artifact's policy.
    pub fn extended(&self, other: &NaValues) -> NaValues {
        NaValues::new(
            self.defaults && other.defaults,
            self.values.iter().chain(&other.values).cloned(),
        )
    }

    /// True when `text`, which did not parse as a number, is a missing value of a numeric column.
    fn is_missing_number(&self, trimmed: &str) -> bool {
        trimmed.is_empty()
            || (self.defaults && DEFAULT_NA_VALUES.contains(&trimmed))
            || self
                .values
                .binary_search_by(|v| v.as_str().cmp(trimmed))
                .is_ok()
    }

    /// True when `text` is a missing value of a categorical column: empty, or one of `values`.
    #[inline]
    pub fn is_missing_category(&self, text: &str) -> bool {
        text.is_empty()
            || (!self.values.is_empty()
                && self
                    .values
                    .binary_search_by(|v| v.as_str().cmp(text))
                    .is_ok())
    }

    /// True when `text` reads as a number or as missing in a numeric column under this policy.
    pub fn is_number_or_missing(&self, text: &str) -> bool {
        let t = text.trim();
        match t.parse::<f64>() {
            Ok(x) => x.is_finite() || x.is_nan(),
            Err(_) => self.is_missing_number(t),
        }
    }

    /// Parses text for a numeric column (`" 39 "` is 39). `Ok(None)` is missing; infinity and
    /// other text are [`Error::InvalidValue`] errors naming `column` and the text.
    pub fn parse_number(&self, column: &str, text: &str) -> Result<Option<f64>> {
        let trimmed = text.trim();
        match trimmed.parse::<f64>() {
            Ok(x) if x.is_nan() => Ok(None),
            Ok(x) if x.is_finite() => Ok(Some(x)),
            Ok(_) => Err(non_finite(column, text)),
            Err(_) if self.is_missing_number(trimmed) => Ok(None),
            Err(_) => Err(Error::InvalidValue {
                column: column.to_owned(),
                expected: "a number",
                received: text.to_owned(),
                row: None,
            }),
        }
    }

    pub(crate) fn validate(&self, field: &str) -> Result<()> {
        if self.values.len() > MAX_NA_VALUES {
            return Err(Error::field(
                format!("{field}.values"),
                format!("more than {MAX_NA_VALUES} values"),
            ));
        }
        for (i, v) in self.values.iter().enumerate() {
            if v.is_empty() || v.len() > MAX_NA_VALUE_BYTES {
                return Err(Error::field(
                    format!("{field}.values[{i}]"),
                    format!("must be 1 to {MAX_NA_VALUE_BYTES} bytes long"),
                ));
            }
            if i > 0 && self.values[i - 1] >= *v {
                return Err(Error::field(
                    format!("{field}.values[{i}]"),
                    "values must be sorted and unique",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_spellings_are_missing_in_numbers() {
        let na = NaValues::default();
        for text in DEFAULT_NA_VALUES.iter().chain(&[" NA ", "nan", "NAN"]) {
            assert_eq!(na.parse_number("x", text).unwrap(), None, "`{text}`");
        }
        assert_eq!(na.parse_number("x", " 4.5 ").unwrap(), Some(4.5));
        let err = na.parse_number("x", "n.a.").unwrap_err().to_string();
        assert_eq!(err, "column `x`: expected a number, got `n.a.`");
        assert!(na.parse_number("x", "inf").is_err());
        // Case matters, as in pandas: `Null` is not in the list.
        assert!(na.parse_number("x", "Null").is_err());
    }

    #[test]
    fn defaults_never_apply_to_categories() {
        let na = NaValues::default();
        assert!(!na.is_missing_category("NA"));
        assert!(!na.is_missing_category("None"));
        assert!(na.is_missing_category(""));
        let na = NaValues::new(true, ["NA"]);
        assert!(na.is_missing_category("NA"));
        assert!(!na.is_missing_category(" NA"));
    }

    #[test]
    fn user_values_extend_or_replace_the_defaults() {
        let extended = NaValues::new(true, ["n.a.", "n.a.", ""]);
        assert_eq!(extended.values, ["n.a."]);
        assert_eq!(extended.parse_number("x", "n.a.").unwrap(), None);
        assert_eq!(extended.parse_number("x", "NA").unwrap(), None);
        let replaced = NaValues::new(false, ["n.a."]);
        assert!(replaced.parse_number("x", "NA").is_err());
        assert_eq!(replaced.parse_number("x", "").unwrap(), None);
        assert_eq!(replaced.parse_number("x", "NaN").unwrap(), None);
        let both = replaced.extended(&NaValues::new(true, ["?"]));
        assert!(!both.defaults);
        assert_eq!(both.values, ["?", "n.a."]);
        assert!(NaValues::default().is_default() && !extended.is_default());
    }

    #[test]
    fn stored_policies_are_validated() {
        let unsorted = NaValues {
            defaults: true,
            values: vec!["b".into(), "a".into()],
        };
        assert!(unsorted.validate("schema.na_values").is_err());
        let empty = NaValues {
            defaults: true,
            values: vec![String::new()],
        };
        let err = empty.validate("schema.na_values").unwrap_err().to_string();
        assert!(err.contains("schema.na_values.values[0]"), "{err}");
        assert!(NaValues::new(false, ["x"]).validate("s").is_ok());
    }
}
