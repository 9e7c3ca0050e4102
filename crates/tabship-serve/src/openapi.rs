//! `GET /openapi.json`: an OpenAPI 3.0 document generated from the loaded models' real schemas
//! (field names, types, category enums, an example from the training data).

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Map, Value, json};
use tabship::Task;
use tabship::encode::ColumnEncoderSpec;

use crate::error::ApiError;
use crate::models::{example_record, examples};
use crate::page_cache::Rendered;
use crate::registry::{LoadedModel, Registry};
use crate::state::AppState;

fn column_schema(model: &LoadedModel, absent_is_missing: bool) -> Value {
    let mut properties = Map::new();
    let specs = model.pipeline.encoder().specs();
    let examples = examples(&model.pipeline);
    for ((column, spec), example) in model
        .pipeline
        .schema()
        .columns
        .iter()
        .zip(&specs)
        .zip(examples)
    {
        let schema = match spec {
            ColumnEncoderSpec::Numeric(_) => json!({
                "type": "number",
                "nullable": true,
                "description": "a number; null, \"\" or NaN is missing (imputed)",
                "example": example,
            }),
            ColumnEncoderSpec::Categorical(c) => {
                let mut known: Vec<&String> =
                    c.categories.iter().chain(&c.other_categories).collect();
                known.sort();
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
        properties.insert(column.name.clone(), schema);
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

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    })
}

/// The query parameter and header that let one request leave fields out.
fn absent_params() -> [Value; 2] {
    [
        json!({"name": crate::predict::ABSENT_AS_MISSING_PARAM, "in": "query", "required": false, "description": "true: a field the request leaves out is a missing value instead of a 400 (default: the server's --absent-as-missing for this model)", "schema": {"type": "boolean"}}),
        json!({"name": "X-Absent-As-Missing", "in": "header", "required": false, "description": "the same as the absent_as_missing query parameter (the query wins when both are sent)", "schema": {"type": "boolean"}}),
    ]
}

fn predict_operation(model: &LoadedModel, summary: String, mut params: Vec<Value>) -> Value {
    params.extend(absent_params());
    let name = &model.name;
    let example = Value::Object(example_record(model));
    let prediction = match model.pipeline.task() {
        Task::Classification => {
            json!({"description": "the predicted class label", "oneOf": [{"type": "string"}, {"type": "integer"}]})
        }
        Task::Regression => json!({"type": "number", "description": "the predicted value"}),
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
    if model.pipeline.task() == Task::Classification {
        response["properties"]["probabilities"] = json!({
            "description": "class label → probability (a list of these for several rows)",
            "oneOf": [
                {"type": "object", "additionalProperties": {"type": "number"}},
                {"type": "array", "items": {"type": "object", "additionalProperties": {"type": "number"}}},
            ],
        });
    }
    json!({
        "summary": summary,
        "tags": ["predict"],
        "parameters": params,
        "requestBody": {
            "required": true,
            "content": {"application/json": {
                "schema": {"oneOf": [
                    {"$ref": format!("#/components/schemas/{name}.record")},
                    {"type": "object", "required": ["instances"], "properties": {"instances": {"type": "array", "minItems": 1, "items": {"$ref": format!("#/components/schemas/{name}.record")}}}},
                    {"type": "object", "required": ["features"], "properties": {"features": {"type": "array", "description": format!("values in schema order ({}), or a list of such rows", model.pipeline.schema().names().collect::<Vec<_>>().join(", ")), "items": {}}}},
                    {"type": "array", "minItems": 1, "description": "a list of records, as pandas to_json(orient=\"records\") writes it", "items": {"$ref": format!("#/components/schemas/{name}.record")}},
                ]},
                "example": example,
            }},
        },
        "responses": {
            "200": {"description": "the prediction", "content": {"application/json": {"schema": response}}},
            "400": error_response("malformed JSON, or missing or mistyped fields (all listed in `fields`)"),
            "401": error_response("missing or invalid bearer token"),
            "403": error_response("the token lacks the `predict` scope"),
            "404": error_response("unknown model or version"),
            "413": error_response("the body is too large"),
        },
    })
}

fn simple(summary: &str, tag: &str, description: &str) -> Value {
    json!({
        "summary": summary,
        "tags": [tag],
        "responses": {"200": {"description": description, "content": {"application/json": {"schema": {"type": "object"}}}}},
    })
}

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": {"type": "string"}})
}

/// `POST /admin/models/{name}/versions`: every upload form, with `force`.
fn load_version_operation() -> Value {
    let flag = |name: &str, description: &str| json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "boolean"}});
    let force = "load it even when it would break the model's clients (another target, classes, columns or kinds)";
    json!({
        "summary": "Load a version: JSON {\"path\"}, a multipart form with a `file` part, or the artifact bytes",
        "description": "A version whose task, target, classes, columns (removed, reordered, or added without --absent-as-missing and missing values in training) or column kinds differ from the current version's is refused with 409 `incompatible_version`, each difference in `fields`, unless `force` is true.",
        "tags": ["admin"],
        "parameters": [
            path_param("name", "model name"),
            json!({"name": "version", "in": "query", "required": false, "description": "the version string (default: the artifact's)", "schema": {"type": "string"}}),
            flag("activate", "make it current (default true)"),
            flag("force", force),
        ],
        "requestBody": {"required": true, "content": {
            "application/json": {"schema": {"type": "object", "required": ["path"], "properties": {"path": {"type": "string"}, "version": {"type": "string"}, "activate": {"type": "boolean"}, "force": {"type": "boolean", "description": force}}}},
            "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary", "description": "the artifact (also accepted as `model` or `artifact`)"}, "version": {"type": "string"}, "activate": {"type": "boolean"}, "force": {"type": "boolean", "description": force}}}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        }},
        "responses": {
            "201": {"description": "loaded; `loaded.changes` lists every difference from the current version (a new name, an optional added column), `loaded.forced` says whether force was needed"},
            "400": error_response("corrupt artifact: refused, the old version keeps serving"),
            "409": error_response("`version_exists`, or `incompatible_version`: the differences are in `fields`, nothing changed"),
            "429": error_response("`too_many_uploads`: the most version loads at once are in progress; retry after the `Retry-After` seconds"),
        },
    })
}

/// Builds the document.
pub(crate) fn document(state: &AppState, registry: &Registry) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    schemas.insert(
        "Error".to_owned(),
        json!({
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message", "fields"], "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "array", "items": {"type": "object", "properties": {
                    "field": {"type": "string"}, "expected": {"type": "string"}, "received": {"type": "string"},
                    "row": {"type": "integer", "minimum": 1, "description": "the row of a list, counted from 1 (as the CLI and Python count)"},
                    "index": {"type": "integer", "minimum": 0, "description": "the same row's 0-based position in the list"},
                }}},
            }}},
        }),
    );
    paths.insert(
        "/".to_owned(),
        json!({"get": simple("The API is alive: version and models", "health", "status")}),
    );
    paths.insert(
        "/health/live".to_owned(),
        json!({"get": simple("Liveness", "health", "live")}),
    );
    paths.insert("/health/ready".to_owned(), json!({"get": {"summary": "Readiness (503 until the models are loaded)", "tags": ["health"], "responses": {"200": {"description": "ready"}, "503": {"description": "loading"}}}}));
    if let Some(default) = registry
        .default_model
        .as_ref()
        .and_then(|d| registry.models.get(d))
    {
        let m = default.current_model();
        paths.insert("/predict".to_owned(), json!({"post": predict_operation(m, format!("Predict with the default model `{}`", m.name), vec![])}));
    }
    for (name, entry) in &registry.models {
        let m = entry.current_model();
        let absent = state.options.absent_as_missing.applies(name);
        schemas.insert(format!("{name}.record"), column_schema(m, absent));
        paths.insert(
            format!("/models/{name}/predict"),
            json!({"post": predict_operation(m, format!("Predict with `{name}` (current version, or the A/B split)"), vec![])}),
        );
        paths.insert(
            format!("/models/{name}/versions/{{version}}/predict"),
            json!({"post": predict_operation(m, format!("Predict with one version (or alias) of `{name}`"), vec![path_param("version", "a version or alias")])}),
        );
    }
    paths.insert(
        "/models".to_owned(),
        json!({"get": simple("List the models", "models", "models")}),
    );
    paths.insert("/models/{name}".to_owned(), json!({"get": {"summary": "A model's schema, metadata, metrics and versions", "tags": ["models"], "parameters": [path_param("name", "model name")], "responses": {"200": {"description": "the model"}, "404": error_response("unknown model")}}}));
    paths.insert("/models/{name}/drift".to_owned(), json!({"get": {"summary": "Drift of the live window against the artifact's reference profile, and the concept-drift detectors", "tags": ["monitoring"], "parameters": [path_param("name", "model name"), {"name": "version", "in": "query", "required": false, "description": "a version or alias (default: current)", "schema": {"type": "string"}}], "responses": {"200": {"description": "the drift report"}, "404": error_response("unknown model or version, or an artifact without a reference profile")}}}));
    paths.insert("/feedback".to_owned(), json!({"post": {
        "summary": "Join the true label to a logged prediction",
        "tags": ["monitoring"],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["request_id", "label"], "properties": {
            "request_id": {"type": "string"}, "label": {"description": "the true class label or value"}, "index": {"type": "integer", "minimum": 0, "description": "0-based position of the row in a batch request, as `index` in error answers (default 0)"}, "row": {"type": "integer", "minimum": 0, "description": "the older name of `index` (also 0-based)"},
        }}}}},
        "responses": {"200": {"description": "live quality after the label"}, "400": error_response("bad label"), "404": error_response("unknown request id"), "409": error_response("already labelled")},
    }}));
    paths.insert("/metrics".to_owned(), json!({"get": {"summary": "Prometheus metrics", "tags": ["monitoring"], "responses": {"200": {"description": "OpenMetrics text", "content": {"application/openmetrics-text": {"schema": {"type": "string"}}}}}}}));
    paths.insert("/v2/models/{name}/infer".to_owned(), json!({"post": {"summary": "Open Inference Protocol V2 inference", "tags": ["v2"], "parameters": [path_param("name", "model name")], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}}, "responses": {"200": {"description": "output tensors"}}}}));
    paths.insert("/v2/models/{name}".to_owned(), json!({"get": {"summary": "Open Inference Protocol V2 model metadata", "tags": ["v2"], "parameters": [path_param("name", "model name")], "responses": {"200": {"description": "metadata"}}}}));
    paths.insert(
        "/admin/models/{name}/versions".to_owned(),
        json!({"post": load_version_operation()}),
    );
    paths.insert("/admin/keys/reload".to_owned(), json!({"post": {"summary": "Re-read the keys file (as SIGHUP does); an invalid file keeps the old keys", "tags": ["admin"], "responses": {"200": {"description": "the number of keys now in force"}, "400": error_response("invalid keys file: refused, the old keys stay in force"), "409": error_response("the server runs without --keys")}}}));
    paths.insert("/admin/models/{name}/activate".to_owned(), json!({"post": {"summary": "Make a version (or alias) current", "tags": ["admin"], "parameters": [path_param("name", "model name")], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {"version": {"type": "string"}}}}}}, "responses": {"200": {"description": "the model"}}}}));
    paths.insert("/admin/models/{name}/rollback".to_owned(), json!({"post": {"summary": "Back to the previous current version", "tags": ["admin"], "parameters": [path_param("name", "model name")], "responses": {"200": {"description": "the model"}, "409": error_response("nothing to roll back to")}}}));
    paths.insert("/admin/models/{name}/aliases/{alias}".to_owned(), json!({
        "put": {"summary": "Point an alias at a version", "tags": ["admin"], "parameters": [path_param("name", "model name"), path_param("alias", "alias")], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {"version": {"type": "string"}}}}}}, "responses": {"200": {"description": "the model"}}},
        "delete": {"summary": "Remove an alias", "tags": ["admin"], "parameters": [path_param("name", "model name"), path_param("alias", "alias")], "responses": {"200": {"description": "the model"}}},
    }));
    paths.insert("/admin/models/{name}/split".to_owned(), json!({
        "put": {"summary": "Split unversioned traffic (sticky by the X-Routing-Key header)", "tags": ["admin"], "parameters": [path_param("name", "model name")], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {"versions": {"type": "object", "additionalProperties": {"type": "integer"}}}}, "example": {"versions": {"1": 90, "2": 10}}}}}, "responses": {"200": {"description": "the model"}}},
        "delete": {"summary": "Stop splitting", "tags": ["admin"], "parameters": [path_param("name", "model name")], "responses": {"200": {"description": "the model"}}},
    }));
    paths.insert("/admin/models/{name}/shadow".to_owned(), json!({
        "put": {"summary": "Score a shadow version on live traffic (logged, never returned)", "tags": ["admin"], "parameters": [path_param("name", "model name")], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {"version": {"type": "string"}}}}}}, "responses": {"200": {"description": "the model"}}},
        "delete": {"summary": "Stop shadowing", "tags": ["admin"], "parameters": [path_param("name", "model name")], "responses": {"200": {"description": "the model"}}},
    }));
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": {
            "title": "tabship",
            "version": crate::VERSION,
            "description": "Predictions from tabship artifacts. Errors are {\"error\": {\"code\", \"message\", \"fields\"}}.",
        },
        "paths": paths,
        "components": {"schemas": schemas},
    });
    if state.auth_enabled() {
        doc["components"]["securitySchemes"] =
            json!({"bearer": {"type": "http", "scheme": "bearer"}});
        doc["security"] = json!([{"bearer": []}]);
        for open in ["/", "/health/live", "/health/ready"] {
            if let Some(op) = doc["paths"][open].get_mut("get") {
                op["security"] = json!([]);
            }
        }
    }
    doc
}

/// `GET /openapi.json`, rendered once per registry generation.
pub(crate) async fn openapi(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    state.authorize_docs(&headers)?;
    let (generation, registry) = state.registry.load_generation();
    let page = state.pages.get_or_build("openapi.json", generation, || {
        serde_json::to_vec(&document(&state, &registry))
            .map(|body| Rendered {
                content_type: "application/json",
                headers: Vec::new(),
                body: body.into(),
            })
            .map_err(ApiError::internal)
    })?;
    Ok(page.response())
}
