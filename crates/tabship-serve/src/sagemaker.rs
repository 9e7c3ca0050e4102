//! Amazon SageMaker's inference-container contract: `GET /ping` (200 with an empty body when
//! ready, 503 otherwise) and `POST /invocations`, served always (not only inside SageMaker).
//!
//! `/invocations` scores the default model (a SageMaker endpoint serves one model; the
//! multi-model header `X-Amzn-SageMaker-Target-Model` is not read). Bodies:
//! - `application/json` (or no `Content-Type`): what `/predict` takes — a record,
//!   `{"instances": [...]}` or `{"features": [...]}`;
//! - `text/csv`: one row per line, values in the model's column order, no header; an empty
//!   cell is a missing value.
//!
//! Answers per `Accept`: JSON (the `/predict` answer; the default, also for `*/*`) or `text/csv`:
//! one line per row, the prediction then (classifiers) one probability per class in the
//! model's class order. SageMaker sends no bearer token: `/invocations` needs the `predict`
//! scope like `/predict`, so inside SageMaker run without keys (IAM authenticates callers of
//! the endpoint).

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use serde_json::{Map, Value as Json};
use tabship::{ColumnKind, Scores};

use crate::access::{Access, api_refusal};
use crate::app::NotReady;
use crate::auth::{Identity, Scope};
use crate::error::{ApiError, FieldError};
use crate::infer::{self, Call, Protocol};
use crate::predict::{RequestId, parse_json, response_body};
use crate::registry::LoadedModel;
use crate::routes::Routes;
use crate::scoring::Scored;
use crate::state::AppState;

/// Field errors listed at most in one answer (the message gives the true count).
const MAX_LISTED: usize = 20;

/// `GET /ping` (open) and `POST /invocations` (`predict` scope); `reads_body` adds the body
/// limit and budget.
pub(crate) fn routes(
    state: &Arc<AppState>,
    reads_body: impl FnOnce(Router<Arc<AppState>>) -> Router<Arc<AppState>>,
) -> Routes {
    let open = Routes::new().get("/ping", ping);
    let scoped = Routes::new()
        .post("/invocations", invocations)
        .map(reads_body)
        .guard(state, Access::Scope(Scope::Predict), api_refusal);
    open.merge(scoped)
}

/// `GET /ping`: 200 with an empty body when models are loaded and the server is not draining.
async fn ping(State(state): State<Arc<AppState>>) -> Response {
    if state.accepts_traffic() {
        return StatusCode::OK.into_response();
    }
    let reason = if state.is_draining() {
        "draining"
    } else {
        "loading"
    };
    let mut response = StatusCode::SERVICE_UNAVAILABLE.into_response();
    response.extensions_mut().insert(NotReady(reason));
    response
}

/// A body or answer format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Csv,
}

/// A media type without its parameters, lowercase.
fn essence(media: &str) -> String {
    media
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The body's format from `Content-Type` (JSON when absent); 415 for anything else.
fn body_format(headers: &HeaderMap) -> Result<Format, ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(Format::Json);
    };
    let media = essence(value.to_str().unwrap_or("?"));
    match media.as_str() {
        "application/json" => Ok(Format::Json),
        "text/csv" => Ok(Format::Csv),
        _ => Err(ApiError {
            fields: vec![FieldError::new(
                "content-type",
                "`application/json` or `text/csv`",
                format!("`{media}`"),
                None,
            )],
            ..ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!("`/invocations` reads `application/json` or `text/csv`, not `{media}`"),
            )
        }),
    }
}

/// The answer's format from `Accept`: the first type listed that is JSON or CSV (`*/*` and an
/// absent header are JSON); 406 when none is.
fn answer_format(headers: &HeaderMap) -> Result<Format, ApiError> {
    let Some(value) = headers.get(header::ACCEPT) else {
        return Ok(Format::Json);
    };
    let text = value.to_str().unwrap_or("?");
    for media in text.split(',').map(essence) {
        match media.as_str() {
            "application/json" | "application/*" | "*/*" | "" => return Ok(Format::Json),
            "text/csv" | "text/*" => return Ok(Format::Csv),
            _ => {}
        }
    }
    Err(ApiError {
        fields: vec![FieldError::new(
            "accept",
            "`application/json` or `text/csv`",
            format!("`{text}`"),
            None,
        )],
        ..ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "not_acceptable",
            format!("`/invocations` answers `application/json` or `text/csv`, not `{text}`"),
        )
    })
}

/// `/invocations` as a data-plane protocol.
#[derive(Debug, Clone, Copy)]
struct Invocations {
    body: Format,
    answer: Format,
}

impl Protocol for Invocations {
    fn parse(self, bytes: &[u8]) -> Result<Json, ApiError> {
        match self.body {
            Format::Json => parse_json(bytes),
            Format::Csv => parse_csv(bytes),
        }
    }

    fn rows(self, sent: &Arc<Json>, model: &LoadedModel) -> Result<Arc<Json>, ApiError> {
        match self.body {
            Format::Json => Ok(sent.clone()),
            Format::Csv => csv_records(sent, model).map(Arc::new),
        }
    }

    fn encode(
        self,
        model: &LoadedModel,
        scored: &Scored,
        _sent: &Json,
        request_id: &str,
        username: Option<&str>,
    ) -> Result<Vec<u8>, ApiError> {
        match self.answer {
            Format::Json => serde_json::to_vec(&response_body(model, scored, request_id, username))
                .map_err(ApiError::internal),
            // The CSV text as a JSON string: the prediction log records the answer as sent.
            Format::Csv => {
                serde_json::to_vec(&csv_answer(model, scored)?).map_err(ApiError::internal)
            }
        }
    }
}

/// A CSV body as a list of rows, each a list of its cells (text), as the log records it.
fn parse_csv(bytes: &[u8]) -> Result<Json, ApiError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| {
            let row = e.position().map_or(i + 1, |p| p.line() as usize);
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_csv",
                format!("malformed CSV at row {row}: {e}"),
            )
        })?;
        rows.push(Json::Array(
            record.iter().map(|c| Json::String(c.to_owned())).collect(),
        ));
    }
    if rows.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_csv",
            "the CSV body has no rows: send one row per line, values in the model's column order, no header",
        ));
    }
    Ok(Json::Array(rows))
}

/// CSV rows (from [`parse_csv`]) as `{"instances": [...]}` records of `model`'s columns: an
/// empty cell is missing, numeric columns must parse as numbers. Errors name the row (from 1)
/// and the column.
fn csv_records(sent: &Json, model: &LoadedModel) -> Result<Json, ApiError> {
    let schema = model.pipeline.schema();
    let rows = sent.as_array().map(Vec::as_slice).unwrap_or_default();
    let mut records = Vec::with_capacity(rows.len());
    let mut errors = Vec::new();
    let mut total = 0;
    let mut fail = |error: FieldError, errors: &mut Vec<FieldError>| {
        total += 1;
        if errors.len() < MAX_LISTED {
            errors.push(error);
        }
    };
    for (i, row) in rows.iter().enumerate() {
        let cells = row.as_array().map(Vec::as_slice).unwrap_or_default();
        if cells.len() != schema.columns.len() {
            let names: Vec<&str> = schema.names().collect();
            fail(
                FieldError::new(
                    "row",
                    format!("{} values, in this order: {}", names.len(), names.join(",")),
                    format!("{} values", cells.len()),
                    Some(i),
                ),
                &mut errors,
            );
            continue;
        }
        let mut record = Map::with_capacity(cells.len());
        for (j, (column, cell)) in schema.columns.iter().zip(cells).enumerate() {
            let text = cell.as_str().unwrap_or("");
            let value = if text.is_empty() {
                Json::Null
            } else {
                match column.kind {
                    ColumnKind::Categorical => Json::String(text.to_owned()),
                    ColumnKind::Numeric => match text.trim().parse::<f64>() {
                        Ok(x) if x.is_finite() => {
                            serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number)
                        }
                        _ => {
                            fail(
                                FieldError::new(
                                    column.name.clone(),
                                    format!("a number (column {} of {})", j + 1, cells.len()),
                                    format!("`{text}`"),
                                    Some(i),
                                ),
                                &mut errors,
                            );
                            Json::Null
                        }
                    },
                }
            };
            record.insert(column.name.clone(), value);
        }
        records.push(Json::Object(record));
    }
    if errors.is_empty() {
        let mut body = Map::new();
        body.insert("instances".to_owned(), Json::Array(records));
        Ok(Json::Object(body))
    } else {
        Err(ApiError::invalid_fields_of(errors, total))
    }
}

/// The CSV answer: one line per row, the prediction then one probability per class.
fn csv_answer(model: &LoadedModel, scored: &Scored) -> Result<String, ApiError> {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    match &scored.scores {
        Scores::Classes { classes, proba } => {
            let labels = model.pipeline.classes();
            for (&c, p) in classes.iter().zip(proba.chunks_exact(labels.len())) {
                let mut line = Vec::with_capacity(1 + p.len());
                line.push(labels[c].to_string());
                line.extend(p.iter().map(ToString::to_string));
                writer.write_record(&line).map_err(ApiError::internal)?;
            }
        }
        Scores::Values(values) => {
            for v in values {
                writer
                    .write_record([v.to_string()])
                    .map_err(ApiError::internal)?;
            }
        }
    }
    let bytes = writer.into_inner().map_err(ApiError::internal)?;
    String::from_utf8(bytes).map_err(ApiError::internal)
}

/// `POST /invocations`.
async fn invocations(
    State(state): State<Arc<AppState>>,
    Extension(rid): Extension<RequestId>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    state.require_ready()?;
    let protocol = Invocations {
        body: body_format(&headers)?,
        answer: answer_format(&headers)?,
    };
    let (bytes, fingerprint) = infer::admit(
        &state,
        &rid,
        &identity,
        &headers,
        ("/invocations", None),
        body,
    )?;
    let call = Call::routed(started, rid, identity, fingerprint, &headers);
    let answer = infer::infer(&state, protocol, call, &bytes).await?;
    Ok(match protocol.answer {
        Format::Json => ([(header::CONTENT_TYPE, "application/json")], answer).into_response(),
        Format::Csv => {
            let text: String = serde_json::from_slice(&answer).map_err(ApiError::internal)?;
            ([(header::CONTENT_TYPE, "text/csv")], text).into_response()
        }
    })
}
