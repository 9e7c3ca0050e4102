//! Errors found before any resolver runs (parsing, validation, limits) carry only a message
//! and a location; this gives them the `extensions` the resolvers' errors have: a `code`, and
//! for an invalid argument its field with the path inside the argument
//! (`["input", "adult", "age"]`), what was expected and what arrived. Resolver errors get
//! their response `path` here.

use async_graphql::{ErrorExtensionValues, PathSegment, ServerError, Value};

use super::resolvers::PATH_KEY;
use serde_json::json;

/// Adds `extensions` to every error that has none.
pub(crate) fn annotate(errors: &mut [ServerError]) {
    for error in errors.iter_mut() {
        let Some(ext) = error.extensions.as_mut() else {
            continue;
        };
        if let Some(Value::List(path)) = ext.get(PATH_KEY).cloned() {
            ext.unset(PATH_KEY);
            error.path = path
                .into_iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(PathSegment::Field(s)),
                    _ => None,
                })
                .collect();
        }
    }
    for error in errors.iter_mut().filter(|e| e.extensions.is_none()) {
        let mut ext = ErrorExtensionValues::default();
        let code = if let Some((path, expected, received)) = argument_field(&error.message) {
            let field = path.last().cloned().unwrap_or_default();
            let fields =
                json!([{"field": field, "expected": expected, "received": received, "path": path}]);
            ext.set("fields", Value::from_json(fields).unwrap_or(Value::Null));
            "invalid_input"
        } else if error.message.contains("nested too deep") {
            "query_too_deep"
        } else if error.message.contains("too complex") {
            "query_too_complex"
        } else {
            "invalid_query"
        };
        ext.set("code", code);
        ext.set("status", 400);
        error.extensions = Some(ext);
    }
}

/// The text between the first pair of double quotes after `after`, and the rest.
fn quoted<'a>(text: &'a str, after: &str) -> Option<(&'a str, &'a str)> {
    let rest = &text[text.find(after)? + after.len()..];
    let rest = rest.strip_prefix('"')?;
    let end = rest.find('"')?;
    Some((&rest[..end], &rest[end + 1..]))
}

/// async-graphql's two messages for a bad argument value: `Invalid value for argument
/// "input.adult.age", expected type "Float"` and `Invalid value for argument "input.adult",
/// field "age" of type "Float!" is required but not provided`.
fn argument_field(message: &str) -> Option<(Vec<String>, String, String)> {
    let (argument, rest) = quoted(message, "Invalid value for argument ")?;
    let mut path: Vec<String> = argument.split('.').map(str::to_owned).collect();
    if let Some((field, rest)) = quoted(rest, ", field ") {
        let (ty, _) = quoted(rest, " of type ")?;
        path.push(field.to_owned());
        return Some((path, ty.to_owned(), "nothing".to_owned()));
    }
    let (ty, _) = quoted(rest, ", expected type ")?;
    Some((path, ty.to_owned(), "a value of another type".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_paths_are_read_from_the_messages() {
        assert_eq!(
            argument_field(
                "Invalid value for argument \"input.adult.age\", expected type \"Float\""
            ),
            Some((
                vec!["input".into(), "adult".into(), "age".into()],
                "Float".into(),
                "a value of another type".into()
            ))
        );
        assert_eq!(
            argument_field(
                "Invalid value for argument \"input.adult\", field \"age\" of type \"Float!\" is required but not provided"
            ),
            Some((
                vec!["input".into(), "adult".into(), "age".into()],
                "Float!".into(),
                "nothing".into()
            ))
        );
        assert_eq!(argument_field("Query is nested too deep."), None);
    }
}
