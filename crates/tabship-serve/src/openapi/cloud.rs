//! SageMaker's `/ping` and `/invocations`, and the routes at configured paths (Azure ML, Vertex
//! AI): the configured probes and scoring route are copies of the built-in operations they
//! mirror.

use axum::http::Method;
use serde_json::json;

use super::operations::{add, object};
use super::{Access, Op, Operations};
use crate::auth::Scope;
use crate::state::AppState;

pub(super) fn operations(state: &AppState, ops: &mut Operations) {
    sagemaker(ops);
    let config = &state.options.cloud;
    let copy = |ops: &Operations, method: &Method, path: &str| {
        ops.iter()
            .find(|(p, m, _)| p == path && m == method)
            .map(|(_, _, op)| op.clone())
    };
    let mirrors = [
        (
            &config.live,
            Method::GET,
            "/health/live",
            "Azure ML liveness route",
        ),
        (
            &config.ready,
            Method::GET,
            "/health/ready",
            "readiness route (Azure ML readiness, Vertex AI health)",
        ),
        (
            &config.score,
            Method::POST,
            "/predict",
            "Azure ML scoring route",
        ),
    ];
    for (path, method, builtin, what) in mirrors {
        let (Some(path), Some(op)) = (path, copy(ops, &method, builtin)) else {
            continue;
        };
        let op = op.description(format!(
            "The {what}: answers as `{} {builtin}`.",
            method.as_str()
        ));
        add(ops, method, path.trim_end_matches('/'), op);
    }
    if let Some(path) = &config.vertex_predict {
        add(ops, Method::POST, path.trim_end_matches('/'), vertex());
    }
}

fn sagemaker(ops: &mut Operations) {
    add(
        ops,
        Method::GET,
        "/ping",
        Op::new("SageMaker health check", "sagemaker")
            .empty(200, "ready: models loaded, not draining (no body)")
            .empty(503, "not ready: loading or draining (no body)"),
    );
    let csv = json!({"type": "string", "description": "one row per line, values in the model's column order (GET /models/{name}), no header; an empty cell is a missing value"});
    add(
        ops,
        Method::POST,
        "/invocations",
        Op::new("SageMaker inference: the default model, JSON or CSV", "sagemaker")
            .description("The body is `application/json` (as `/predict`: a record, `{\"instances\": [...]}` or `{\"features\": [...]}`; also when `Content-Type` is absent) or `text/csv`. The answer follows `Accept`: JSON (the `/predict` answer; the default, also for `*/*`) or `text/csv`, one line per row: the prediction, then one probability per class in the model's class order (classifiers). SageMaker sends no bearer token: with keys, the `predict` scope is needed as on `/predict`, so run without keys inside SageMaker (IAM authenticates callers of the endpoint).")
            .access(Access::Scope(Scope::Predict))
            .body(json!({
                "application/json": {"schema": {"oneOf": [{"type": "object"}, {"type": "array"}]}},
                "text/csv": {"schema": csv},
            }))
            .json(200, "the prediction, as `/predict` answers it (`Accept: application/json`)", json!({"type": "object"}))
            .error(400, "`invalid_json`, `invalid_csv` or `invalid_input`: malformed body, or missing or mistyped fields (CSV: `fields` names the row, from 1, and the column)")
            .error(404, "`model_not_found`: no default model")
            .error(406, "`not_acceptable`: `Accept` names neither JSON nor CSV")
            .error(409, "`duplicate_request_id`: the `X-Request-Id` is in use")
            .error(415, "`unsupported_media_type`: `Content-Type` is neither `application/json` nor `text/csv`")
            .error(503, "`not_ready`: the models are still loading; `overloaded`: request bodies in flight fill the server's budget"),
    );
}

fn vertex() -> Op {
    let prediction = json!({"oneOf": [
        object(&["label", "probabilities"], json!({"label": {"type": "string"}, "probabilities": {"type": "object", "additionalProperties": {"type": "number"}, "description": "class label → probability, in class order"}})),
        object(&["value"], json!({"value": {"type": "number"}})),
    ]});
    Op::new("Vertex AI prediction (AIP_PREDICT_ROUTE): the default model", "vertex")
        .description("Vertex AI's custom-container contract: `{\"instances\": [...], \"parameters\": {...}}` → `{\"predictions\": [...]}`, one per instance. Instances are records (objects) or lists of values in the model's column order; `parameters` is accepted and ignored. Bodies over 1.5 MB are refused 413.")
        .access(Access::Scope(Scope::Predict))
        .body(json!({"application/json": {"schema": object(&["instances"], json!({
            "instances": {"type": "array", "minItems": 1, "items": {"oneOf": [{"type": "object"}, {"type": "array"}]}},
            "parameters": {"type": "object"},
        }))}}))
        .json(200, "one prediction per instance", object(&["predictions"], json!({"predictions": {"type": "array", "items": prediction}})))
        .error(400, "`invalid_json` or `invalid_input`: malformed JSON, `instances` missing or not a list, or missing or mistyped fields")
        .error(404, "`model_not_found`: no default model")
        .error(409, "`duplicate_request_id`: the `X-Request-Id` is in use")
        .error(503, "`not_ready`: the models are still loading; `overloaded`: request bodies in flight fill the server's budget")
}
