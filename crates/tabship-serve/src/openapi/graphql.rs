//! `GET /graphql` (the query page) and `POST /graphql` (GraphQL over HTTP).

use axum::http::Method;
use serde_json::json;

use super::operations::{add, object};
use super::{Access, Op, Operations};
use crate::auth::Scope;

pub(super) fn operations(ops: &mut Operations) {
    add(
        ops,
        Method::GET,
        "/graphql",
        Op::new("GraphQL query page", "graphql")
            .access(Access::Docs)
            .media(200, "an HTML page", "text/html", json!({"type": "string"})),
    );
    // No `required` (OpenAPI 3.0 refuses an empty list): `data`, `errors` or both.
    let answer = json!({"type": "object", "properties": {
            "data": {"type": "object", "nullable": true},
            "errors": {"type": "array", "items": object(&["message"], json!({
                "message": {"type": "string"},
                "path": {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "integer"}]}},
                "extensions": {"type": "object", "description": "`code` and `status` as the REST error; `fields` with each field's GraphQL `path`"},
            }))},
    }});
    add(
        ops,
        Method::POST,
        "/graphql",
        Op::new("GraphQL: models, model, predict, predictBatch, drift", "graphql")
            .description(format!("A schema built from the loaded models (introspect it; one `<Model>Input` per model, numbers as `Float`, categories as `String` with the allowed values in the description), rebuilt when the registry changes. The route needs the `predict` scope; the `drift` field also needs `metrics` (a GraphQL error with `extensions.code` `forbidden` otherwise). Predictions go through the same data plane as `/predict` (routing, A/B, shadow, log, drift, metrics). Queries deeper than {} or more complex than {} are refused. GraphQL errors answer 200 with `errors`.", crate::graphql::MAX_DEPTH, crate::graphql::MAX_COMPLEXITY))
            .access(Access::Scope(Scope::Predict))
            .body(json!({"application/json": {"schema": object(&["query"], json!({
                "query": {"type": "string"},
                "variables": {"type": "object", "nullable": true},
                "operationName": {"type": "string", "nullable": true},
            }))}}))
            .json(200, "`data` and/or `errors`", answer)
            .error(400, "`invalid_graphql_request`: the body is not a GraphQL request")
            .error(503, "`not_ready`: the models are still loading; `overloaded`: request bodies in flight fill the server's budget"),
    );
}
