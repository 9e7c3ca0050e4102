//! The data plane: every served prediction, whatever its protocol, goes through [`infer`]. It
//! owns routing (pinned version, alias, A/B split, `X-Routing-Key`), scoring (the core's
//! `Pipeline::score_records`, drift observed on the way), the request id and its feedback
//! memory, the prediction counters, the prediction log and the shadow version. A protocol
//! (`/predict` and its `/models/...` forms, Open Inference Protocol V2) only says how its body
//! is parsed into rows and how scored rows are answered: a [`Protocol`].

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use std::borrow::Cow;

use serde_json::Value as Json;
use tabship::Scores;

use crate::auth::Identity;
use crate::error::ApiError;
use crate::feedback::{Predicted, Remembered};
use crate::input::ParseOptions;
use crate::logs::{Kind, PredictionRecord};
use crate::predict::{RequestId, body_bytes};
use crate::registry::LoadedModel;
use crate::request_id;
use crate::scoring::{Scored, count_predictions, score_body};
use crate::state::AppState;

/// How one protocol reads its requests and writes its answers; everything else is [`infer`]'s.
pub(crate) trait Protocol: Copy + Send + Sync + 'static {
    /// Parses the body as sent (what the prediction log records as `inputs`).
    fn parse(self, bytes: &[u8]) -> Result<Json, ApiError>;
    /// The rows to score on `model`, as a `/predict` body (`instances` or `features`); called
    /// again for the shadow version, whose schema may differ.
    fn rows(self, sent: &Arc<Json>, model: &LoadedModel) -> Result<Arc<Json>, ApiError>;
    /// The answer's JSON bytes (what the prediction log records as `outputs`).
    fn encode(
        self,
        model: &LoadedModel,
        scored: &Scored,
        sent: &Json,
        request_id: &str,
        username: Option<&str>,
    ) -> Result<Vec<u8>, ApiError>;
}

/// One admitted request: who sent it, under which id, and what it asked for.
#[derive(Debug)]
pub(crate) struct Call {
    /// When the request arrived (the log's `latency_ms` counts from here).
    pub started: Instant,
    /// The request id, remembered for `/feedback`.
    pub rid: RequestId,
    /// The caller.
    pub identity: Identity,
    /// A digest of the request, when the client chose its id (a resend must repeat it).
    pub fingerprint: Option<[u8; 32]>,
    /// The model (the default one when `None`).
    pub name: Option<String>,
    /// A pinned version (routed, and shadowed, when `None`).
    pub version: Option<String>,
    /// The `X-Routing-Key` header: requests with the same key get the same A/B arm.
    pub routing_key: Option<String>,
    /// The request's own `absent_as_missing` choice, or why it is invalid (reported after
    /// routing, as it always was).
    pub absent_as_missing: Result<Option<bool>, ApiError>,
}

impl Call {
    /// A call to the default model, routed (no pinned version), with the `X-Routing-Key` of
    /// `headers` and no `absent_as_missing` choice of its own: what the protocols without model
    /// or version in their path (SageMaker, Vertex AI, GraphQL before its arguments) start from.
    pub(crate) fn routed(
        started: Instant,
        rid: RequestId,
        identity: Identity,
        fingerprint: Option<[u8; 32]>,
        headers: &HeaderMap,
    ) -> Self {
        Call {
            started,
            rid,
            identity,
            fingerprint,
            name: None,
            version: None,
            routing_key: crate::predict::routing_key(headers),
            absent_as_missing: Ok(None),
        }
    }
}

/// The request-id prologue shared by every protocol: reads the body, and refuses an id the
/// client chose that another caller (or another request) already holds. Returns the body and
/// the request's fingerprint (`path`, `query` and body) when the client chose its id.
pub(crate) fn admit(
    state: &AppState,
    rid: &RequestId,
    identity: &Identity,
    headers: &HeaderMap,
    (path, query): (&str, Option<&str>),
    body: Result<Bytes, BytesRejection>,
) -> Result<(Bytes, Option<[u8; 32]>), ApiError> {
    let bytes = body_bytes(body)?;
    let fingerprint =
        request_id::chosen_by_client(headers).then(|| request_id::fingerprint(path, query, &bytes));
    state
        .feedback
        .check(&rid.0, &identity.username, fingerprint.as_ref())
        .map_err(|taken| request_id::in_use(&rid.0, taken))?;
    Ok((bytes, fingerprint))
}

/// Routes, scores and answers one admitted request, then remembers it for feedback, counts
/// it, logs it and runs the shadow version. Returns the answer's JSON bytes.
pub(crate) async fn infer<P: Protocol>(
    state: &Arc<AppState>,
    protocol: P,
    call: Call,
    bytes: &[u8],
) -> Result<Vec<u8>, ApiError> {
    let Call {
        started,
        rid,
        identity,
        fingerprint,
        name,
        version,
        routing_key,
        absent_as_missing,
    } = call;
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
            let served = entry.route(routing_key.as_deref()).clone();
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
    let options = ParseOptions {
        absent_is_missing: absent_as_missing?
            .unwrap_or_else(|| state.options.absent_as_missing.applies(&name)),
    };
    let sent = Arc::new(protocol.parse(bytes)?);
    let rows = protocol.rows(&sent, &model)?;
    // Logged beside the inputs only when the protocol's body is not already a `/predict` body.
    let logged_rows = (state.log.is_some() && !Arc::ptr_eq(&sent, &rows)).then(|| rows.clone());
    let scored = score_body(state, &model, rows, options).await?;
    let username = identity.username.as_deref();
    let json = protocol.encode(&model, &scored, &sent, &rid.0, username)?;
    let predicted = Predicted::of(&scored.scores);
    // Checked again, atomically, now that the answer is known: of two requests racing for one
    // id, only the first is answered; the other is neither counted nor logged.
    state
        .feedback
        .remember(
            rid.0.to_string(),
            Remembered::new(
                &model.name,
                &model.version,
                predicted.clone(),
                identity.username.clone(),
                fingerprint,
            ),
        )
        .map_err(|taken| request_id::in_use(&rid.0, taken))?;
    count_predictions(&model, &scored.scores);
    if let Some(log) = &state.log {
        log.write(log_line(
            &rid.0,
            &model,
            username,
            (&sent, logged_rows.as_deref()),
            &json,
            started,
            false,
        ));
        state
            .metrics
            .log_dropped
            .inner()
            .store(log.dropped(), std::sync::atomic::Ordering::Relaxed);
    }
    if let Some(shadow) = shadow {
        let state = state.clone();
        let username = identity.username.clone();
        tokio::spawn(async move {
            run_shadow(
                &state,
                protocol,
                (&rid, username.as_deref()),
                &shadow,
                (&sent, options),
                &predicted,
            )
            .await;
        });
    }
    Ok(json)
}

/// Scores the request on the shadow version: counted, compared with the served answer and
/// logged (`"shadow": true`), never answered.
async fn run_shadow<P: Protocol>(
    state: &AppState,
    protocol: P,
    (rid, username): (&RequestId, Option<&str>),
    shadow: &Arc<LoadedModel>,
    (sent, options): (&Arc<Json>, ParseOptions),
    served: &Predicted,
) {
    let started = Instant::now();
    let labels = crate::metrics::VersionLabels {
        model: shadow.name.clone(),
        version: shadow.version.clone(),
    };
    let mut logged_rows = None;
    let scored = match protocol.rows(sent, shadow) {
        Ok(rows) => {
            if !Arc::ptr_eq(sent, &rows) {
                logged_rows = Some(rows.clone());
            }
            score_body(state, shadow, rows, options).await
        }
        Err(e) => Err(e),
    };
    let Ok(scored) = scored else {
        tracing::warn!(request_id = %rid.0, version = %shadow.version, "shadow version could not score the request");
        return;
    };
    state.metrics.shadow.get_or_create(&labels).inc();
    let differs = match (&scored.scores, served) {
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
        if let Ok(json) = protocol.encode(shadow, &scored, sent, &rid.0, username) {
            log.write(log_line(
                &rid.0,
                shadow,
                username,
                (sent, logged_rows.as_deref()),
                &json,
                started,
                true,
            ));
        }
    }
}

/// The prediction log's line for one scored request ([`crate::logs::PredictionRecord`]);
/// `rows` only when the protocol's body is not a `/predict` body.
fn log_line(
    rid: &str,
    model: &LoadedModel,
    username: Option<&str>,
    (inputs, rows): (&Json, Option<&Json>),
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
    serde_json::to_string(&PredictionRecord {
        kind: Kind::Prediction,
        ts: crate::registry::now_rfc3339().into(),
        request_id: rid.into(),
        model: model.name.as_str().into(),
        version: model.version.as_str().into(),
        username: username.map(Into::into),
        shadow,
        latency_ms: started.elapsed().as_secs_f64() * 1000.0,
        inputs: Cow::Borrowed(inputs),
        rows: rows.map(Cow::Borrowed),
        outputs: Cow::Owned(outputs),
    })
    .unwrap_or_default()
}
