//! `GET /openapi.json`: an OpenAPI 3.0 document of every route the router serves, generated from
//! the loaded models' real schemas (field names, types, category enums, an example from the
//! training data), with every status each operation can answer and the error bodies.
//!
//! [`Op`] adds what every operation shares: 421 (a `Host` outside `--allowed-host`), 503 (the
//! request timeout), 401/403 where a token is needed, 403 for a cross-origin state-changing
//! request, 400/413 where a body is read and 415 on admin routes. A test walks the router's
//! route list (`crate::app::routes`), so a route without an operation here fails it.

mod admin;
mod cloud;
mod graphql;
mod operations;
mod predict;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::Method;
use axum::response::Response;
use serde_json::{Map, Value, json};

pub(crate) use crate::access::Access;
use crate::error::ApiError;
use crate::page_cache::Rendered;
use crate::registry::Registry;
use crate::state::AppState;

/// `GET /openapi.json`, rendered once per registry generation.
pub(crate) async fn openapi(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
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

/// The shape of an operation's error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Errors {
    /// `{"error": {"code", "message", "fields"}}`.
    Api,
    /// The Open Inference Protocol's `{"error": "message"}` (the middleware's refusals still
    /// have the object form).
    V2,
}

/// What the document depends on besides the registry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context {
    /// The server has keys: scoped operations answer 401/403 and carry a security requirement.
    pub(crate) auth: bool,
    /// `--protect-docs`.
    pub(crate) protect_docs: bool,
    /// JWT settings: token-protected operations also accept the `jwt` scheme.
    pub(crate) jwt: bool,
    /// A rate limit is set: the gated operations may answer 429 `rate_limited`.
    pub(crate) rate_limited: bool,
}

impl Context {
    fn needs_token(self, access: Access) -> bool {
        match access {
            Access::Open => false,
            Access::Scope(_) => self.auth,
            Access::Docs => self.auth && self.protect_docs,
        }
    }
}

/// One response of an operation: its descriptions (one per cause) and body schemas.
#[derive(Debug, Default, Clone)]
struct Answer {
    descriptions: Vec<String>,
    media: Option<&'static str>,
    schemas: Vec<Value>,
}

/// An operation being described.
#[derive(Debug, Clone)]
pub(crate) struct Op {
    summary: String,
    description: Option<String>,
    tag: &'static str,
    access: Access,
    errors: Errors,
    parameters: Vec<Value>,
    body: Option<Value>,
    answers: BTreeMap<u16, Answer>,
}

impl Op {
    /// An open operation with no responses yet.
    pub(crate) fn new(summary: impl Into<String>, tag: &'static str) -> Self {
        Op {
            summary: summary.into(),
            description: None,
            tag,
            access: Access::Open,
            errors: Errors::Api,
            parameters: Vec::new(),
            body: None,
            answers: BTreeMap::new(),
        }
    }

    pub(crate) fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    pub(crate) fn access(mut self, access: Access) -> Self {
        self.access = access;
        self
    }

    /// Errors in the V2 shape.
    pub(crate) fn v2(mut self) -> Self {
        self.errors = Errors::V2;
        self
    }

    pub(crate) fn param(mut self, parameter: Value) -> Self {
        self.parameters.push(parameter);
        self
    }

    /// A required request body: `content` is the OpenAPI media type map.
    pub(crate) fn body(mut self, content: Value) -> Self {
        self.body = Some(json!({"required": true, "content": content}));
        self
    }

    /// A JSON answer.
    pub(crate) fn json(self, status: u16, description: &str, schema: Value) -> Self {
        self.media(status, description, "application/json", schema)
    }

    /// An answer of another media type.
    pub(crate) fn media(
        mut self,
        status: u16,
        description: &str,
        media: &'static str,
        schema: Value,
    ) -> Self {
        let answer = self.answers.entry(status).or_default();
        answer.descriptions.push(description.to_owned());
        answer.media = Some(media);
        answer.schemas.push(schema);
        self
    }

    /// An answer without a body.
    pub(crate) fn empty(mut self, status: u16, description: &str) -> Self {
        let answer = self.answers.entry(status).or_default();
        answer.descriptions.push(description.to_owned());
        self
    }

    /// An error answer, in the operation's error shape.
    pub(crate) fn error(self, status: u16, description: &str) -> Self {
        let schema = match self.errors {
            Errors::Api => json!({"$ref": "#/components/schemas/Error"}),
            Errors::V2 => json!({"$ref": "#/components/schemas/V2Error"}),
        };
        self.json(status, description, schema)
    }

    /// An error answered by the middleware, always in the object shape.
    fn refusal(self, status: u16, description: &str) -> Self {
        self.json(
            status,
            description,
            json!({"$ref": "#/components/schemas/Error"}),
        )
    }

    /// The operation object, with what every operation of this method and path shares.
    pub(crate) fn build(mut self, method: &Method, path: &str, ctx: Context) -> Value {
        let changes_state = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        let admin = path.starts_with("/admin/");
        // Admin routes need a token even on a server without keys (its one-time admin token).
        if ctx.needs_token(self.access) || admin {
            let scope = match self.access {
                Access::Scope(s) => s.name(),
                Access::Docs | Access::Open => "predict",
            };
            self = self
                .error(401, "a missing or unknown bearer token")
                .error(403, &format!("the token lacks the `{scope}` scope"));
        }
        if ctx.rate_limited && self.access.required_scope(ctx.protect_docs).is_some() {
            self = self.error(
                429,
                "`rate_limited`: the caller's (--rate-limit) or the server's (--global-rate-limit) budget is spent",
            );
        }
        if changes_state {
            self = self.refusal(403, "`cross_origin`: a state-changing request from another `Origin` (a web page) is refused");
        }
        if admin && changes_state {
            self = self.refusal(415, "`unsupported_media_type`: a body (even on a call that needs none) that is not `application/json`, `application/octet-stream` or `multipart/form-data`");
        }
        if self.body.is_some() {
            self = self
                .error(400, "`bad_request`: the body could not be read")
                .error(413, "`payload_too_large`: the body is over the limit");
        }
        self = self
            .refusal(
                421,
                "`host_not_allowed`: the `Host` is neither loopback nor an --allowed-host",
            )
            .refusal(503, "`timeout`: the request took longer than --timeout");
        let mut op = Map::new();
        op.insert("summary".to_owned(), json!(self.summary));
        if let Some(d) = self.description {
            op.insert("description".to_owned(), json!(d));
        }
        op.insert("tags".to_owned(), json!([self.tag]));
        op.insert(
            "operationId".to_owned(),
            json!(format!("{} {path}", method.as_str())),
        );
        if !self.parameters.is_empty() {
            op.insert("parameters".to_owned(), json!(self.parameters));
        }
        if let Some(body) = self.body {
            op.insert("requestBody".to_owned(), body);
        }
        let mut responses = Map::new();
        for (status, answer) in self.answers {
            let mut response = Map::new();
            response.insert(
                "description".to_owned(),
                json!(answer.descriptions.join("; or ")),
            );
            if let Some(media) = answer.media {
                let mut schemas = answer.schemas;
                schemas.dedup();
                let schema = if schemas.len() == 1 {
                    schemas.remove(0)
                } else {
                    json!({"anyOf": schemas})
                };
                response.insert("content".to_owned(), json!({media: {"schema": schema}}));
            }
            if status == 401 {
                response.insert("headers".to_owned(), json!({"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer realm=\"tabship\""}}));
            }
            if status == 429 {
                response.insert("headers".to_owned(), json!({"Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}}));
            }
            responses.insert(status.to_string(), Value::Object(response));
        }
        op.insert("responses".to_owned(), Value::Object(responses));
        if ctx.auth || admin {
            let security = if (ctx.needs_token(self.access) || admin) && ctx.jwt {
                json!([{"bearer": []}, {"jwt": []}])
            } else if ctx.needs_token(self.access) || admin {
                json!([{"bearer": []}])
            } else {
                json!([])
            };
            op.insert("security".to_owned(), security);
        }
        Value::Object(op)
    }
}

/// A path parameter.
pub(crate) fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": {"type": "string"}})
}

/// An optional query parameter.
pub(crate) fn query_param(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

/// Every operation: `(path, method, operation)`.
type Operations = Vec<(String, Method, Op)>;

/// Builds the document of `registry`.
pub(crate) fn document(state: &AppState, registry: &Registry) -> Value {
    let ctx = Context {
        auth: state.auth_enabled(),
        protect_docs: state.options.protect_docs,
        jwt: state.options.jwt.is_some(),
        rate_limited: state.limits.enabled(),
    };
    let mut schemas = Map::new();
    schemas.insert("Error".to_owned(), error_schema());
    schemas.insert(
        "V2Error".to_owned(),
        json!({
            "type": "object",
            "required": ["error"],
            "description": "the Open Inference Protocol's error; a request refused before it reaches the handler (host, origin, timeout) has the object form of the other routes",
            "properties": {"error": {"anyOf": [{"type": "string"}, error_detail_schema()]}},
        }),
    );
    let mut ops: Operations = Vec::new();
    predict::operations(state, registry, &mut ops, &mut schemas);
    operations::all(&mut ops);
    cloud::operations(state, &mut ops);
    graphql::operations(&mut ops);
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for (path, method, op) in ops {
        let built = op.build(&method, &path, ctx);
        paths
            .entry(path)
            .or_default()
            .insert(method.as_str().to_ascii_lowercase(), built);
    }
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": {
            "title": "tabship",
            "version": crate::VERSION,
            "description": "Predictions from tabship artifacts. Errors are {\"error\": {\"code\", \"message\", \"fields\"}} (the V2 routes answer {\"error\": \"message\"}).",
        },
        "paths": paths,
        "components": {"schemas": schemas},
    });
    doc["components"]["securitySchemes"] = json!({"bearer": {"type": "http", "scheme": "bearer", "description": "a key of the keys file (`tabship keys add`), or the run's admin token"}});
    if let Some(jwt) = &state.options.jwt {
        doc["components"]["securitySchemes"]["jwt"] = json!({
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": format!(
                "an access token of the identity provider `{}` for the audience `{}` (e.g. from the OAuth2 client-credentials flow), sent as `Authorization: Bearer <token>`; its `{}` claim (space separated) or `scp` list grants the scopes `{p}predict`, `{p}feedback`, `{p}metrics` and `{p}admin`; the username is its `{}` claim. Refusals follow RFC 6750: 401 `invalid_token` and 403 `insufficient_scope` with a `WWW-Authenticate: Bearer error=...` challenge",
                jwt.issuer,
                jwt.audience,
                jwt.scope_claim.as_deref().unwrap_or("scope"),
                jwt.username_claim,
                p = jwt.scope_prefix,
            ),
        });
    }
    doc
}

fn error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["error"],
        "properties": {"error": error_detail_schema()},
    })
}

/// The `error` object (also a form of `V2Error`'s).
fn error_detail_schema() -> Value {
    json!({"type": "object", "required": ["code", "message", "fields"], "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "fields": {"type": "array", "items": {"type": "object", "required": ["field", "expected", "received"], "properties": {
            "field": {"type": "string"}, "expected": {"type": "string"}, "received": {"type": "string"},
            "row": {"type": "integer", "minimum": 1, "description": "the row of a list, counted from 1 (as the CLI and Python count)"},
            "index": {"type": "integer", "minimum": 0, "description": "the same row's 0-based position in the list"},
        }}},
    }})
}
