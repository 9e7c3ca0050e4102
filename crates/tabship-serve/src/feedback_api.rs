//! `POST /feedback {"request_id", "label"[, "row"]}`: joins a true label to a logged prediction
//! and updates the version's live quality.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use serde_json::{Value, json};
use tabship::Task;

use crate::auth::{Identity, Scope};
use crate::error::ApiError;
use crate::feedback::{Lookup, Predicted, Principal};
use crate::input::json_kind;
use crate::logs::{FeedbackRecord, Kind};
use crate::metrics::VersionLabels;
use crate::monitoring::Labelled;
use crate::predict::{body_bytes, parse_json};
use crate::state::AppState;

/// `POST /feedback`.
pub(crate) async fn feedback(
    State(state): State<Arc<AppState>>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = parse_json(&body_bytes(body)?)?;
    let Value::Object(obj) = &body else {
        return Err(ApiError::invalid_field(
            "body",
            "an object {\"request_id\", \"label\"}",
            json_kind(&body),
        ));
    };
    let request_id = match obj.get("request_id") {
        Some(Value::String(s)) if !s.is_empty() => s.as_str(),
        Some(other) => {
            return Err(ApiError::invalid_field(
                "request_id",
                "a request id (text)",
                json_kind(other),
            ));
        }
        None => {
            return Err(ApiError::invalid_field(
                "request_id",
                "a request id (text)",
                "nothing",
            ));
        }
    };
    // `index` is the 0-based position in the request's list, as in error answers (whose `row`
    // counts from 1); `row` is this endpoint's older name for the same 0-based index, kept so
    // that existing clients label the rows they meant.
    let position = |field: &str| match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|r| usize::try_from(r).ok())
            .map(Some)
            .ok_or_else(|| {
                ApiError::invalid_field(field, "a 0-based row index (0, 1, ...)", format!("`{v}`"))
            }),
    };
    let row = match (position("index")?, position("row")?) {
        (Some(i), Some(r)) if i != r => {
            return Err(ApiError::invalid_field(
                "row",
                format!("the same 0-based index as `index` ({i}), or no `row`"),
                format!("`{r}`"),
            ));
        }
        (Some(i), _) => i,
        (None, r) => r.unwrap_or(0),
    };
    let label = obj
        .get("label")
        .filter(|v| !v.is_null())
        .ok_or_else(|| ApiError::invalid_field("label", "the true label", "nothing"))?;
    // Only the principal that made the prediction, or an admin key, may label it. Anyone else
    // gets the same 404 as for an unknown id, so ids (client-chosen ones can be guessable) cannot
    // be probed through this endpoint; the log says why.
    let mut admin = None;
    let mut allowed = |owner: &Principal| {
        *owner == identity.username
            || *admin.get_or_insert_with(|| state.authorize(&headers, Scope::Admin).is_ok())
    };
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "request_not_found",
            format!(
                "no logged prediction with request id `{request_id}` that you may label (unknown, forgotten after too many newer predictions, or made by another user)"
            ),
        )
    };
    // Check the label against the model before consuming the row, so a bad label can be resent.
    let peek = state.feedback.peek(request_id).ok_or_else(not_found)?;
    if !allowed(&peek.principal) {
        tracing::warn!(
            request_id,
            caller = identity.username.as_deref().unwrap_or("anonymous"),
            owner = peek.principal.as_deref().unwrap_or("anonymous"),
            "feedback refused: the prediction was made by another principal"
        );
        return Err(not_found());
    }
    let registry = state.registry();
    let model = registry
        .models
        .get(&peek.model)
        .and_then(|e| e.versions.get(&peek.version))
        .cloned()
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "version_unloaded",
                format!(
                    "model `{}` version `{}` that made the prediction is no longer loaded",
                    peek.model, peek.version
                ),
            )
        })?;
    drop(registry);
    let truth = match model.pipeline.task() {
        Task::Classification => {
            let text = match label {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                other => {
                    return Err(ApiError::invalid_field(
                        "label",
                        "a class label",
                        json_kind(other),
                    ));
                }
            };
            let index = model.pipeline.class_index(&text).ok_or_else(|| {
                let classes: Vec<String> = model
                    .pipeline
                    .classes()
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                ApiError::invalid_field(
                    "label",
                    format!("one of {}", classes.join(", ")),
                    format!("`{text}`"),
                )
            })?;
            Truth::Class(index)
        }
        Task::Regression => {
            let x = match label {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            }
            .filter(|x| x.is_finite())
            .ok_or_else(|| {
                ApiError::invalid_field("label", "a finite number", format!("`{label}`"))
            })?;
            Truth::Value(x)
        }
    };
    let remembered = state
        .feedback
        .take_row(request_id, row, allowed)
        .map_err(|e| match e {
            Lookup::Unknown => not_found(),
            Lookup::NoRow(n) => {
                ApiError::invalid_field("row", format!("a row index below {n}"), format!("`{row}`"))
            }
            Lookup::AlreadyLabelled => ApiError::new(
                StatusCode::CONFLICT,
                "already_labelled",
                format!("request `{request_id}` row {row} already has a label"),
            ),
        })?;
    let labelled = match (&remembered.predicted, truth) {
        (Predicted::Classes(c), Truth::Class(t)) => Labelled::Class {
            predicted: c[row],
            truth: t,
        },
        (Predicted::Values(v), Truth::Value(t)) => Labelled::Value {
            predicted: v[row],
            truth: t,
        },
        _ => {
            return Err(ApiError::internal(
                "prediction and label of different kinds",
            ));
        }
    };
    model.monitor.record(labelled);
    if let Some(log) = &state.log {
        log.write(feedback_line(
            request_id,
            row,
            &model.name,
            &model.version,
            identity.username.as_deref(),
            truth,
            &model.pipeline,
        ));
    }
    let decision = state.registry().models.get(&model.name).and_then(|entry| {
        state.experiments.record(
            &model.name,
            entry,
            &model.version,
            labelled,
            &state.options.experiment,
        )
    });
    if let Some(dir) = &state.options.state_dir {
        state.experiments.save_if_due(dir);
    }
    if let Some(decision) = decision {
        // Applied before the answer, so the client that sent the deciding label sees the new
        // routing on its next request.
        crate::experiment::act(&state, &model.name, decision).await;
    }
    state
        .metrics
        .feedback
        .get_or_create(&VersionLabels {
            model: model.name.clone(),
            version: model.version.clone(),
        })
        .inc();
    let correct = match labelled {
        Labelled::Class { predicted, truth } => json!(predicted == truth),
        Labelled::Value { .. } => Value::Null,
    };
    Ok(Json(json!({
        "request_id": request_id,
        "index": row,
        "row": row,
        "model": model.name,
        "version": model.version,
        "correct": correct,
        "live": model.monitor.quality(),
    })))
}

#[derive(Debug, Clone, Copy)]
enum Truth {
    Class(usize),
    Value(f64),
}

/// The prediction log's line for an accepted label ([`crate::logs::FeedbackRecord`]): the
/// label as the model knows it (a class label's text, or the number).
fn feedback_line(
    request_id: &str,
    index: usize,
    model: &str,
    version: &str,
    username: Option<&str>,
    truth: Truth,
    pipeline: &tabship::Pipeline,
) -> String {
    let label = match truth {
        Truth::Class(i) => pipeline
            .classes()
            .get(i)
            .map_or(Value::Null, |c| Value::String(c.to_string())),
        Truth::Value(x) => json!(x),
    };
    serde_json::to_string(&FeedbackRecord {
        kind: Kind::Feedback,
        ts: crate::registry::now_rfc3339().into(),
        request_id: request_id.into(),
        index,
        model: model.into(),
        version: version.into(),
        username: username.map(Into::into),
        label: std::borrow::Cow::Owned(label),
    })
    .unwrap_or_default()
}
