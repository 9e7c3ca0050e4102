//! Reading fields out of a parsed XGBoost model document (JSON or UBJSON alike) with errors that
//! name the field's path, what was expected and what was found.

use serde_json::Value;

use crate::{Error, Result};

/// A value and its path in the document.
#[derive(Clone)]
pub(super) struct Field<'a> {
    pub(super) value: &'a Value,
    pub(super) path: String,
}

/// What a value is, for error messages (short: never the whole value).
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("`{n}`"),
        Value::String(s) if s.len() <= 40 => format!("`{s:?}`"),
        Value::String(_) => "a long string".into(),
        Value::Array(a) => format!("an array of {}", a.len()),
        Value::Object(_) => "an object".into(),
    }
}

impl<'a> Field<'a> {
    /// The document's root, named `path`.
    pub(super) fn root(value: &'a Value) -> Field<'a> {
        Field {
            value,
            path: String::new(),
        }
    }

    pub(super) fn error(&self, expected: &str) -> Error {
        Error::field(self.path.clone(), expected, describe(self.value))
    }

    /// Member `key` of this object.
    pub(super) fn get(&self, key: &str) -> Result<Field<'a>> {
        let path = if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        };
        match self.value {
            Value::Object(map) => match map.get(key) {
                Some(value) => Ok(Field { value, path }),
                None => Err(Error::field(
                    path,
                    "a field",
                    "nothing (the field is missing)",
                )),
            },
            _ => Err(self.error("an object")),
        }
    }

    /// Member `key`, or `None` when this object has no such member.
    pub(super) fn get_opt(&self, key: &str) -> Result<Option<Field<'a>>> {
        match self.value {
            Value::Object(map) if !map.contains_key(key) => Ok(None),
            _ => self.get(key).map(Some),
        }
    }

    /// Element `i` of this array.
    pub(super) fn at(&self, i: usize) -> Result<Field<'a>> {
        let items = self.array()?;
        items
            .get(i)
            .map(|value| Field {
                value,
                path: format!("{}[{i}]", self.path),
            })
            .ok_or_else(|| self.error(&format!("at least {} elements", i + 1)))
    }

    pub(super) fn str(&self) -> Result<&'a str> {
        self.value.as_str().ok_or_else(|| self.error("a string"))
    }

    pub(super) fn array(&self) -> Result<&'a [Value]> {
        self.value
            .as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| self.error("an array"))
    }

    /// An array of exactly `n` elements.
    pub(super) fn array_of(&self, n: usize) -> Result<&'a [Value]> {
        let items = self.array()?;
        if items.len() != n {
            return Err(self.error(&format!("an array of {n}")));
        }
        Ok(items)
    }

    /// An integer written as a number or, as XGBoost writes its parameters, as a string.
    pub(super) fn int(&self) -> Result<i64> {
        match self.value {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or_else(|| self.error("an integer"))
    }

    /// Element `i` of array `items` (this field's), as an integer (booleans as 0 and 1).
    pub(super) fn int_at(&self, items: &[Value], i: usize) -> Result<i64> {
        items[i]
            .as_i64()
            .or_else(|| items[i].as_bool().map(i64::from))
            .ok_or_else(|| {
                Error::field(
                    format!("{}[{i}]", self.path),
                    "an integer",
                    describe(&items[i]),
                )
            })
    }

    /// Element `i` of array `items` (this field's), as the `f32` XGBoost stored: a UBJSON `f32`
    /// widens exactly, and a JSON decimal is the shortest text that reads back as that `f32`.
    pub(super) fn f32_at(&self, items: &[Value], i: usize) -> Result<f32> {
        items[i]
            .as_f64()
            .map(|x| x as f32)
            .filter(|x| x.is_finite())
            .ok_or_else(|| {
                Error::field(
                    format!("{}[{i}]", self.path),
                    "a finite float32 number",
                    describe(&items[i]),
                )
            })
    }
}
