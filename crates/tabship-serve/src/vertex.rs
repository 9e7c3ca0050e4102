//! Vertex AI's custom-container prediction contract, served on the route Vertex names in
//! `AIP_PREDICT_ROUTE` (see [`crate::cloud`]): `{"instances": [...], "parameters": {...}}` →
//! `{"predictions": [...]}`, one prediction per instance: `{"label", "probabilities"}` for a
//! classifier (probabilities by class label, in class order), `{"value"}` for a regressor.
//! Instances are records (objects by column name) or lists of values in the model's column
//! order; `parameters` is accepted (and logged) but changes nothing. Requests over 1.5 MB are
//! refused 413, as Vertex itself refuses them.

use std::sync::Arc;
use std::time::Instant;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value as Json, json};
use tabship::Scores;

use crate::auth::Identity;
use crate::error::ApiError;
use crate::infer::{self, Call, Protocol};
use crate::predict::{RequestId, parse_json};
use crate::registry::LoadedModel;
use crate::scoring::Scored;
use crate::state::AppState;

/// Vertex AI's request size limit (1.5 MB), applied to the predict route.
pub const BODY_LIMIT: usize = 1_500_000;

/// What a JSON value is, for error messages.
fn kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

/// The Vertex predict route as a data-plane protocol.
#[derive(Debug, Clone, Copy)]
struct VertexPredict;

impl Protocol for VertexPredict {
    fn parse(self, bytes: &[u8]) -> Result<Json, ApiError> {
        let body = parse_json(bytes)?;
        let Some(object) = body.as_object() else {
            return Err(ApiError::invalid_field(
                "(body)",
                "an object {\"instances\": [...], \"parameters\": {...}}",
                kind(&body),
            ));
        };
        match object.get("instances") {
            Some(Json::Array(items)) if !items.is_empty() => {}
            Some(Json::Array(_)) => {
                return Err(ApiError::invalid_field(
                    "instances",
                    "a non-empty list of instances",
                    "an empty list",
                ));
            }
            Some(other) => {
                return Err(ApiError::invalid_field(
                    "instances",
                    "a list of instances",
                    kind(other),
                ));
            }
            None => {
                return Err(ApiError::invalid_field(
                    "instances",
                    "a list of instances",
                    "nothing",
                ));
            }
        }
        match object.get("parameters") {
            None | Some(Json::Object(_)) | Some(Json::Null) => Ok(body),
            Some(other) => Err(ApiError::invalid_field(
                "parameters",
                "an object",
                kind(other),
            )),
        }
    }

    fn rows(self, sent: &Arc<Json>, _model: &LoadedModel) -> Result<Arc<Json>, ApiError> {
        let instances = sent["instances"].clone();
        // Lists of values are positional rows (`features`), objects are records.
        let key = if instances
            .as_array()
            .is_some_and(|items| items.iter().all(Json::is_array))
        {
            "features"
        } else {
            "instances"
        };
        let mut body = Map::new();
        body.insert(key.to_owned(), instances);
        Ok(Arc::new(Json::Object(body)))
    }

    fn encode(
        self,
        model: &LoadedModel,
        scored: &Scored,
        _sent: &Json,
        _request_id: &str,
        _username: Option<&str>,
    ) -> Result<Vec<u8>, ApiError> {
        let predictions: Vec<Json> = match &scored.scores {
            Scores::Classes { classes, proba } => {
                let labels = model.pipeline.classes();
                classes
                    .iter()
                    .zip(proba.chunks_exact(labels.len()))
                    .map(|(&c, p)| {
                        let probabilities: Map<String, Json> = labels
                            .iter()
                            .zip(p)
                            .map(|(l, &x)| (l.to_string(), json!(x)))
                            .collect();
                        json!({"label": labels[c].to_string(), "probabilities": probabilities})
                    })
                    .collect()
            }
            Scores::Values(values) => values.iter().map(|v| json!({"value": v})).collect(),
        };
        serde_json::to_vec(&json!({"predictions": predictions})).map_err(ApiError::internal)
    }
}

/// `POST AIP_PREDICT_ROUTE`: the default model (Vertex deploys one model per container).
pub(crate) async fn predict(
    State(state): State<Arc<AppState>>,
    Extension(rid): Extension<RequestId>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    state.require_ready()?;
    let path = state
        .options
        .cloud
        .vertex_predict
        .clone()
        .unwrap_or_default();
    let (bytes, fingerprint) =
        infer::admit(&state, &rid, &identity, &headers, (&path, None), body)?;
    let call = Call::routed(started, rid, identity, fingerprint, &headers);
    let answer = infer::infer(&state, VertexPredict, call, &bytes).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], answer).into_response())
}
