//! The closed-set training options (`--model`, `--task`, `--encoding`, `--categorical-missing`,
//! `--impute`): their kebab-case names, written once. The CLI's value parsers, Python's keywords
//! and [`TrainOptions`](crate::TrainOptions)'s deserialization all parse through
//! [`parse_choice`], so a value means the same everywhere and a bad one is refused with the same
//! message (the option, what is accepted, what arrived, and the closest name).

use tabship::Task;
use tabship::encode::{CategoricalMissing, CategoryEncoding, ImputeStrategy};

use crate::options::{ModelKind, TreeLearner};
use crate::{Error, Result};

/// A training option taking one name from a closed set.
pub trait Choice: Copy + Send + Sync + 'static {
    /// The option's name as the CLI spells it (`categorical-missing`).
    const OPTION: &'static str;
    /// Every value, in the order help texts list them.
    const ALL: &'static [Self];
    /// The value's kebab-case name.
    fn choice_name(self) -> &'static str;
}

/// Every accepted name of `T`, in [`Choice::ALL`] order.
pub fn names<T: Choice>() -> Vec<&'static str> {
    T::ALL.iter().map(|c| c.choice_name()).collect()
}

/// Parses `T` from its kebab-case name; an unknown name is an [`Error::InvalidOption`] naming
/// the option, the accepted names and the closest one.
pub fn parse_choice<T: Choice>(s: &str) -> Result<T> {
    if let Some(c) = T::ALL.iter().find(|c| c.choice_name() == s) {
        return Ok(*c);
    }
    let names = names::<T>();
    let owned: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    Err(Error::InvalidOption {
        option: T::OPTION,
        reason: format!(
            "unknown {} `{s}`; choose one of {}{}",
            T::OPTION,
            names.join(", "),
            crate::suggest::did_you_mean(s, &owned)
        ),
    })
}

/// `#[serde(deserialize_with = "choice::deserialize")]`: a [`Choice`] from its kebab-case name.
pub fn deserialize<'de, D, T>(deserializer: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Choice,
{
    let text = <String as serde::Deserialize>::deserialize(deserializer)?;
    parse_choice(&text).map_err(serde::de::Error::custom)
}

/// As [`deserialize`], for an optional value (`null` or absent is `None`).
pub fn deserialize_option<'de, D, T>(deserializer: D) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Choice,
{
    let text = <Option<String> as serde::Deserialize>::deserialize(deserializer)?;
    text.map(|t| parse_choice(&t).map_err(serde::de::Error::custom))
        .transpose()
}

/// `#[serde(deserialize_with = "choice::from_text")]`: a value written as its CLI text (`5`,
/// `0.01`, `sqrt`, `balanced`, `f1`), parsed by its [`FromStr`](std::str::FromStr); a JSON
/// number is read as its text.
pub fn from_text<'de, D, T>(deserializer: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr<Err = Error>,
{
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Int(u64),
        Float(f64),
    }
    let text = match <Raw as serde::Deserialize>::deserialize(deserializer)? {
        Raw::Text(t) => t,
        Raw::Int(i) => i.to_string(),
        Raw::Float(f) => f.to_string(),
    };
    text.parse().map_err(serde::de::Error::custom)
}

/// As [`from_text`], for an optional value (`null` or absent is `None`).
pub fn from_text_option<'de, D, T>(deserializer: D) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr<Err = Error>,
{
    #[derive(serde::Deserialize)]
    struct Wrap<T: std::str::FromStr<Err = Error>>(#[serde(deserialize_with = "from_text")] T);
    Ok(<Option<Wrap<T>> as serde::Deserialize>::deserialize(deserializer)?.map(|w| w.0))
}

impl Choice for ModelKind {
    const OPTION: &'static str = "model";
    const ALL: &'static [Self] = &ModelKind::ALL;
    fn choice_name(self) -> &'static str {
        self.name()
    }
}

impl Choice for TreeLearner {
    const OPTION: &'static str = "tree-learner";
    const ALL: &'static [Self] = &[TreeLearner::Hist, TreeLearner::Smartcore];
    fn choice_name(self) -> &'static str {
        self.name()
    }
}

impl Choice for Task {
    const OPTION: &'static str = "task";
    const ALL: &'static [Self] = &[Task::Classification, Task::Regression];
    fn choice_name(self) -> &'static str {
        self.name()
    }
}

impl Choice for CategoryEncoding {
    const OPTION: &'static str = "encoding";
    const ALL: &'static [Self] = &[CategoryEncoding::OneHot, CategoryEncoding::Ordinal];
    fn choice_name(self) -> &'static str {
        match self {
            CategoryEncoding::OneHot => "one-hot",
            CategoryEncoding::Ordinal => "ordinal",
        }
    }
}

impl Choice for CategoricalMissing {
    const OPTION: &'static str = "categorical-missing";
    const ALL: &'static [Self] = &[CategoricalMissing::Slot, CategoricalMissing::MostFrequent];
    fn choice_name(self) -> &'static str {
        match self {
            CategoricalMissing::Slot => "slot",
            CategoricalMissing::MostFrequent => "most-frequent",
            // Imported models only (not in `ALL`: the trainer's models need numbers).
            CategoricalMissing::Nan => "nan",
        }
    }
}

impl Choice for ImputeStrategy {
    const OPTION: &'static str = "impute";
    const ALL: &'static [Self] = &[
        ImputeStrategy::Median,
        ImputeStrategy::Mean,
        ImputeStrategy::Constant,
        ImputeStrategy::Nan,
    ];
    fn choice_name(self) -> &'static str {
        match self {
            ImputeStrategy::Median => "median",
            ImputeStrategy::Mean => "mean",
            ImputeStrategy::Constant => "constant",
            // Missing numbers reach the model as NaN: histogram trees only (`validate`).
            ImputeStrategy::Nan => "nan",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name parses back to its value, so the lists cannot drift from the names.
    #[test]
    fn names_round_trip() {
        fn check<T: Choice + PartialEq + std::fmt::Debug>() {
            for c in T::ALL {
                assert_eq!(parse_choice::<T>(c.choice_name()).unwrap(), *c);
            }
        }
        check::<ModelKind>();
        check::<Task>();
        check::<TreeLearner>();
        check::<CategoryEncoding>();
        check::<CategoricalMissing>();
        check::<ImputeStrategy>();
    }

    #[test]
    fn a_bad_name_names_the_option_the_choices_and_the_closest() {
        let e = parse_choice::<CategoricalMissing>("most-frequnt").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid option `categorical-missing`: unknown categorical-missing `most-frequnt`; \
             choose one of slot, most-frequent; did you mean `most-frequent`?"
        );
        let e = parse_choice::<ModelKind>("boosting").unwrap_err();
        assert!(
            e.to_string()
                .contains("unknown model `boosting`; choose one of logistic")
        );
    }

    #[test]
    fn deserializes_kebab_case() {
        #[derive(serde::Deserialize)]
        struct Wrap {
            #[serde(deserialize_with = "deserialize")]
            e: CategoryEncoding,
        }
        let w: Wrap = serde_json::from_str(r#"{"e": "one-hot"}"#).unwrap();
        assert_eq!(w.e, CategoryEncoding::OneHot);
        assert!(serde_json::from_str::<Wrap>(r#"{"e": "one_hot"}"#).is_err());
    }
}
