//! Request bodies: one record by field name, `{"instances": [...]}`, or `{"features": [...]}`
//! positional in schema order; validated against the schema before prediction so that every
//! offending field is reported at once.

use serde_json::{Map, Value as Json};
use tabship::{ColumnKind, FieldValue, Record, Schema};

use crate::error::{ApiError, FieldError};

/// Field errors reported at most per request.
pub(crate) const MAX_FIELD_ERRORS: usize = 50;

/// One input row borrowed from the request JSON.
#[derive(Debug, Clone, Copy)]
pub struct JsonRow<'a> {
    values: RowValues<'a>,
    /// Whether an absent field reads as a missing value (instead of an error).
    absent_is_missing: bool,
}

/// How the row's values are laid out.
#[derive(Debug, Clone, Copy)]
enum RowValues<'a> {
    /// `{"column": value, ...}`.
    Named(&'a Map<String, Json>),
    /// `[value, ...]` in schema order.
    Positional(&'a [Json], &'a Schema),
}

impl Record for JsonRow<'_> {
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        let value = match self.values {
            RowValues::Named(map) => map.get(name),
            RowValues::Positional(values, schema) => values.get(schema.position(name)?),
        };
        match value {
            Some(v) => Some(field_value(v)),
            None if self.absent_is_missing => Some(FieldValue::Null),
            None => None,
        }
    }
}

impl<'a> JsonRow<'a> {
    /// The value of schema column `index` (`name`).
    fn get(&self, index: usize, name: &str) -> Option<&'a Json> {
        match self.values {
            RowValues::Named(map) => map.get(name),
            RowValues::Positional(values, _) => values.get(index),
        }
    }

    /// The row's value for `name`, when it was sent (`None` also for an absent field read as
    /// missing).
    pub(crate) fn sent(&self, name: &str) -> Option<&'a Json> {
        match self.values {
            RowValues::Named(map) => map.get(name),
            RowValues::Positional(values, schema) => values.get(schema.position(name)?),
        }
    }
}

/// How a request's rows are read.
#[derive(Debug, Clone, Copy, Default)]
pub struct ParseOptions {
    /// Absent fields are missing values (`--absent-as-missing`, `?absent_as_missing=true`)
    /// instead of a 400.
    pub absent_is_missing: bool,
}

/// Converts a validated JSON value (number, string or null).
pub(crate) fn field_value(value: &Json) -> FieldValue<'_> {
    match value {
        Json::Number(n) => n.as_f64().map_or(FieldValue::Null, FieldValue::Number),
        Json::String(s) => FieldValue::Text(s),
        _ => FieldValue::Null,
    }
}

/// The rows of a request and whether it asked for one row (`prediction`) or a list.
#[derive(Debug)]
pub struct Rows<'a> {
    /// The rows.
    pub rows: Vec<JsonRow<'a>>,
    /// True for a single record or a single `features` row.
    pub single: bool,
}

/// Reads the rows out of a request body and checks them against `schema`.
pub fn parse<'a>(
    body: &'a Json,
    schema: &'a Schema,
    options: ParseOptions,
) -> Result<Rows<'a>, ApiError> {
    let row = |values| JsonRow {
        values,
        absent_is_missing: options.absent_is_missing,
    };
    let records = |items: &'a [Json], field: &str| {
        items
            .iter()
            .map(|item| match item {
                Json::Object(map) => Ok(row(RowValues::Named(map))),
                Json::Array(values) => Ok(row(RowValues::Positional(values, schema))),
                other => Err(shape_error(
                    field,
                    "records (objects) or lists of values",
                    other,
                )),
            })
            .collect::<Result<Vec<_>, _>>()
    };
    let object = match body {
        Json::Object(object) => object,
        // A top-level list of records, as pandas `to_json(orient="records")` writes it.
        Json::Array(items) => {
            let rows = Rows {
                rows: records(items, "body")?,
                single: false,
            };
            validate(&rows, schema, options)?;
            return Ok(rows);
        }
        _ => {
            return Err(shape_error(
                "body",
                "a JSON object (a record, {\"instances\": [...]} or {\"features\": [...]}) or a list of records",
                body,
            ));
        }
    };
    let rows = if let Some(instances) = object
        .get("instances")
        .filter(|_| schema.position("instances").is_none())
    {
        let Json::Array(items) = instances else {
            return Err(shape_error("instances", "a list of records", instances));
        };
        Rows {
            rows: records(items, "instances")?,
            single: false,
        }
    } else if let Some(features) = object
        .get("features")
        .filter(|_| schema.position("features").is_none())
    {
        let Json::Array(items) = features else {
            return Err(shape_error(
                "features",
                "a list of values in schema order",
                features,
            ));
        };
        if items.iter().all(|v| matches!(v, Json::Array(_))) && !items.is_empty() {
            let rows = items
                .iter()
                .filter_map(|v| v.as_array().map(|a| row(RowValues::Positional(a, schema))))
                .collect();
            Rows {
                rows,
                single: false,
            }
        } else {
            Rows {
                rows: vec![row(RowValues::Positional(items, schema))],
                single: true,
            }
        }
    } else {
        Rows {
            rows: vec![row(RowValues::Named(object))],
            single: true,
        }
    };
    validate(&rows, schema, options)?;
    Ok(rows)
}

/// Checks every row; the error lists the first [`MAX_FIELD_ERRORS`] problems and counts them all.
fn validate(rows: &Rows<'_>, schema: &Schema, options: ParseOptions) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    let mut total = 0usize;
    let mut push = |error: FieldError| {
        total += 1;
        if errors.len() < MAX_FIELD_ERRORS {
            errors.push(error);
        }
    };
    let index_of = |i: usize| (!rows.single).then_some(i);
    for (r, row) in rows.rows.iter().enumerate() {
        if let RowValues::Positional(values, _) = row.values {
            if values.len() != schema.len() {
                push(FieldError::new(
                    "features",
                    format!(
                        "{} values in schema order ({})",
                        schema.len(),
                        schema.names().collect::<Vec<_>>().join(", ")
                    ),
                    format!("{} values", values.len()),
                    index_of(r),
                ));
                continue;
            }
        }
        for (c, column) in schema.columns.iter().enumerate() {
            let problem = match row.get(c, &column.name) {
                None if options.absent_is_missing => None,
                None => Some("nothing".to_owned()),
                Some(value) => check_value(column.kind, value, &schema.na_values),
            };
            if let Some(received) = problem {
                push(FieldError::new(
                    column.name.clone(),
                    column.kind.expected(),
                    received,
                    index_of(r),
                ));
            }
        }
    }
    if rows.rows.is_empty() {
        push(FieldError::new(
            "instances",
            "at least one row",
            "an empty list",
            None,
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid_fields_of(errors, total))
    }
}

/// `None` when the value fits the column, else a description of what arrived.
fn check_value(kind: ColumnKind, value: &Json, na: &tabship::NaValues) -> Option<String> {
    match (kind, value) {
        (_, Json::Null) => None,
        (ColumnKind::Numeric, Json::Number(n)) => n.as_f64().is_none().then(|| format!("`{n}`")),
        // The model's policy for numbers sent as text (blank, NaN and its NA spellings are
        // missing, infinity is refused), so the 400 lists exactly what prediction would refuse.
        (ColumnKind::Numeric, Json::String(s)) => {
            na.parse_number("", s).is_err().then(|| tabship::quoted(s))
        }
        (ColumnKind::Categorical, Json::String(_) | Json::Number(_)) => None,
        (_, other) => Some(format!(
            "{} {}",
            json_kind(other),
            tabship::quoted(&other.to_string())
        )),
    }
}

fn shape_error(field: &str, expected: &str, got: &Json) -> ApiError {
    ApiError::invalid_field(field, expected, json_kind(got))
}

/// A short description of a JSON value's type.
pub(crate) fn json_kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tabship::ColumnSpec;

    fn schema() -> Schema {
        Schema::new(vec![
            ColumnSpec {
                name: "age".into(),
                kind: ColumnKind::Numeric,
                nullable: false,
            },
            ColumnSpec {
                name: "city".into(),
                kind: ColumnKind::Categorical,
                nullable: false,
            },
        ])
        .expect("schema")
    }

    #[test]
    fn three_shapes() {
        let s = schema();
        let one = serde_json::json!({"age": 3, "city": "x"});
        let rows = parse(&one, &s, ParseOptions::default()).expect("record");
        assert!(rows.single);
        assert_eq!(rows.rows[0].field("age"), Some(FieldValue::Number(3.0)));
        let many = serde_json::json!({"instances": [{"age": 3, "city": "x"}, [4, "y"]]});
        let rows = parse(&many, &s, ParseOptions::default()).expect("instances");
        assert_eq!(rows.rows.len(), 2);
        assert_eq!(rows.rows[1].field("city"), Some(FieldValue::Text("y")));
        let pos = serde_json::json!({"features": [5, "z"]});
        assert!(
            parse(&pos, &s, ParseOptions::default())
                .expect("features")
                .single
        );
        let pos = serde_json::json!({"features": [[5, "z"], [6, null]]});
        assert_eq!(
            parse(&pos, &s, ParseOptions::default())
                .expect("features rows")
                .rows
                .len(),
            2
        );
    }

    #[test]
    fn every_bad_field_is_listed() {
        let s = schema();
        let bad = serde_json::json!({"age": "forty", "town": "x"});
        let e = parse(&bad, &s, ParseOptions::default()).expect_err("bad");
        assert_eq!(e.fields.len(), 2);
        assert_eq!(e.fields[0].field, "age");
        assert_eq!(e.fields[0].received, "`forty`");
        assert_eq!(e.fields[1].field, "city");
        assert_eq!(e.fields[1].received, "nothing");
        let bad = serde_json::json!({"features": [1]});
        let e = parse(&bad, &s, ParseOptions::default()).expect_err("short");
        assert_eq!(e.fields[0].received, "1 values");
        let bad = serde_json::json!({"age": true, "city": ["a"]});
        let e = parse(&bad, &s, ParseOptions::default()).expect_err("types");
        assert_eq!(e.fields[0].received, "a boolean `true`");
        // Numbers as text follow the core's policy: padded and NaN pass, infinity does not.
        assert!(
            parse(
                &serde_json::json!({"age": " 39 ", "city": "x"}),
                &s,
                ParseOptions::default()
            )
            .is_ok()
        );
        assert!(
            parse(
                &serde_json::json!({"age": "NaN", "city": "x"}),
                &s,
                ParseOptions::default()
            )
            .is_ok()
        );
        let e = parse(
            &serde_json::json!({"age": "-inf", "city": "x"}),
            &s,
            ParseOptions::default(),
        )
        .expect_err("inf");
        assert_eq!(e.fields[0].received, "`-inf`");
        // The usual NA spellings are missing, and so are the model's own NA values.
        for na in ["NA", "null", "NULL", "None", "?", "-"] {
            assert!(
                parse(
                    &serde_json::json!({"age": na, "city": "x"}),
                    &s,
                    ParseOptions::default()
                )
                .is_ok()
            );
        }
        assert!(
            parse(
                &serde_json::json!({"age": "n/d", "city": "x"}),
                &s,
                ParseOptions::default()
            )
            .is_err()
        );
        let own = s
            .clone()
            .with_na_values(tabship::NaValues::new(true, ["n/d"]))
            .expect("policy");
        assert!(
            parse(
                &serde_json::json!({"age": "n/d", "city": "x"}),
                &own,
                ParseOptions::default()
            )
            .is_ok()
        );
        assert!(parse(&serde_json::json!([1, 2]), &s, ParseOptions::default()).is_err());
        assert!(
            parse(
                &serde_json::json!({"instances": []}),
                &s,
                ParseOptions::default()
            )
            .is_err()
        );
    }
}
