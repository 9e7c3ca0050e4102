//! Input values and records: one row of named values.
//!
//! Missing-value policy: `Null`, an empty string and `NaN` all mean *missing*, and so do the
//! texts of the pipeline's [`NaValues`](crate::NaValues) (by default `NA`, `null`, `None`, `?`...
//! in numeric columns only). Missing numeric
//! values are imputed; missing categories go to the Missing slot (or are imputed). Infinity is
//! rejected with an error naming the column, because no imputation or scaling can make sense of it.
//! A column absent from the record is an error; a column the schema does not know is ignored.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

/// A borrowed input value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue<'a> {
    /// Missing.
    Null,
    /// A number. `NaN` counts as missing.
    Number(f64),
    /// Text. An empty string counts as missing. Numeric columns parse it as a number.
    Text(&'a str),
}

/// An owned input value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Missing.
    Null,
    /// A number. `NaN` counts as missing.
    Number(f64),
    /// Text. An empty string counts as missing.
    Text(String),
}

impl Value {
    /// Borrows the value.
    pub fn as_field(&self) -> FieldValue<'_> {
        match self {
            Value::Null => FieldValue::Null,
            Value::Number(x) => FieldValue::Number(*x),
            Value::Text(s) => FieldValue::Text(s),
        }
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::Number(x)
    }
}
impl From<i64> for Value {
    fn from(x: i64) -> Self {
        Value::Number(x as f64)
    }
}
impl From<i32> for Value {
    fn from(x: i32) -> Self {
        Value::Number(f64::from(x))
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// One input row, looked up by column name.
pub trait Record {
    /// The value of column `name`, or `None` when the record has no such column.
    fn field(&self, name: &str) -> Option<FieldValue<'_>>;
}

impl<S: BuildHasher> Record for HashMap<String, Value, S> {
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        self.get(name).map(Value::as_field)
    }
}

impl<S: BuildHasher> Record for HashMap<&str, Value, S> {
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        self.get(name).map(Value::as_field)
    }
}

impl Record for BTreeMap<String, Value> {
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        self.get(name).map(Value::as_field)
    }
}

impl<K: AsRef<str>> Record for [(K, Value)] {
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        self.iter()
            .find(|(k, _)| k.as_ref() == name)
            .map(|(_, v)| v.as_field())
    }
}

impl<K: AsRef<str>> Record for Vec<(K, Value)> {
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        self.as_slice().field(name)
    }
}

impl<K: AsRef<str>, const N: usize> Record for [(K, Value); N] {
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        self.as_slice().field(name)
    }
}

/// Formats a number as the text a categorical column compares against: integers without a
/// decimal point (`3`, not `3.0`), other values in Rust's shortest round-trip form (`0.1`).
pub fn number_as_category(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Parses text as a number for a numeric column under the default NA policy, as every input
/// path does (`" 39 "` is 39). `Ok(None)` is missing (empty, `NaN`, and the spellings of
/// [`DEFAULT_NA_VALUES`](crate::DEFAULT_NA_VALUES) such as `NA` or `null`); infinity and
/// non-numbers are [`Error::InvalidValue`](crate::Error::InvalidValue) errors naming `column` and
/// the text. A pipeline parses with its own policy, [`Schema::na_values`](crate::Schema).
pub fn parse_number(column: &str, text: &str) -> crate::Result<Option<f64>> {
    crate::NaValues::default().parse_number(column, text)
}

pub(crate) fn non_finite(column: &str, received: impl ToString) -> crate::Error {
    crate::Error::non_finite(column, received)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_like_category_text() {
        assert_eq!(number_as_category(3.0), "3");
        assert_eq!(number_as_category(-12.0), "-12");
        assert_eq!(number_as_category(0.1), "0.1");
        assert_eq!(number_as_category(2.5), "2.5");
    }

    #[test]
    fn parse_number_policy() {
        assert_eq!(parse_number("a", " 4.5 ").unwrap(), Some(4.5));
        assert_eq!(parse_number("a", "").unwrap(), None);
        assert_eq!(parse_number("a", "NaN").unwrap(), None);
        assert_eq!(parse_number("a", "NA").unwrap(), None);
        let err = parse_number("age", "forty").unwrap_err().to_string();
        assert_eq!(err, "column `age`: expected a number, got `forty`");
        assert!(parse_number("a", "inf").is_err());
    }

    #[test]
    fn records_look_up_by_name() {
        let rec = [("a", Value::from(1.0)), ("b", Value::from("x"))];
        assert_eq!(rec.field("b"), Some(FieldValue::Text("x")));
        assert_eq!(rec.field("c"), None);
        let map: HashMap<String, Value> = [("a".to_owned(), Value::Null)].into_iter().collect();
        assert_eq!(map.field("a"), Some(FieldValue::Null));
    }
}
