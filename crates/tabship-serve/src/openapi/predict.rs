//! The prediction operations: one per model with its record schema (field names, types,
//! category enums, an example from the training data), and the templated routes.

use axum::http::Method;
use serde_json::{Map, Value, json};
use tabship::Task;
use tabship::encode::ColumnEncoderSpec;

use super::{Access, Op, Operations, path_param};
use crate::auth::Scope;
use crate::models::example_record;
use crate::registry::{LoadedModel, Registry};
use crate::state::AppState;

/// The prediction operations, and a `{model}.record` schema per model.
pub(super) fn operations(
    state: &AppState,
    registry: &Registry,
    ops: &mut Operations,
    schemas: &mut Map<String, Value>,
) {
    let default = registry
        .default_model
        .as_ref()
        .and_then(|d| registry.models.get(d))
        .map(|e| e.current_model().as_ref());
    let summary = match default {
        Some(m) => format!("Predict with the default model `{}`", m.name),
        None => "Predict with the default model".to_owned(),
    };
    ops.push((
        "/predict".to_owned(),
        Method::POST,
        operation(default, summary),
    ));
    ops.push((
        "/models/{name}/predict".to_owned(),
        Method::POST,
        operation(
            None,
            "Predict with a model (current version, or the A/B split)".to_owned(),
        )
        .param(path_param("name", "model name")),
    ));
    ops.push((
        "/models/{name}/versions/{version}/predict".to_owned(),
        Method::POST,
        operation(
            None,
            "Predict with one version (or alias) of a model".to_owned(),
        )
        .param(path_param("name", "model name"))
        .param(path_param("version", "a version or alias")),
    ));
    for (name, entry) in &registry.models {
        let m = entry.current_model();
        let absent = state.options.absent_as_missing.applies(name);
        schemas.insert(format!("{name}.record"), column_schema(m, absent));
        ops.push((
            format!("/models/{name}/predict"),
            Method::POST,
            operation(
                Some(m),
                format!("Predict with `{name}` (current version, or the A/B split)"),
            ),
        ));
        ops.push((
            format!("/models/{name}/versions/{{version}}/predict"),
            Method::POST,
            operation(
                Some(m),
                format!("Predict with one version (or alias) of `{name}`"),
            )
            .param(path_param("version", "a version or alias")),
        ));
    }
}

fn column_schema(model: &LoadedModel, absent_is_missing: bool) -> Value {
    let mut properties = Map::new();
    for column in model.pipeline.column_summaries() {
        let example = json!(column.example);
        let schema = match column.encoder {
            ColumnEncoderSpec::Numeric(_) => json!({
                "type": "number",
                "nullable": true,
                "description": "a number; null, \"\" or NaN is missing (imputed)",
                "example": example,
            }),
            ColumnEncoderSpec::Categorical(_) => {
                let known = column.known_categories();
                json!({
                    "type": "string",
                    "nullable": true,
                    "description": "a training category; any other value is accepted and encoded as Unknown, null or \"\" as Missing",
                    "anyOf": [
                        {"type": "string", "enum": known},
                        {"type": "string", "description": "a category not seen in training (Unknown)"},
                    ],
                    "example": example,
                })
            }
        };
        properties.insert(column.name, schema);
    }
    // With --absent-as-missing for this model, a field left out is a missing value.
    let required: Vec<&str> = if absent_is_missing {
        Vec::new()
    } else {
        model.pipeline.schema().names().collect()
    };
    let absent = if absent_is_missing {
        "absent fields are missing values"
    } else {
        "every field is required (null is missing) unless the request sends ?absent_as_missing=true"
    };
    json!({
        "type": "object",
        "description": format!("one input record of model `{}`; {absent}; extra fields are ignored", model.name),
        "properties": properties,
        "required": required,
    })
}

/// The query parameter and header that let one request leave fields out.
fn absent_params() -> [Value; 2] {
    [
        json!({"name": crate::predict::ABSENT_AS_MISSING_PARAM, "in": "query", "required": false, "description": "true: a field the request leaves out is a missing value instead of a 400 (default: the server's --absent-as-missing for this model)", "schema": {"type": "boolean"}}),
        json!({"name": "X-Absent-As-Missing", "in": "header", "required": false, "description": "the same as the absent_as_missing query parameter (the query wins when both are sent)", "schema": {"type": "boolean"}}),
    ]
}

/// A prediction operation: with `model`, its record schema and example; without, any JSON.
fn operation(model: Option<&LoadedModel>, summary: String) -> Op {
    let task = model.map(|m| m.pipeline.task());
    let prediction = match task {
        Some(Task::Classification) => {
            json!({"description": "the predicted class label", "oneOf": [{"type": "string"}, {"type": "integer"}]})
        }
        Some(Task::Regression) => json!({"type": "number", "description": "the predicted value"}),
        None => json!({"description": "the predicted class label (text or integer) or value"}),
    };
    let mut response = json!({
        "type": "object",
        "required": ["model", "version", "request_id"],
        "properties": {
            "prediction": prediction,
            "predictions": {"type": "array", "items": prediction, "description": "one per row, for `instances` and lists of `features` rows"},
            "model": {"type": "string"},
            "version": {"type": "string"},
            "request_id": {"type": "string", "description": "send it to /feedback with the true label"},
            "username": {"type": "string", "nullable": true},
            "unknown": {
                "description": "present only when a value was never seen in training (it went to the column's Unknown slot): column → value as sent; for several rows a list aligned with `predictions`, {} for a row without any",
                "oneOf": [
                    {"type": "object", "additionalProperties": {}},
                    {"type": "array", "items": {"type": "object", "additionalProperties": {}}},
                ],
            },
        },
    });
    if task != Some(Task::Regression) {
        response["properties"]["probabilities"] = json!({
            "description": "class label → probability (a list of these for several rows); classifiers only",
            "oneOf": [
                {"type": "object", "additionalProperties": {"type": "number"}},
                {"type": "array", "items": {"type": "object", "additionalProperties": {"type": "number"}}},
            ],
        });
    }
    let content = match model {
        Some(m) => {
            let record = json!({"$ref": format!("#/components/schemas/{}.record", m.name)});
            let names = m.pipeline.schema().names().collect::<Vec<_>>().join(", ");
            json!({"application/json": {
                "schema": {"oneOf": [
                    record,
                    {"type": "object", "required": ["instances"], "properties": {"instances": {"type": "array", "minItems": 1, "items": record}}},
                    {"type": "object", "required": ["features"], "properties": {"features": {"type": "array", "description": format!("values in schema order ({names}), or a list of such rows"), "items": {}}}},
                    {"type": "array", "minItems": 1, "description": "a list of records, as pandas to_json(orient=\"records\") writes it", "items": record},
                ]},
                "example": Value::Object(example_record(m)),
            }})
        }
        None => json!({"application/json": {"schema": {
            "description": "one record (field → value), {\"instances\": [records]}, {\"features\": [values]} or a list of records; GET /models/{name} lists the fields",
            "oneOf": [{"type": "object"}, {"type": "array"}],
        }}}),
    };
    let [query, header] = absent_params();
    Op::new(summary, "predict")
        .access(Access::Scope(Scope::Predict))
        .param(query)
        .param(header)
        .param(json!({"name": "X-Routing-Key", "in": "header", "required": false, "description": "requests with the same key get the same version of an A/B split", "schema": {"type": "string"}}))
        .body(content)
        .json(200, "the prediction", response)
        .error(400, "`invalid_json` or `invalid_input`: malformed JSON, or missing or mistyped fields (all listed in `fields`); `prediction_overflow`: a regressor's output is not finite for these inputs")
        .error(404, "`model_not_found` or `version_not_found`")
        .error(409, "`duplicate_request_id`: the `X-Request-Id` is used by a prediction still remembered for /feedback (an identical resend by the same user is a retry)")
        .error(503, "`not_ready`: the models are still loading; `state_invalid`: --strict-state and the saved state was not fully restored; `overloaded`: request bodies in flight fill the server's budget")
}
