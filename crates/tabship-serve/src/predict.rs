//! `POST /predict`, `/models/{name}/predict` and `/models/{name}/versions/{version}/predict`.

use std::sync::Arc;
use std::time::Instant;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value as Json_;
use tabship::{ClassLabel, Predictions};

use crate::auth::Scope;
use crate::error::ApiError;
use crate::feedback::Predicted;
use crate::input;
use crate::registry::LoadedModel;
use crate::score::{Scores, score};
use crate::state::AppState;

/// The id of the request being served (set by the middleware, echoed as `x-request-id`).
#[derive(Debug, Clone)]
pub struct RequestId(pub Arc<str>);

/// The header choosing the A/B arm: requests with the same key get the same version.
pub const ROUTING_KEY_HEADER: &str = "x-routing-key";

/// Reads a body, mapping the extractor's failure (413 when too large).
pub(crate) fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(status, "payload_too_large", "the request body is too large")
        } else {
            ApiError::new(status, "bad_request", "could not read the request body")
        }
    })
}

/// Parses a JSON body with a message naming the position of the problem.
pub(crate) fn parse_json(bytes: &[u8]) -> Result<Json_, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_json(format!(
            "malformed JSON at line {}, column {}: {}",
            e.line(),
            e.column(),
            describe_json_error(&e)
        ))
    })
}

/// serde_json's message without its own position suffix (already given above), starting lowercase
/// unless it opens with an acronym (`EOF while parsing ...`).
fn describe_json_error(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let text = text.strip_suffix(&suffix).unwrap_or(&text);
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if !second.is_uppercase() => first
            .to_lowercase()
            .chain(text[first.len_utf8()..].chars())
            .collect(),
        _ => text.to_string(),
    }
}

/// One prediction in a response: a class label or a value.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum Out<'a> {
    Label(&'a ClassLabel),
    Value(f64),
}

/// Class probabilities of one row, as `{"label": p, ...}` in class order.
#[derive(Debug)]
pub(crate) struct Probabilities<'a> {
    classes: &'a [ClassLabel],
    values: &'a [f64],
}

impl Serialize for Probabilities<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.classes.len()))?;
        for (c, p) in self.classes.iter().zip(self.values) {
            map.serialize_entry(&c.to_string(), p)?;
        }
        map.end()
    }
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum ProbaOut<'a> {
    One(Probabilities<'a>),
    Many(Vec<Probabilities<'a>>),
}

/// The answer of a predict endpoint.
#[derive(Debug, Serialize)]
pub(crate) struct PredictResponse<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    prediction: Option<Out<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    predictions: Option<Vec<Out<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    probabilities: Option<ProbaOut<'a>>,
    model: &'a str,
    version: &'a str,
    request_id: &'a str,
    username: Option<&'a str>,
}

/// Builds the response body for scored rows.
pub(crate) fn response_body<'a>(
    model: &'a LoadedModel,
    scores: &'a Scores,
    single: bool,
    request_id: &'a str,
    username: Option<&'a str>,
) -> PredictResponse<'a> {
    let classes = model.pipeline.classes();
    let (outs, proba): (Vec<Out<'a>>, Option<Vec<Probabilities<'a>>>) = match scores {
        Scores::Classes {
            classes: idx,
            proba,
        } => (
            idx.iter().map(|&i| Out::Label(&classes[i])).collect(),
            Some(
                proba
                    .chunks_exact(classes.len())
                    .map(|values| Probabilities { classes, values })
                    .collect(),
            ),
        ),
        Scores::Values(v) => (v.iter().map(|&x| Out::Value(x)).collect(), None),
    };
    let (prediction, predictions, probabilities) = if single {
        (
            outs.into_iter().next(),
            None,
            proba.and_then(|p| p.into_iter().next()).map(ProbaOut::One),
        )
    } else {
        (None, Some(outs), proba.map(ProbaOut::Many))
    };
    PredictResponse {
        prediction,
        predictions,
        probabilities,
        model: &model.name,
        version: &model.version,
        request_id,
        username,
    }
}

/// Scores a parsed body on `model`, on the blocking pool when it is large.
pub(crate) async fn score_body(
    state: &AppState,
    model: &Arc<LoadedModel>,
    body: Arc<Json_>,
) -> Result<(Scores, bool), ApiError> {
    let large = match body.as_ref() {
        Json_::Object(o) => o
            .get("instances")
            .or_else(|| o.get("features"))
            .and_then(Json_::as_array)
            .is_some_and(|a| a.len() >= state.options.blocking_rows),
        _ => false,
    };
    let run = {
        let model = model.clone();
        move || -> Result<(Scores, bool), ApiError> {
            let rows = input::parse(&body, model.pipeline.schema())?;
            let scores = score(&model.pipeline, &rows.rows)
                .map_err(|(row, e)| ApiError::from_prediction(e, (!rows.single).then_some(row)))?;
            if model.monitor.has_drift_profile() {
                let predictions = match &scores {
                    Scores::Classes { classes, .. } => Predictions::Classes(classes.clone()),
                    Scores::Values(v) => Predictions::Values(v.clone()),
                };
                model
                    .monitor
                    .observe(&model.pipeline, &rows.rows, &predictions);
            }
            Ok((scores, rows.single))
        }
    };
    if large {
        tokio::task::spawn_blocking(run)
            .await
            .map_err(ApiError::internal)?
    } else {
        run()
    }
}

/// `POST /predict`.
pub(crate) async fn predict_default(
    State(state): State<Arc<AppState>>,
    Extension(rid): Extension<RequestId>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    predict(state, rid, headers, None, None, body).await
}

/// `POST /models/{name}/predict`.
pub(crate) async fn predict_model(
    State(state): State<Arc<AppState>>,
    Extension(rid): Extension<RequestId>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    predict(state, rid, headers, Some(name), None, body).await
}

/// `POST /models/{name}/versions/{version}/predict`.
pub(crate) async fn predict_version(
    State(state): State<Arc<AppState>>,
    Extension(rid): Extension<RequestId>,
    Path((name, version)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    predict(state, rid, headers, Some(name), Some(version), body).await
}

async fn predict(
    state: Arc<AppState>,
    rid: RequestId,
    headers: HeaderMap,
    name: Option<String>,
    version: Option<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let identity = state.authorize(&headers, Scope::Predict)?;
    state.require_ready()?;
    let bytes = body_bytes(body)?;
    let registry = state.registry();
    let name = match name {
        Some(n) => n,
        None => registry
            .default_model
            .clone()
            .ok_or_else(|| ApiError::model_not_found("(default)"))?,
    };
    let entry = registry.model(&name)?;
    let (model, shadow) = match &version {
        Some(v) => (
            entry
                .version(v)
                .ok_or_else(|| ApiError::version_not_found(&name, v))?
                .clone(),
            None,
        ),
        None => {
            let key = headers
                .get(ROUTING_KEY_HEADER)
                .and_then(|v| v.to_str().ok());
            let served = entry.route(key).clone();
            let shadow = entry
                .shadow
                .as_ref()
                .and_then(|s| entry.versions.get(s))
                .filter(|s| s.version != served.version)
                .cloned();
            (served, shadow)
        }
    };
    drop(registry);
    let body = Arc::new(parse_json(&bytes)?);
    let (scores, single) = score_body(&state, &model, body.clone()).await?;
    let username = identity.username.as_deref();
    let answer = response_body(&model, &scores, single, &rid.0, username);
    let json = serde_json::to_vec(&answer).map_err(ApiError::internal)?;
    let predicted = match &scores {
        Scores::Classes { classes, .. } => {
            for &c in classes {
                model.count_prediction(c);
            }
            Predicted::Classes(classes.clone())
        }
        Scores::Values(v) => {
            for _ in v {
                model.count_prediction(0);
            }
            Predicted::Values(v.clone())
        }
    };
    if let Some(log) = &state.log {
        log.write(log_line(
            &rid.0, &model, username, &body, &json, started, false,
        ));
        state
            .metrics
            .log_dropped
            .inner()
            .store(log.dropped(), std::sync::atomic::Ordering::Relaxed);
    }
    state.feedback.remember(
        rid.0.to_string(),
        &model.name,
        &model.version,
        predicted.clone(),
    );
    if let Some(shadow) = shadow {
        let state = state.clone();
        let username = identity.username.clone();
        tokio::spawn(async move {
            run_shadow(&state, &rid, &shadow, username.as_deref(), body, &predicted).await;
        });
    }
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}

async fn run_shadow(
    state: &AppState,
    rid: &RequestId,
    shadow: &Arc<LoadedModel>,
    username: Option<&str>,
    body: Arc<Json_>,
    served: &Predicted,
) {
    let started = Instant::now();
    let labels = crate::metrics::VersionLabels {
        model: shadow.name.clone(),
        version: shadow.version.clone(),
    };
    let Ok((scores, single)) = score_body(state, shadow, body.clone()).await else {
        tracing::warn!(request_id = %rid.0, version = %shadow.version, "shadow version could not score the request");
        return;
    };
    state.metrics.shadow.get_or_create(&labels).inc();
    let differs = match (&scores, served) {
        (Scores::Classes { classes, .. }, Predicted::Classes(s)) => classes != s,
        (Scores::Values(v), Predicted::Values(s)) => v != s,
        _ => true,
    };
    if differs {
        state
            .metrics
            .shadow_disagreements
            .get_or_create(&labels)
            .inc();
    }
    if let Some(log) = &state.log {
        let answer = response_body(shadow, &scores, single, &rid.0, username);
        if let Ok(json) = serde_json::to_vec(&answer) {
            log.write(log_line(
                &rid.0, shadow, username, &body, &json, started, true,
            ));
        }
    }
}

#[derive(Serialize)]
struct LogLine<'a> {
    ts: String,
    request_id: &'a str,
    model: &'a str,
    version: &'a str,
    username: Option<&'a str>,
    shadow: bool,
    latency_ms: f64,
    inputs: &'a Json_,
    outputs: &'a serde_json::value::RawValue,
}

fn log_line(
    rid: &str,
    model: &LoadedModel,
    username: Option<&str>,
    inputs: &Json_,
    outputs: &[u8],
    started: Instant,
    shadow: bool,
) -> String {
    let outputs = std::str::from_utf8(outputs)
        .ok()
        .and_then(|s| serde_json::value::RawValue::from_string(s.to_owned()).ok())
        .unwrap_or_else(|| {
            serde_json::value::RawValue::from_string("null".to_owned()).expect("null is JSON")
        });
    serde_json::to_string(&LogLine {
        ts: crate::registry::now_rfc3339(),
        request_id: rid,
        model: &model.name,
        version: &model.version,
        username,
        shadow,
        latency_ms: started.elapsed().as_secs_f64() * 1000.0,
        inputs,
        outputs: &outputs,
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_name_the_position_once_and_keep_acronyms() {
        let error = parse_json(b"{\"age\":").expect_err("truncated JSON");
        let message = error.to_string();
        assert!(
            message.contains("at line 1, column 7: EOF while parsing a value"),
            "{message}"
        );
        assert!(!message.contains("line 1 column 7"), "{message}");
        let error = parse_json(b"{\"age\" 3}").expect_err("missing colon");
        let message = error.to_string();
        assert!(message.contains(": expected `:`"), "{message}");
    }
}
