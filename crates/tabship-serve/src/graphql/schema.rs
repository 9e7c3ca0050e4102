//! The GraphQL schema, built at run time from the registry: one typed input object per model
//! (`<Model>Input`, numbers as `Float`, categories as `String` with the allowed values in the
//! description; every field nullable, `null` being a missing value as on `/predict`), a one-of `PredictInput` choosing the model's input, and the query fields.

use std::collections::BTreeMap;

use async_graphql::dynamic::{InputObject, InputValue, Scalar, Schema, SchemaError, TypeRef};
use tabship::ColumnKind;

use super::resolvers;
use crate::registry::Registry;

/// Deepest query accepted (the standard introspection query nests 13 levels).
pub(crate) const MAX_DEPTH: usize = 16;
/// Most fields one query may resolve (the introspection query of a few models is ~200).
pub(crate) const MAX_COMPLEXITY: usize = 2000;

/// How one model's GraphQL names map back to its columns.
#[derive(Debug, Clone)]
pub(crate) struct ModelNames {
    /// The model's field in `PredictInput`.
    pub(crate) field: String,
    /// GraphQL field name -> column name.
    pub(crate) columns: BTreeMap<String, String>,
}

/// The name mapping of every exposed model, and why the others are not exposed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Names {
    /// By model name.
    pub(crate) models: BTreeMap<String, ModelNames>,
    /// Model name -> why it has no GraphQL input (a name collision).
    pub(crate) refused: BTreeMap<String, String>,
}

/// A GraphQL name for `text`: characters outside `[A-Za-z0-9_]` become `_`, and a leading
/// digit gets a `_` before it (`education-num` -> `education_num`, `2nd` -> `_2nd`).
pub(crate) fn sanitize(text: &str) -> String {
    let mut name: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name
}

/// `adult_income` -> `AdultIncome` (a type name prefix).
fn pascal(name: &str) -> String {
    let mut out = String::new();
    for part in name.split('_').filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'M');
    }
    out
}

/// Names starting with `__` are reserved for introspection.
fn reserved(name: &str) -> bool {
    name.starts_with("__")
}

/// Builds the schema of `registry`. A model whose names collide (two columns, or two models,
/// with one GraphQL name) is left out of `PredictInput`, with the reason kept in [`Names`].
pub(crate) fn build(registry: &Registry) -> Result<Schema, SchemaError> {
    let mut names = Names::default();
    let mut inputs = Vec::new();
    let mut predict_input = InputObject::new("PredictInput")
        .description("The input of one model: set exactly the field of the model named in `model`.")
        .oneof();
    let mut taken_types: BTreeMap<String, String> = BTreeMap::new();
    for (model, entry) in &registry.models {
        let field = sanitize(model);
        let type_name = format!("{}Input", pascal(&field));
        if reserved(&field) {
            names.refused.insert(
                model.clone(),
                format!("model name `{model}` maps to the reserved GraphQL name `{field}`"),
            );
            continue;
        }
        if let Some(other) = taken_types.get(&type_name) {
            names.refused.insert(model.clone(), format!("models `{other}` and `{model}` both map to the GraphQL type `{type_name}`; rename one"));
            continue;
        }
        let mut object = InputObject::new(&type_name).description(format!(
            "One row for model `{model}` (the current version's columns)."
        ));
        let mut columns = BTreeMap::new();
        let mut refusal = None;
        for column in entry.current_model().pipeline.column_summaries() {
            let gql = sanitize(&column.name);
            if reserved(&gql) {
                refusal = Some(format!(
                    "column `{}` maps to the reserved GraphQL name `{gql}`",
                    column.name
                ));
                break;
            }
            if let Some(other) = columns.get(&gql) {
                refusal = Some(format!(
                    "columns `{other}` and `{}` both map to the GraphQL field `{gql}`",
                    column.name
                ));
                break;
            }
            let base = match column.kind {
                ColumnKind::Numeric => TypeRef::FLOAT,
                ColumnKind::Categorical => TypeRef::STRING,
            };
            // Nullable as on `/predict`, where `null` is a missing value (imputed) in every
            // column; an absent field is refused by the data plane as on `/predict` (unless
            // `--absent-as-missing`), with its path.
            let ty = TypeRef::named(base);
            let mut description = format!("column `{}`", column.name);
            if column.kind == ColumnKind::Categorical {
                description.push_str(&format!(
                    "; one of: {}",
                    column.known_categories().join(", ")
                ));
            }
            description.push_str("; null: missing");
            if column.nullable {
                description.push_str(" (seen in training)");
            }
            object = object.field(InputValue::new(&gql, ty).description(description));
            columns.insert(gql, column.name.clone());
        }
        if let Some(why) = refusal {
            names.refused.insert(
                model.clone(),
                format!("model `{model}`: {why}; rename the column"),
            );
            continue;
        }
        taken_types.insert(type_name.clone(), model.clone());
        predict_input = predict_input.field(
            InputValue::new(&field, TypeRef::named(&type_name))
                .description(format!("model `{model}`")),
        );
        names
            .models
            .insert(model.clone(), ModelNames { field, columns });
        inputs.push(object);
    }
    if names.models.is_empty() {
        // A one-of input needs a field: a placeholder that names the reason.
        predict_input = predict_input.field(
            InputValue::new("none", TypeRef::named(TypeRef::BOOLEAN))
                .description("no model is exposed over GraphQL"),
        );
    }
    let query = resolvers::query();
    let mut builder = Schema::build(query.type_name(), None, None)
        .register(Scalar::new("JSON").description("Any JSON value (the REST answers' shapes)"))
        .register(resolvers::model_type())
        .register(predict_input)
        .register(query)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .data(names);
    for object in inputs {
        builder = builder.register(object);
    }
    builder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitized() {
        assert_eq!(sanitize("education-num"), "education_num");
        assert_eq!(sanitize("2nd"), "_2nd");
        assert_eq!(sanitize("a b.c"), "a_b_c");
        assert_eq!(pascal("adult_income"), "AdultIncome");
        assert_eq!(pascal("_2nd"), "M2nd");
    }
}
