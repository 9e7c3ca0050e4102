//! Every operation but prediction and administration: health, models, monitoring, pages, V2.

use axum::http::Method;
use serde_json::{Value, json};

use super::{Access, Op, Operations, path_param, query_param};
use crate::auth::Scope;

pub(super) fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "required": required, "properties": properties})
}

pub(super) fn add(ops: &mut Operations, method: Method, path: &str, op: Op) {
    ops.push((path.to_owned(), method, op));
}

/// A model as `GET /models/{name}` and the admin calls answer it.
pub(super) fn model_schema() -> Value {
    object(
        &[
            "name",
            "current_version",
            "aliases",
            "split",
            "shadow",
            "history",
            "schema",
            "example",
            "versions",
        ],
        json!({
            "name": {"type": "string"},
            "current_version": {"type": "string"},
            "aliases": {"type": "object", "additionalProperties": {"type": "string"}},
            "split": {"type": "array", "nullable": true, "items": object(&["version", "weight"], json!({"version": {"type": "string"}, "weight": {"type": "integer"}}))},
            "shadow": {"type": "string", "nullable": true},
            "history": {"type": "array", "items": {"type": "string"}},
            "schema": object(&["columns"], json!({"columns": {"type": "array", "items": object(&["name", "kind", "nullable"], json!({"name": {"type": "string"}, "kind": {"type": "string"}, "nullable": {"type": "boolean"}}))}})),
            "example": {"type": "object"},
            "versions": {"type": "array", "items": object(&["version"], json!({"version": {"type": "string"}}))},
        }),
    )
}

pub(super) fn name() -> Value {
    path_param("name", "model name")
}

pub(super) fn version() -> Value {
    path_param("version", "a version or alias")
}

/// Health, models, monitoring, pages, V2 and admin.
pub(super) fn all(ops: &mut Operations) {
    health(ops);
    models(ops);
    pages(ops);
    v2(ops);
    super::admin::operations(ops);
}

fn health(ops: &mut Operations) {
    let root = object(
        &["status", "service", "version", "ready", "auth", "models"],
        json!({
            "status": {"type": "string"}, "service": {"type": "string"}, "version": {"type": "string"},
            "ready": {"type": "boolean"}, "auth": {"type": "boolean"},
            "default_model": {"type": "string", "nullable": true},
            "models": {"type": "array", "items": object(&["name", "version"], json!({"name": {"type": "string"}, "version": {"type": "string"}}))},
            "docs": {"type": "string"}, "ui": {"type": "string"},
        }),
    );
    add(
        ops,
        Method::GET,
        "/",
        Op::new("The API is alive: version and models", "health").json(200, "status", root),
    );
    let status = |values: &[&str]| {
        object(
            &["status"],
            json!({"status": {"type": "string", "enum": values}}),
        )
    };
    add(
        ops,
        Method::GET,
        "/health/live",
        Op::new("Liveness", "health").json(200, "live", status(&["live"])),
    );
    add(
        ops,
        Method::GET,
        "/health/ready",
        Op::new("Readiness (503 while loading and draining)", "health")
            .json(200, "ready", status(&["ready"]))
            .json(
                503,
                "`loading` (models not loaded yet) or `draining` (after SIGTERM)",
                status(&["loading", "draining"]),
            ),
    );
}

fn models(ops: &mut Operations) {
    let list = object(
        &["models", "default_model"],
        json!({
            "models": {"type": "array", "items": object(&["name", "current_version", "versions", "aliases", "task", "model_type", "default"], json!({
                "name": {"type": "string"}, "current_version": {"type": "string"},
                "versions": {"type": "array", "items": {"type": "string"}},
                "aliases": {"type": "object", "additionalProperties": {"type": "string"}},
                "task": {"type": "string"}, "model_type": {"type": "string"}, "default": {"type": "boolean"},
            }))},
            "default_model": {"type": "string", "nullable": true},
        }),
    );
    let predict = Access::Scope(Scope::Predict);
    add(
        ops,
        Method::GET,
        "/models",
        Op::new("List the models", "models")
            .access(predict)
            .json(200, "models", list),
    );
    add(
        ops,
        Method::GET,
        "/models/{name}",
        Op::new("A model's schema, metadata, metrics and versions", "models")
            .access(predict)
            .param(name())
            .json(200, "the model", model_schema())
            .error(404, "`model_not_found`"),
    );
    add(
        ops,
        Method::GET,
        "/models/{name}/drift",
        Op::new("Drift of the live window against the artifact's reference profile, and the concept-drift detectors", "monitoring")
            .access(Access::Scope(Scope::Metrics))
            .param(name())
            .param(query_param("version", "a version or alias (default: current)", json!({"type": "string"})))
            .json(200, "the drift report", object(&["model", "version", "window_rows", "rows_seen", "report"], json!({
                "model": {"type": "string"}, "version": {"type": "string"},
                "window_rows": {"type": "integer"}, "rows_seen": {"type": "integer"},
                "report": {"type": "object"}, "concept": {},
            })))
            .error(404, "`model_not_found`, `version_not_found`, or `no_drift_profile`: an artifact without a reference profile"),
    );
    let arm = object(
        &["version", "labels"],
        json!({
            "version": {"type": "string"}, "labels": {"type": "integer"},
            "errors": {"type": "integer", "description": "classifiers"},
            "accuracy": {"type": "number", "nullable": true, "description": "classifiers"},
            "mae": {"type": "number", "nullable": true, "description": "regressors"},
        }),
    );
    add(
        ops,
        Method::GET,
        "/models/{name}/experiment",
        Op::new("The A/B split's live experiment on this replica: per-version labels and accuracy (or MAE) from feedback, and for a two-arm split with the current version (the champion) the always-valid sequential test (mSPRT) of the accuracy difference (classifiers) or of the MAE difference (regressors), its confidence sequence and the verdict", "monitoring")
            .access(Access::Scope(Scope::Metrics))
            .param(name())
            .json(200, "the experiment", object(&["model", "scope", "metric", "versions", "experiment"], json!({
                "model": {"type": "string"},
                "scope": {"type": "string", "enum": ["replica"]},
                "metric": {"type": "string", "enum": ["accuracy", "mae"]},
                "versions": {"type": "array", "items": object(&["version", "labels"], json!({"version": {"type": "string"}, "labels": {"type": "integer"}, "accuracy": {"type": "number", "nullable": true}, "mae": {"type": "number", "nullable": true}}))},
                "experiment": object(&["running"], json!({
                    "running": {"type": "boolean"},
                    "reason": {"type": "string"},
                    "champion": arm.clone(),
                    "challenger": arm,
                    "metric": {"type": "string"},
                    "difference": {"type": "number", "description": "challenger accuracy − champion accuracy (classifiers); champion MAE − challenger MAE (regressors)"},
                    "p_value": {"type": "number", "description": "always-valid p-value of no difference"},
                    "confidence_interval": {"nullable": true, "description": "the confidence sequence of the difference; null for a regressor until the test starts", "allOf": [object(&["low", "high"], json!({"low": {"type": "number"}, "high": {"type": "number"}}))]},
                    "alpha": {"type": "number"}, "tau": {"type": "number"}, "margin": {"type": "number"},
                    "started": {"type": "boolean"}, "min_labels": {"type": "integer"},
                    "verdict": {"type": "string", "enum": ["promote", "keep", "inconclusive"]},
                })),
            })))
            .error(404, "`model_not_found`"),
    );
    let label = json!({"description": "the true class label or value", "oneOf": [{"type": "string"}, {"type": "number"}]});
    add(
        ops,
        Method::POST,
        "/feedback",
        Op::new("Join the true label to a logged prediction", "monitoring")
            .access(Access::Scope(Scope::Feedback))
            .body(json!({"application/json": {"schema": object(&["request_id", "label"], json!({
                "request_id": {"type": "string", "minLength": 1}, "label": label,
                "index": {"type": "integer", "minimum": 0, "description": "0-based position of the row in a batch request, as `index` in error answers (default 0)"},
                "row": {"type": "integer", "minimum": 0, "description": "the older name of `index` (also 0-based)"},
            }))}}))
            .json(200, "live quality after the label", object(&["request_id", "index", "row", "model", "version", "correct", "live"], json!({
                "request_id": {"type": "string"}, "index": {"type": "integer"}, "row": {"type": "integer"},
                "model": {"type": "string"}, "version": {"type": "string"},
                "correct": {"type": "boolean", "nullable": true}, "live": {},
            })))
            .error(400, "`invalid_json` or `invalid_input`: a bad request id, index or label")
            .error(404, "`request_not_found`: an unknown (or forgotten) request id, or a prediction of another user (only its user or an admin key may label it)")
            .error(409, "`already_labelled`, or `version_unloaded`: the version that made the prediction is gone"),
    );
    add(
        ops,
        Method::GET,
        "/metrics",
        Op::new("Prometheus metrics", "monitoring")
            .access(Access::Scope(Scope::Metrics))
            .media(
                200,
                "OpenMetrics text",
                "application/openmetrics-text",
                json!({"type": "string"}),
            ),
    );
}

fn pages(ops: &mut Operations) {
    let html = json!({"type": "string"});
    add(
        ops,
        Method::GET,
        "/openapi.json",
        Op::new("This document", "docs").access(Access::Docs).json(
            200,
            "the OpenAPI document",
            json!({"type": "object"}),
        ),
    );
    add(
        ops,
        Method::GET,
        "/docs",
        Op::new("Interactive API documentation", "docs")
            .access(Access::Docs)
            .media(200, "an HTML page", "text/html", html.clone()),
    );
    add(
        ops,
        Method::GET,
        "/ui",
        Op::new("The web form of the default model", "docs")
            .access(Access::Docs)
            .media(200, "an HTML page", "text/html", html.clone())
            .error(404, "`model_not_found`: no default model"),
    );
    add(
        ops,
        Method::GET,
        "/ui/{name}",
        Op::new("The web form of a model", "docs")
            .access(Access::Docs)
            .param(name())
            .media(200, "an HTML page", "text/html", html)
            .error(404, "`model_not_found`"),
    );
}

fn v2(ops: &mut Operations) {
    let predict = Access::Scope(Scope::Predict);
    let tensor = object(
        &["name", "datatype", "shape"],
        json!({"name": {"type": "string"}, "datatype": {"type": "string"}, "shape": {"type": "array", "items": {"type": "integer"}}}),
    );
    let metadata = object(
        &["name", "versions", "platform", "inputs", "outputs"],
        json!({
            "name": {"type": "string"}, "versions": {"type": "array", "items": {"type": "string"}}, "platform": {"type": "string"},
            "inputs": {"type": "array", "items": tensor}, "outputs": {"type": "array", "items": tensor}, "parameters": {"type": "object"},
        }),
    );
    let ready = object(
        &["name", "ready"],
        json!({"name": {"type": "string"}, "ready": {"type": "boolean"}}),
    );
    add(
        ops,
        Method::GET,
        "/v2",
        Op::new("Open Inference Protocol V2 server metadata", "v2")
            .v2()
            .access(predict)
            .json(200, "name, version, extensions", object(&["name", "version", "extensions"], json!({"name": {"type": "string"}, "version": {"type": "string"}, "extensions": {"type": "array", "items": {"type": "string"}}}))),
    );
    add(
        ops,
        Method::GET,
        "/v2/health/live",
        Op::new("V2 liveness", "v2").v2().json(
            200,
            "live",
            object(&["live"], json!({"live": {"type": "boolean"}})),
        ),
    );
    let server_ready = object(&["ready"], json!({"ready": {"type": "boolean"}}));
    add(
        ops,
        Method::GET,
        "/v2/health/ready",
        Op::new("V2 readiness", "v2")
            .v2()
            .json(200, "ready", server_ready.clone())
            .json(503, "not ready: loading or draining", server_ready),
    );
    for (path, versioned) in [
        ("/v2/models/{name}", false),
        ("/v2/models/{name}/versions/{version}", true),
    ] {
        let with_params = |op: Op| {
            if versioned {
                op.param(name()).param(version())
            } else {
                op.param(name())
            }
        };
        add(
            ops,
            Method::GET,
            path,
            with_params(
                Op::new("V2 model metadata: input and output tensors", "v2")
                    .v2()
                    .access(predict),
            )
            .json(200, "metadata", metadata.clone())
            .error(404, "unknown model or version"),
        );
        add(
            ops,
            Method::GET,
            &format!("{path}/ready"),
            with_params(Op::new("V2 model readiness", "v2").v2().access(predict))
                .json(200, "ready", ready.clone())
                .error(404, "unknown model or version"),
        );
        let input = object(
            &["name", "datatype", "shape", "data"],
            json!({"name": {"type": "string"}, "datatype": {"type": "string"}, "shape": {"type": "array", "items": {"type": "integer"}}, "data": {"type": "array"}}),
        );
        add(
            ops,
            Method::POST,
            &format!("{path}/infer"),
            with_params(Op::new("V2 inference: one input tensor per feature", "v2").v2().access(predict))
                .body(json!({"application/json": {"schema": object(&["inputs"], json!({"id": {"type": "string"}, "inputs": {"type": "array", "items": input}, "outputs": {"type": "array"}, "parameters": {"type": "object"}}))}}))
                .json(200, "output tensors", object(&["model_name", "outputs"], json!({"model_name": {"type": "string"}, "model_version": {"type": "string"}, "id": {"type": "string"}, "outputs": {"type": "array", "items": object(&["name", "datatype", "shape", "data"], json!({"name": {"type": "string"}, "datatype": {"type": "string"}, "shape": {"type": "array", "items": {"type": "integer"}}, "data": {"type": "array"}}))}})))
                .error(400, "malformed request or tensors, or an `X-Request-Id` that is not a request id")
                .error(404, "unknown model or version")
                .error(409, "`duplicate_request_id`: the `X-Request-Id` is used by a prediction still remembered for /feedback")
                .error(503, "the models are still loading, or request bodies in flight fill the server's budget"),
        );
    }
}
