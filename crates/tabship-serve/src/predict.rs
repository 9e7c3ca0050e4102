//! `POST /predict`, `/models/{name}/predict` and `/models/{name}/versions/{version}/predict`.

use std::sync::Arc;
use std::time::Instant;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::{Map, Value as Json_};
use tabship::{ClassLabel, Scores};

use crate::auth::Identity;
use crate::error::ApiError;
use crate::infer;
use crate::registry::LoadedModel;
use crate::scoring::Scored;
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

/// The values that went to a column's Unknown slot: one map for a single record, one per row
/// (aligned with `predictions`, `{}` for a row without any) for a list.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum UnknownOut<'a> {
    One(&'a Map<String, Json_>),
    Many(&'a [Map<String, Json_>]),
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
    /// Present only when a value went to an Unknown slot.
    #[serde(skip_serializing_if = "Option::is_none")]
    unknown: Option<UnknownOut<'a>>,
    model: &'a str,
    version: &'a str,
    request_id: &'a str,
    username: Option<&'a str>,
}

/// Builds the response body for scored rows.
pub(crate) fn response_body<'a>(
    model: &'a LoadedModel,
    scored: &'a Scored,
    request_id: &'a str,
    username: Option<&'a str>,
) -> PredictResponse<'a> {
    let (scores, single) = (&scored.scores, scored.single);
    let classes = model.pipeline.classes();
    let unknown = if scored.unknown.iter().all(Map::is_empty) {
        None
    } else if single {
        scored.unknown.first().map(UnknownOut::One)
    } else {
        Some(UnknownOut::Many(&scored.unknown))
    };
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
        unknown,
        model: &model.name,
        version: &model.version,
        request_id,
        username,
    }
}

/// `POST /predict`.
pub(crate) async fn predict_default(
    State(state): State<Arc<AppState>>,
    Extension(rid): Extension<RequestId>,
    Extension(identity): Extension<Identity>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let target = Target::default();
    predict(state, (rid, identity), query, headers, target, body).await
}

/// `POST /models/{name}/predict`.
pub(crate) async fn predict_model(
    State(state): State<Arc<AppState>>,
    Extension(rid): Extension<RequestId>,
    Extension(identity): Extension<Identity>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let target = Target {
        name: Some(name),
        version: None,
    };
    predict(state, (rid, identity), query, headers, target, body).await
}

/// `POST /models/{name}/versions/{version}/predict`.
pub(crate) async fn predict_version(
    State(state): State<Arc<AppState>>,
    Extension(rid): Extension<RequestId>,
    Extension(identity): Extension<Identity>,
    Path((name, version)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let target = Target {
        name: Some(name),
        version: Some(version),
    };
    predict(state, (rid, identity), query, headers, target, body).await
}

/// The model (default when `None`) and version (routed when `None`) a request asked for.
#[derive(Debug, Default)]
struct Target {
    name: Option<String>,
    version: Option<String>,
}

impl Target {
    /// The route asked for, as a path (what a resend must repeat, with the query and body).
    fn path(&self) -> String {
        match (&self.name, &self.version) {
            (None, _) => "/predict".to_owned(),
            (Some(n), None) => format!("/models/{n}/predict"),
            (Some(n), Some(v)) => format!("/models/{n}/versions/{v}/predict"),
        }
    }
}

/// The query parameter and header with which one request reads absent fields as missing.
pub const ABSENT_AS_MISSING_PARAM: &str = "absent_as_missing";
/// The header form of [`ABSENT_AS_MISSING_PARAM`].
pub const ABSENT_AS_MISSING_HEADER: &str = "x-absent-as-missing";

/// The request's own `absent_as_missing` choice (query first, then header), if it made one.
fn absent_as_missing_request(
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Option<bool>, ApiError> {
    let from_query = query.and_then(|q| {
        q.split('&')
            .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
            .find(|(k, _)| *k == ABSENT_AS_MISSING_PARAM)
            .map(|(_, v)| (ABSENT_AS_MISSING_PARAM, v.to_owned()))
    });
    let from_header = || {
        headers.get(ABSENT_AS_MISSING_HEADER).map(|v| {
            (
                ABSENT_AS_MISSING_HEADER,
                v.to_str().unwrap_or("?").to_owned(),
            )
        })
    };
    let Some((field, value)) = from_query.or_else(from_header) else {
        return Ok(None);
    };
    match value.to_ascii_lowercase().as_str() {
        "" | "true" | "1" | "yes" => Ok(Some(true)),
        "false" | "0" | "no" => Ok(Some(false)),
        _ => Err(ApiError::invalid_field(
            field,
            "true or false",
            format!("`{value}`"),
        )),
    }
}

/// `/predict` and its `/models/...` forms as a data-plane protocol: the body is the rows (also
/// GraphQL's, whose resolvers turn a typed input into such a body).
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonPredict;

impl crate::infer::Protocol for JsonPredict {
    fn parse(self, bytes: &[u8]) -> Result<Json_, ApiError> {
        parse_json(bytes)
    }

    fn rows(self, sent: &Arc<Json_>, _model: &LoadedModel) -> Result<Arc<Json_>, ApiError> {
        Ok(sent.clone())
    }

    fn encode(
        self,
        model: &LoadedModel,
        scored: &Scored,
        _sent: &Json_,
        request_id: &str,
        username: Option<&str>,
    ) -> Result<Vec<u8>, ApiError> {
        serde_json::to_vec(&response_body(model, scored, request_id, username))
            .map_err(ApiError::internal)
    }
}

async fn predict(
    state: Arc<AppState>,
    (rid, identity): (RequestId, Identity),
    query: Option<String>,
    headers: HeaderMap,
    target: Target,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    state.require_ready()?;
    let path = target.path();
    let (bytes, fingerprint) = infer::admit(
        &state,
        &rid,
        &identity,
        &headers,
        (&path, query.as_deref()),
        body,
    )?;
    let Target { name, version } = target;
    let call = infer::Call {
        started,
        rid,
        identity,
        fingerprint,
        name,
        version,
        routing_key: routing_key(&headers),
        absent_as_missing: absent_as_missing_request(query.as_deref(), &headers),
    };
    let json = infer::infer(&state, JsonPredict, call, &bytes).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}

/// The `X-Routing-Key` header, when it is text.
pub(crate) fn routing_key(headers: &HeaderMap) -> Option<String> {
    headers
        .get(ROUTING_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A number in a request is the nearest `f64` to its text, as the client meant it: one ulp
    /// off would move a value that sits on a split threshold to the other side.
    #[test]
    fn json_numbers_parse_to_the_nearest_f64() {
        for text in [
            "0.20387771725654602",
            "0.1",
            "5e-324",
            "1.7976931348623157e308",
        ] {
            let body = format!("{{\"x\": {text}}}");
            let parsed = parse_json(body.as_bytes()).expect("JSON")["x"]
                .as_f64()
                .expect("number");
            let nearest: f64 = text.parse().expect("number");
            assert_eq!(parsed.to_bits(), nearest.to_bits(), "{text}");
        }
    }

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
