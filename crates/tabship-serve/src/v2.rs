//! Open Inference Protocol V2 (REST), as KServe and Triton speak it: one input tensor per feature
//! (BYTES for categories, FP64/FP32/INT64/INT32 for numbers), outputs `label` + `probabilities`
//! (classifiers) or `prediction` (regressors). Errors are `{"error": "..."}`.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{Map, Value, json};
use tabship::{ClassLabel, ColumnKind, Schema, Scores, Task};

use crate::access::Access;
use crate::auth::{Identity, Scope};
use crate::error::ApiError;
use crate::infer;
use crate::input::ParseOptions;
use crate::predict::{RequestId, parse_json, routing_key};
use crate::registry::LoadedModel;
use crate::routes::Routes;
use crate::scoring::Scored;
use crate::state::AppState;

/// The V2 routes.
/// The V2 routes, nested under `/v2` by `app::routes`: the health probes are open, everything
/// else needs the `predict` scope; refusals and unknown `/v2/...` routes answer in V2's own
/// error shape. `reads_body` adds the body limit and budget to the inference routes.
pub(crate) fn routes(
    state: &Arc<AppState>,
    reads_body: impl FnOnce(Router<Arc<AppState>>) -> Router<Arc<AppState>>,
) -> Routes {
    let open = Routes::new()
        .get("/health/live", live)
        .get("/health/ready", ready);
    let scoped = Routes::new()
        .get("/", server_metadata)
        .get("/models/{name}", model_metadata)
        .get("/models/{name}/ready", model_ready)
        .get("/models/{name}/versions/{version}", version_metadata)
        .get("/models/{name}/versions/{version}/ready", version_ready)
        .post("/models/{name}/infer", infer)
        .post("/models/{name}/versions/{version}/infer", infer_version)
        .map(reads_body)
        .guard(state, Access::Scope(Scope::Predict), v2_refusal);
    open.merge(scoped).map(|r| r.fallback(not_found))
}

/// An `ApiError` in V2's shape, for the access layer.
fn v2_refusal(error: ApiError) -> Response {
    V2Error(error).into_response()
}

async fn not_found(OriginalUri(uri): OriginalUri) -> V2Error {
    V2Error(ApiError::route_not_found(uri.path()))
}

/// A V2 error: `{"error": "message"}` (field details appended to the message).
struct V2Error(ApiError);

impl From<ApiError> for V2Error {
    fn from(e: ApiError) -> Self {
        V2Error(e)
    }
}

impl IntoResponse for V2Error {
    fn into_response(self) -> Response {
        let e = self.0;
        let mut message = e.message.clone();
        if e.fields.len() > 1 {
            let details: Vec<String> = e
                .fields
                .iter()
                .map(|f| format!("`{}`: expected {}, got {}", f.field, f.expected, f.received))
                .collect();
            message = format!("{message}: {}", details.join("; "));
        }
        let mut response = (e.status, Json(json!({ "error": message }))).into_response();
        if e.status == StatusCode::UNAUTHORIZED {
            if let Ok(v) = "Bearer realm=\"tabship\"".parse() {
                response
                    .headers_mut()
                    .insert(axum::http::header::WWW_AUTHENTICATE, v);
            }
        }
        response
    }
}

fn bad(message: impl Into<String>) -> V2Error {
    V2Error(invalid(message))
}

/// 400 `invalid_input`.
fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", message)
}

/// Like every V2 route but the health probes, it needs the `predict` scope: it names the server
/// and its version.
async fn server_metadata() -> Json<Value> {
    Json(json!({"name": "tabship", "version": crate::VERSION, "extensions": []}))
}

async fn live() -> Json<Value> {
    Json(json!({"live": true}))
}

async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let ready = state.accepts_traffic();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut response = (status, Json(json!({"ready": ready}))).into_response();
    if !ready {
        let reason = if state.is_draining() {
            "draining"
        } else {
            "loading"
        };
        response
            .extensions_mut()
            .insert(crate::app::NotReady(reason));
    }
    response
}

fn lookup(
    state: &AppState,
    name: &str,
    version: Option<&str>,
) -> Result<Arc<LoadedModel>, V2Error> {
    let registry = state.registry();
    let entry = registry.model(name)?;
    Ok(match version {
        Some(v) => entry
            .version(v)
            .ok_or_else(|| ApiError::version_not_found(name, v))?
            .clone(),
        None => entry.route(None).clone(),
    })
}

fn metadata(state: &AppState, model: &LoadedModel) -> Value {
    let registry = state.registry();
    let versions: Vec<String> = registry
        .models
        .get(&model.name)
        .map(|e| e.versions.keys().cloned().collect())
        .unwrap_or_default();
    let inputs: Vec<Value> = model
        .pipeline
        .schema()
        .columns
        .iter()
        .map(|c| {
            let datatype = match c.kind {
                ColumnKind::Numeric => "FP64",
                ColumnKind::Categorical => "BYTES",
            };
            json!({"name": c.name, "datatype": datatype, "shape": [-1]})
        })
        .collect();
    let outputs = match model.pipeline.task() {
        Task::Classification => json!([
            {"name": "label", "datatype": label_datatype(model), "shape": [-1]},
            {"name": "probabilities", "datatype": "FP64", "shape": [-1, model.pipeline.classes().len()]},
        ]),
        Task::Regression => json!([{"name": "prediction", "datatype": "FP64", "shape": [-1]}]),
    };
    json!({
        "name": model.name,
        "versions": versions,
        "platform": "tabship",
        "inputs": inputs,
        "outputs": outputs,
        "parameters": {"version": model.version, "classes": model.pipeline.classes().iter().map(ToString::to_string).collect::<Vec<_>>()},
    })
}

fn label_datatype(model: &LoadedModel) -> &'static str {
    match model.pipeline.classes().first() {
        Some(ClassLabel::Integer(_)) => "INT64",
        _ => "BYTES",
    }
}

async fn model_metadata(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, V2Error> {
    let model = lookup(&state, &name, None)?;
    Ok(Json(metadata(&state, &model)))
}

async fn version_metadata(
    State(state): State<Arc<AppState>>,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<Value>, V2Error> {
    let model = lookup(&state, &name, Some(&version))?;
    Ok(Json(metadata(&state, &model)))
}

async fn model_ready(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, V2Error> {
    let model = lookup(&state, &name, None)?;
    Ok(Json(json!({"name": model.name, "ready": true})))
}

async fn version_ready(
    State(state): State<Arc<AppState>>,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<Value>, V2Error> {
    let model = lookup(&state, &name, Some(&version))?;
    Ok(Json(json!({"name": model.name, "ready": true})))
}

async fn infer(
    State(state): State<Arc<AppState>>,
    Extension(rid): Extension<RequestId>,
    Extension(identity): Extension<Identity>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, V2Error> {
    run_infer(&state, (rid, identity), &name, None, &headers, body).await
}

async fn infer_version(
    State(state): State<Arc<AppState>>,
    Extension(rid): Extension<RequestId>,
    Extension(identity): Extension<Identity>,
    Path((name, version)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, V2Error> {
    run_infer(
        &state,
        (rid, identity),
        &name,
        Some(&version),
        &headers,
        body,
    )
    .await
}

/// Replaces bare `NaN` tokens (outside strings) by `null`: NumPy-based clients such as tritonclient
/// write missing values of float tensors as `NaN`, which is not JSON. Missing values are then
/// imputed like a `null` in `/predict`. Infinity stays an error.
pub(crate) fn nan_to_null(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !bytes.windows(3).any(|w| w == b"NaN") {
        return std::borrow::Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() + 16);
    let (mut in_string, mut escaped, mut i) = (false, false, 0);
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if bytes[i..].starts_with(b"NaN") {
            out.extend_from_slice(b"null");
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    std::borrow::Cow::Owned(out)
}

/// Flattens nested `data` into a list of scalars.
fn flatten<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| flatten(v, out)),
        other => out.push(other),
    }
}

/// Turns a V2 request's `inputs` (one tensor per schema column, shape `[n]` or `[n, 1]`) into the
/// `{"features": [[...], ...]}` body of `/predict` (rows in schema order) and its number of rows.
pub(crate) fn decode_inputs(request: &Value, schema: &Schema) -> Result<(Value, usize), ApiError> {
    let Some(Value::Array(inputs)) = request.get("inputs") else {
        return Err(invalid("`inputs`: expected a list of input tensors"));
    };
    let mut columns: Vec<Option<Vec<&Value>>> = vec![None; schema.len()];
    let mut rows: Option<usize> = None;
    for (i, input) in inputs.iter().enumerate() {
        let tensor_name = input
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("`inputs[{i}].name`: expected text")))?;
        let position = schema.position(tensor_name).ok_or_else(|| {
            invalid(format!(
                "unknown input `{tensor_name}`: the model's inputs are {}",
                schema.names().collect::<Vec<_>>().join(", ")
            ))
        })?;
        let datatype = input.get("datatype").and_then(Value::as_str).unwrap_or("");
        let kind = schema.columns[position].kind;
        let numeric_type = matches!(
            datatype,
            "FP64"
                | "FP32"
                | "FP16"
                | "INT64"
                | "INT32"
                | "INT16"
                | "INT8"
                | "UINT64"
                | "UINT32"
                | "UINT16"
                | "UINT8"
        );
        if !(numeric_type || datatype == "BYTES") {
            return Err(invalid(format!(
                "input `{tensor_name}`: unsupported datatype `{datatype}`"
            )));
        }
        if kind == ColumnKind::Numeric && !numeric_type {
            return Err(invalid(format!(
                "input `{tensor_name}`: expected a numeric datatype (FP64), got `{datatype}`"
            )));
        }
        let shape: Vec<i64> = input
            .get("shape")
            .and_then(Value::as_array)
            .map(|s| s.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default();
        let mut data = Vec::new();
        flatten(input.get("data").unwrap_or(&Value::Null), &mut data);
        let n = match shape.as_slice() {
            [n] | [n, 1] if *n >= 0 && usize::try_from(*n).ok() == Some(data.len()) => data.len(),
            _ => {
                return Err(invalid(format!(
                    "input `{tensor_name}`: shape {shape:?} must be [n] or [n, 1] and match its {} data values",
                    data.len()
                )));
            }
        };
        if *rows.get_or_insert(n) != n {
            return Err(invalid(format!(
                "input `{tensor_name}` has {n} rows, other inputs {}",
                rows.unwrap_or(0)
            )));
        }
        columns[position] = Some(data);
    }
    let missing: Vec<&str> = schema
        .columns
        .iter()
        .zip(&columns)
        .filter(|(_, c)| c.is_none())
        .map(|(s, _)| s.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(invalid(format!("missing inputs: {}", missing.join(", "))));
    }
    let n = rows.unwrap_or(0);
    if n == 0 {
        return Err(invalid("the inputs hold no rows"));
    }
    let table: Vec<Value> = (0..n)
        .map(|r| {
            Value::Array(
                columns
                    .iter()
                    .map(|c| c.as_ref().map_or(Value::Null, |c| c[r].clone()))
                    .collect(),
            )
        })
        .collect();
    let mut features = Map::new();
    features.insert("features".to_owned(), Value::Array(table));
    Ok((Value::Object(features), n))
}

/// Open Inference Protocol V2 `infer` as a data-plane protocol: one tensor per column in, the
/// `label`/`probabilities` or `prediction` tensors out.
#[derive(Debug, Clone, Copy)]
struct V2Infer;

impl crate::infer::Protocol for V2Infer {
    fn parse(self, bytes: &[u8]) -> Result<Value, ApiError> {
        let request = parse_json(&nan_to_null(bytes))?;
        // The protocol's `id` is text, echoed in the answer: anything else would be echoed as is.
        if let Some(id) = request.get("id").filter(|id| !id.is_string()) {
            return Err(invalid(format!(
                "`id`: expected text, got {}",
                crate::input::json_kind(id)
            )));
        }
        Ok(request)
    }

    fn rows(self, sent: &Arc<Value>, model: &LoadedModel) -> Result<Arc<Value>, ApiError> {
        decode_inputs(sent, model.pipeline.schema()).map(|(features, _)| Arc::new(features))
    }

    fn encode(
        self,
        model: &LoadedModel,
        scored: &Scored,
        request: &Value,
        request_id: &str,
        _username: Option<&str>,
    ) -> Result<Vec<u8>, ApiError> {
        let scores = &scored.scores;
        let n = scores.len();
        let wanted: Option<Vec<String>> =
            request.get("outputs").and_then(Value::as_array).map(|o| {
                o.iter()
                    .filter_map(|x| x.get("name").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            });
        let mut outputs = Vec::new();
        match scores {
            Scores::Classes { classes, proba } => {
                let labels = model.pipeline.classes();
                let k = labels.len();
                let label_data: Vec<Value> = classes
                    .iter()
                    .map(|&c| match &labels[c] {
                        ClassLabel::Integer(i) => json!(i),
                        ClassLabel::Text(s) => json!(s),
                    })
                    .collect();
                outputs.push(json!({"name": "label", "datatype": label_datatype(model), "shape": [n], "data": label_data}));
                outputs.push(json!({"name": "probabilities", "datatype": "FP64", "shape": [n, k], "data": proba}));
            }
            Scores::Values(v) => {
                outputs.push(
                    json!({"name": "prediction", "datatype": "FP64", "shape": [n], "data": v}),
                );
            }
        }
        if let Some(wanted) = wanted {
            for w in &wanted {
                if !outputs.iter().any(|o| o["name"] == w.as_str()) {
                    return Err(invalid(format!("unknown output `{w}`")));
                }
            }
            outputs.retain(|o| wanted.iter().any(|w| o["name"] == w.as_str()));
        }
        let mut answer = json!({
            "model_name": model.name,
            "model_version": model.version,
            "outputs": outputs,
            "parameters": {"request_id": request_id},
        });
        if let Some(id) = request.get("id") {
            answer["id"] = id.clone();
        }
        serde_json::to_vec(&answer).map_err(ApiError::internal)
    }
}

async fn run_infer(
    state: &Arc<AppState>,
    (rid, identity): (RequestId, Identity),
    name: &str,
    version: Option<&str>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, V2Error> {
    let started = Instant::now();
    state.require_ready()?;
    if headers.contains_key("inference-header-content-length") {
        return Err(bad(
            "the binary tensor extension is not supported: send JSON `data` (tritonclient: binary_data=False)",
        ));
    }
    let path = match version {
        Some(v) => format!("/v2/models/{name}/versions/{v}/infer"),
        None => format!("/v2/models/{name}/infer"),
    };
    let (bytes, fingerprint) = infer::admit(state, &rid, &identity, headers, (&path, None), body)?;
    let call = infer::Call {
        started,
        rid,
        identity,
        fingerprint,
        name: Some(name.to_owned()),
        version: version.map(str::to_owned),
        routing_key: routing_key(headers),
        absent_as_missing: Ok(Some(ParseOptions::default().absent_is_missing)),
    };
    let json = infer::infer(state, V2Infer, call, &bytes).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}

#[cfg(test)]
mod tests {
    use super::nan_to_null;

    #[test]
    fn nan_tokens_become_null_outside_strings() {
        let got = nan_to_null(br#"{"data": [1.0, NaN, "NaN", "a\"NaN"], "x": NaN}"#);
        assert_eq!(
            std::str::from_utf8(&got).expect("utf-8"),
            r#"{"data": [1.0, null, "NaN", "a\"NaN"], "x": null}"#
        );
        assert!(matches!(nan_to_null(b"[1]"), std::borrow::Cow::Borrowed(_)));
    }
}
