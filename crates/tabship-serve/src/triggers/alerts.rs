//! `POST /admin/alerts`: an Alertmanager webhook receiver (payload version 4). Each firing
//! alert whose labels name a loaded model (`model`, as every tabship alert rule keeps it)
//! triggers that model's retraining actions, debounced like the server's own triggers; resolved
//! alerts and alerts without a model are answered as skipped, never as errors, so Alertmanager
//! does not retry them.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Held, Reason};
use crate::error::ApiError;
use crate::predict::{body_bytes, parse_json};
use crate::state::AppState;

/// The part of Alertmanager's webhook body that is read.
#[derive(Debug, Deserialize)]
struct Notification {
    alerts: Vec<Alert>,
}

#[derive(Debug, Deserialize)]
struct Alert {
    status: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// The handler.
pub(crate) async fn receive(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = parse_json(&body_bytes(body)?)?;
    let notification: Notification = serde_json::from_value(body).map_err(|e| {
        ApiError::invalid_field(
            "alerts",
            "an Alertmanager webhook body ({\"alerts\": [{\"status\", \"labels\"}, ...]})",
            e.to_string(),
        )
    })?;
    let Some(triggers) = &state.triggers else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "retrain_not_configured",
            "no retraining action is set: start the server with --retrain-command or --retrain-webhook",
        ));
    };
    let registry = state.registry.load();
    let mut triggered = Vec::new();
    let mut skipped = Vec::new();
    for alert in notification.alerts {
        let alertname = alert.labels.get("alertname").cloned().unwrap_or_default();
        let model = alert.labels.get("model").cloned();
        let mut skip = |why: String| {
            skipped.push(json!({"alertname": alertname, "model": model, "why": why}));
        };
        if alert.status != "firing" {
            skip(format!("status `{}`", alert.status));
            continue;
        }
        let Some(name) = &model else {
            skip("no `model` label".to_owned());
            continue;
        };
        let Some(entry) = registry.models.get(name) else {
            skip(format!("no model `{name}` is loaded"));
            continue;
        };
        let current = entry.current_model();
        let reason = Reason::Alert {
            alertname: alertname.clone(),
        };
        match super::fire(&state, triggers, current, reason) {
            Ok(()) => triggered.push(json!({
                "alertname": alertname,
                "model": name,
                "version": current.version,
            })),
            Err(Held::Running) => skip("its last retraining is still running".to_owned()),
            Err(Held::Debounced(left)) => skip(format!(
                "debounced: triggered less than --retrain-debounce ago ({} s left)",
                left.as_secs()
            )),
        }
    }
    Ok(Json(json!({"triggered": triggered, "skipped": skipped})))
}
