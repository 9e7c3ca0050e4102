//! Categorical columns: one-hot or ordinal, with Unknown, Other and Missing handled explicitly.
//!
//! Matching is exact: a value matches a training category only when the UTF-8 strings are equal
//! (case-sensitive, no trimming). Numbers arriving in a categorical column are compared as text
//! (see [`crate::value::number_as_category`]).

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::value::{FieldValue, number_as_category};
use crate::{Error, Result};

/// How categories become model features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoryEncoding {
    /// One 0/1 feature per slot (the default).
    OneHot,
    /// One feature holding the slot's code.
    Ordinal,
}

/// What happens to a missing categorical value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoricalMissing {
    /// A dedicated Missing slot (the default).
    Slot,
    /// Imputed by the most frequent training category (still counted as missing).
    MostFrequent,
    /// Ordinal encoding only: a missing value reaches the model as NaN (format 1.5), for
    /// imported tree models whose nodes route missing values themselves. No Missing slot.
    Nan,
}

/// Where one input value of a categorical column went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CategoryState {
    /// A training category, by its index in [`CategoricalEncoderSpec::categories`].
    Known(u32),
    /// A category seen in training fewer than `min_frequency` times.
    Other,
    /// A missing value (null, empty text, NaN).
    Missing,
    /// A value never seen in training.
    Unknown,
}

/// Fitted encoder of one categorical column.
///
/// One-hot layout: one feature per entry of `categories`, then an Other feature when
/// `other_categories` is non-empty, then a Missing feature when `missing_slot` is set. A value in the
/// Unknown state sets none of them (all zeros: the model's baseline for this column), and a missing
/// value without a Missing slot does the same.
///
/// Ordinal codes: `categories[i]` → `i`, Other → `len(categories)`, Missing →
/// `len(categories) + 1` (or the imputed category's code, or NaN under
/// [`CategoricalMissing::Nan`]), Unknown → `-1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalEncoderSpec {
    /// One-hot or ordinal.
    pub encoding: CategoryEncoding,
    /// Training categories kept as their own slot: sorted when tabship fits them; an importer
    /// keeps the source library's order, so that ordinal codes are the imported model's.
    pub categories: Vec<String>,
    /// Training categories rarer than `min_frequency`, sorted; they share the Other slot.
    pub other_categories: Vec<String>,
    /// Missing-value policy.
    pub missing: CategoricalMissing,
    /// Whether the column has a Missing slot (training saw missing values and `missing` is `slot`).
    pub missing_slot: bool,
    /// With `most_frequent`: the index in `categories` used for missing values.
    pub fill_category: Option<u32>,
}

impl CategoricalEncoderSpec {
    /// Number of model features this column produces.
    pub fn width(&self) -> usize {
        match self.encoding {
            CategoryEncoding::Ordinal => 1,
            CategoryEncoding::OneHot => {
                self.categories.len()
                    + usize::from(!self.other_categories.is_empty())
                    + usize::from(self.missing_slot)
            }
        }
    }

    /// The feature names this column produces, given the column's name.
    pub fn feature_names(&self, column: &str) -> Vec<String> {
        match self.encoding {
            CategoryEncoding::Ordinal => vec![column.to_owned()],
            CategoryEncoding::OneHot => {
                let mut names: Vec<String> = self
                    .categories
                    .iter()
                    .map(|c| format!("{column}={c}"))
                    .collect();
                if !self.other_categories.is_empty() {
                    names.push(format!("{column}=<other>"));
                }
                if self.missing_slot {
                    names.push(format!("{column}=<missing>"));
                }
                names
            }
        }
    }

    pub(crate) fn validate(&self, field: &str) -> Result<()> {
        let k = self.categories.len();
        if k > crate::artifact::limits::MAX_CATEGORIES
            || self.other_categories.len() > crate::artifact::limits::MAX_CATEGORIES
        {
            return Err(Error::field(
                format!("{field}.categories"),
                format!(
                    "more than {} categories",
                    crate::artifact::limits::MAX_CATEGORIES
                ),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for c in self.categories.iter().chain(&self.other_categories) {
            if c.is_empty() {
                return Err(Error::field(
                    format!("{field}.categories"),
                    "the empty string is the missing value, not a category",
                ));
            }
            if !seen.insert(c.as_str()) {
                return Err(Error::field(
                    format!("{field}.categories"),
                    format!("category `{c}` appears twice"),
                ));
            }
        }
        match (self.missing, self.fill_category) {
            (CategoricalMissing::MostFrequent, Some(i)) if (i as usize) < k => {}
            (CategoricalMissing::MostFrequent, _) => {
                return Err(Error::field(
                    format!("{field}.fill_category"),
                    "must index `categories` when missing is `most_frequent`",
                ));
            }
            (CategoricalMissing::Slot | CategoricalMissing::Nan, None) => {}
            (CategoricalMissing::Slot | CategoricalMissing::Nan, Some(_)) => {
                return Err(Error::field(
                    format!("{field}.fill_category"),
                    "must be absent when missing is `slot` or `nan`",
                ));
            }
        }
        if self.missing == CategoricalMissing::Nan && self.encoding != CategoryEncoding::Ordinal {
            return Err(Error::field(
                format!("{field}.missing"),
                "`nan` needs the ordinal encoding (a one-hot column has no NaN to give)",
            ));
        }
        if self.missing_slot && self.missing != CategoricalMissing::Slot {
            return Err(Error::field(
                format!("{field}.missing_slot"),
                "only a `slot` missing policy has a Missing slot",
            ));
        }
        if self.width() == 0 {
            return Err(Error::field(
                format!("{field}.categories"),
                "the column produces no feature",
            ));
        }
        Ok(())
    }
}

/// A categorical encoder ready for prediction: the spec plus a lookup table.
#[derive(Debug, Clone)]
pub struct CategoricalEncoder {
    spec: CategoricalEncoderSpec,
    lookup: FxHashMap<String, CategoryState>,
    other_slot: Option<u32>,
    missing_value: Option<u32>,
}

impl CategoricalEncoder {
    /// Validates the spec and builds the lookup table.
    pub fn new(spec: CategoricalEncoderSpec, field: &str) -> Result<Self> {
        spec.validate(field)?;
        let mut lookup = FxHashMap::default();
        for (i, c) in spec.categories.iter().enumerate() {
            lookup.insert(c.clone(), CategoryState::Known(i as u32));
        }
        for c in &spec.other_categories {
            lookup.insert(c.clone(), CategoryState::Other);
        }
        let k = spec.categories.len() as u32;
        let other_slot = (!spec.other_categories.is_empty()).then_some(k);
        let missing_value = match spec.missing {
            CategoricalMissing::MostFrequent => spec.fill_category,
            CategoricalMissing::Slot if spec.missing_slot => {
                Some(k + u32::from(other_slot.is_some()))
            }
            CategoricalMissing::Slot | CategoricalMissing::Nan => None,
        };
        Ok(CategoricalEncoder {
            spec,
            lookup,
            other_slot,
            missing_value,
        })
    }

    /// The fitted spec.
    pub fn spec(&self) -> &CategoricalEncoderSpec {
        &self.spec
    }

    /// The state of a text value (`""` is missing).
    #[inline]
    pub fn state_of_text(&self, text: &str) -> CategoryState {
        if text.is_empty() {
            return CategoryState::Missing;
        }
        self.lookup
            .get(text)
            .copied()
            .unwrap_or(CategoryState::Unknown)
    }

    /// The state of any input value.
    #[inline]
    pub fn state_of(&self, value: FieldValue<'_>) -> CategoryState {
        match value {
            FieldValue::Null => CategoryState::Missing,
            FieldValue::Number(x) if x.is_nan() => CategoryState::Missing,
            FieldValue::Number(x) => self.state_of_text(&number_as_category(x)),
            FieldValue::Text(s) => self.state_of_text(s),
        }
    }

    /// The one feature this column sets, relative to the column's first feature: `(slot, value)`.
    /// `None` means all of the column's features are zero.
    #[inline]
    pub fn encode(&self, state: CategoryState) -> Option<(u32, f64)> {
        match self.spec.encoding {
            CategoryEncoding::OneHot => {
                let slot = match state {
                    CategoryState::Known(i) => Some(i),
                    CategoryState::Other => self.other_slot,
                    CategoryState::Missing => self.missing_value,
                    CategoryState::Unknown => None,
                };
                slot.map(|s| (s, 1.0))
            }
            CategoryEncoding::Ordinal => {
                let k = self.spec.categories.len() as f64;
                let code = match state {
                    CategoryState::Known(i) => f64::from(i),
                    CategoryState::Other => k,
                    CategoryState::Missing => match self.spec.missing {
                        CategoricalMissing::MostFrequent => {
                            f64::from(self.spec.fill_category.unwrap_or(0))
                        }
                        CategoricalMissing::Slot => k + 1.0,
                        CategoricalMissing::Nan => f64::NAN,
                    },
                    CategoryState::Unknown => -1.0,
                };
                Some((0, code))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(encoding: CategoryEncoding) -> CategoricalEncoderSpec {
        CategoricalEncoderSpec {
            encoding,
            categories: vec!["a".into(), "b".into()],
            other_categories: vec!["rare".into()],
            missing: CategoricalMissing::Slot,
            missing_slot: true,
            fill_category: None,
        }
    }

    #[test]
    fn one_hot_slots() {
        let enc = CategoricalEncoder::new(spec(CategoryEncoding::OneHot), "c").unwrap();
        assert_eq!(enc.spec().width(), 4);
        assert_eq!(enc.encode(enc.state_of_text("b")), Some((1, 1.0)));
        assert_eq!(enc.state_of_text("rare"), CategoryState::Other);
        assert_eq!(enc.encode(CategoryState::Other), Some((2, 1.0)));
        assert_eq!(enc.encode(enc.state_of(FieldValue::Null)), Some((3, 1.0)));
        assert_eq!(enc.state_of_text("A"), CategoryState::Unknown);
        assert_eq!(enc.encode(CategoryState::Unknown), None);
    }

    #[test]
    fn ordinal_codes() {
        let enc = CategoricalEncoder::new(spec(CategoryEncoding::Ordinal), "c").unwrap();
        assert_eq!(enc.encode(CategoryState::Known(1)), Some((0, 1.0)));
        assert_eq!(enc.encode(CategoryState::Other), Some((0, 2.0)));
        assert_eq!(enc.encode(CategoryState::Missing), Some((0, 3.0)));
        assert_eq!(enc.encode(CategoryState::Unknown), Some((0, -1.0)));
    }

    #[test]
    fn ordinal_missing_values_can_be_nan() {
        let mut nan = spec(CategoryEncoding::Ordinal);
        nan.missing = CategoricalMissing::Nan;
        nan.missing_slot = false;
        let enc = CategoricalEncoder::new(nan.clone(), "c").unwrap();
        let (slot, code) = enc.encode(CategoryState::Missing).unwrap();
        assert!(slot == 0 && code.is_nan());
        assert_eq!(enc.encode(CategoryState::Unknown), Some((0, -1.0)));
        nan.encoding = CategoryEncoding::OneHot;
        assert!(CategoricalEncoder::new(nan, "c").is_err());
    }

    #[test]
    fn numbers_match_integer_categories() {
        let mut s = spec(CategoryEncoding::OneHot);
        s.categories = vec!["1".into(), "2".into()];
        let enc = CategoricalEncoder::new(s, "c").unwrap();
        assert_eq!(
            enc.state_of(FieldValue::Number(2.0)),
            CategoryState::Known(1)
        );
    }

    #[test]
    fn invalid_specs_are_refused() {
        let mut s = spec(CategoryEncoding::OneHot);
        s.categories.push("a".into());
        assert!(CategoricalEncoder::new(s, "c").is_err());
        let mut s = spec(CategoryEncoding::OneHot);
        s.missing = CategoricalMissing::MostFrequent;
        s.missing_slot = false;
        s.fill_category = Some(9);
        assert!(CategoricalEncoder::new(s, "c").is_err());
    }
}
