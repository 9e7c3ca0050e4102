//! Every operation but prediction: health, models, monitoring, pages, V2 and admin.

use axum::http::Method;
use serde_json::{Value, json};

use super::{Access, Op, Operations, path_param, query_param};
use crate::auth::Scope;

fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "required": required, "properties": properties})
}

fn add(ops: &mut Operations, method: Method, path: &str, op: Op) {
    ops.push((path.to_owned(), method, op));
}

/// A model as `GET /models/{name}` and the admin calls answer it.
fn model_schema() -> Value {
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

fn name() -> Value {
    path_param("name", "model name")
}

fn version() -> Value {
    path_param("version", "a version or alias")
}

/// The JSON body `{"version": "..."}` of activate, alias and shadow.
fn version_body() -> Value {
    json!({"application/json": {"schema": object(&["version"], json!({"version": {"type": "string"}}))}})
}

/// Health, models, monitoring, pages, V2 and admin.
pub(super) fn all(ops: &mut Operations) {
    health(ops);
    models(ops);
    pages(ops);
    v2(ops);
    admin(ops);
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
            .error(404, "`request_not_found`: an unknown (or forgotten) request id")
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
                .error(400, "malformed request or tensors")
                .error(404, "unknown model or version")
                .error(503, "the models are still loading"),
        );
    }
}

fn admin(ops: &mut Operations) {
    let admin = Access::Scope(Scope::Admin);
    let changed = |summary: &str| {
        Op::new(summary, "admin")
            .access(admin)
            .param(name())
            .json(200, "the model after the change", model_schema())
            .error(404, "`model_not_found` or `version_not_found`")
            .error(
                500,
                "`state_not_saved`: the state directory could not be written, nothing changed",
            )
    };
    add(
        ops,
        Method::POST,
        "/admin/models/{name}/versions",
        load_version(),
    );
    add(
        ops,
        Method::DELETE,
        "/admin/models/{name}/versions/{version}",
        changed("Unload a version (not the current one, nor one in the split or shadow)")
            .param(version())
            .error(
                409,
                "`version_in_use`: the version is current, in the split or the shadow",
            ),
    );
    add(
        ops,
        Method::PUT,
        "/admin/models/{name}/aliases/{alias}",
        changed("Point an alias at a version")
            .param(path_param("alias", "alias"))
            .body(version_body())
            .error(400, "`invalid_input`: a bad alias name or body"),
    );
    add(
        ops,
        Method::DELETE,
        "/admin/models/{name}/aliases/{alias}",
        changed("Remove an alias")
            .param(path_param("alias", "alias"))
            .error(404, "`alias_not_found`"),
    );
    add(
        ops,
        Method::POST,
        "/admin/models/{name}/activate",
        changed("Make a version (or alias) current")
            .body(version_body())
            .error(400, "`invalid_input`: no version given"),
    );
    add(
        ops,
        Method::POST,
        "/admin/models/{name}/rollback",
        changed("Back to the previous current version")
            .error(409, "`no_previous_version`: nothing to roll back to"),
    );
    add(
        ops,
        Method::PUT,
        "/admin/models/{name}/split",
        changed("Split unversioned traffic (sticky by the X-Routing-Key header)")
            .body(json!({"application/json": {"schema": object(&["versions"], json!({"versions": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}})), "example": {"versions": {"1": 90, "2": 10}}}}))
            .error(400, "`invalid_input`: bad weights or versions"),
    );
    add(
        ops,
        Method::DELETE,
        "/admin/models/{name}/split",
        changed("Stop splitting"),
    );
    add(
        ops,
        Method::PUT,
        "/admin/models/{name}/shadow",
        changed("Score a shadow version on live traffic (logged, never returned)")
            .body(version_body())
            .error(400, "`invalid_input`: no version given"),
    );
    add(
        ops,
        Method::DELETE,
        "/admin/models/{name}/shadow",
        changed("Stop shadowing"),
    );
    add(
        ops,
        Method::POST,
        "/admin/keys/reload",
        Op::new(
            "Re-read the keys file (as SIGHUP does); an invalid file keeps the old keys",
            "admin",
        )
        .access(admin)
        .json(
            200,
            "the number of keys now in force",
            object(
                &["reloaded", "keys"],
                json!({"reloaded": {"type": "boolean"}, "keys": {"type": "integer"}}),
            ),
        )
        .error(
            400,
            "`invalid_keys`: the file was refused, the old keys stay in force",
        )
        .error(409, "`no_keys_file`: the server runs without --keys"),
    );
}

/// `POST /admin/models/{name}/versions`: every upload form, with `force`.
fn load_version() -> Op {
    let flag =
        |name: &str, description: &str| query_param(name, description, json!({"type": "boolean"}));
    let force = "load it even when it would break the model's clients (another target, classes, columns or kinds)";
    Op::new("Load a version: JSON {\"path\"}, a multipart form with a `file` part, or the artifact bytes", "admin")
        .description("A version whose task, target, classes, columns (removed, reordered, or added without --absent-as-missing and missing values in training) or column kinds differ from the current version's is refused with 409 `incompatible_version`, each difference in `fields`, unless `force` is true.")
        .access(Access::Scope(Scope::Admin))
        .param(name())
        .param(query_param("version", "the version string (default: the artifact's)", json!({"type": "string"})))
        .param(flag("activate", "make it current (default true)"))
        .param(flag("force", force))
        .body(json!({
            "application/json": {"schema": object(&["path"], json!({"path": {"type": "string"}, "version": {"type": "string"}, "activate": {"type": "boolean"}, "force": {"type": "boolean", "description": force}}))},
            "multipart/form-data": {"schema": object(&["file"], json!({"file": {"type": "string", "format": "binary", "description": "the artifact (also accepted as `model` or `artifact`)"}, "version": {"type": "string"}, "activate": {"type": "boolean"}, "force": {"type": "boolean", "description": force}}))},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        }))
        .json(201, "loaded; `loaded.changes` lists every difference from the current version (a new name, an optional added column), `loaded.forced` says whether force was needed", object(&["loaded", "model"], json!({
            "loaded": object(&["model", "version", "checksum", "activated", "forced", "changes"], json!({"model": {"type": "string"}, "version": {"type": "string"}, "checksum": {"type": "string"}, "activated": {"type": "boolean"}, "forced": {"type": "boolean"}, "changes": {"type": "array", "items": {"type": "object"}}})),
            "model": model_schema(),
        })))
        .error(400, "a corrupt artifact, an unusable path or a bad field: refused, the old version keeps serving")
        .error(409, "`version_exists`, or `incompatible_version`: the differences are in `fields`, nothing changed")
        .error(429, "`too_many_uploads`: the most version loads at once are in progress; retry after the `Retry-After` seconds")
        .error(500, "`state_not_saved`: the state directory could not be written, nothing changed")
}
