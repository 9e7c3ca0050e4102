//! `GET /models` and `GET /models/{name}`: schema with categories, metadata, metrics, versions.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use tabship::encode::ColumnEncoderSpec;

use crate::error::ApiError;
use crate::registry::{LoadedModel, ModelEntry};
use crate::state::AppState;

/// The schema of a version: columns with kind, nullability, categories and an example value
/// (the core's [`tabship::ColumnSummary`], as `tabship inspect` and Python describe them).
pub(crate) fn schema_json(model: &LoadedModel) -> Value {
    let columns: Vec<Value> = model
        .pipeline
        .column_summaries()
        .into_iter()
        .map(|column| {
            let mut c = json!({
                "name": column.name,
                "kind": column.kind.name(),
                "nullable": column.nullable,
                "example": column.example,
            });
            if matches!(column.encoder, ColumnEncoderSpec::Categorical(_)) {
                c["categories"] = json!(column.categories);
                c["rare_categories"] = json!(column.rare_categories);
            }
            c
        })
        .collect();
    json!({ "columns": columns })
}

/// An example record for a version, in schema order: each column's typical value.
pub(crate) fn example_record(model: &LoadedModel) -> serde_json::Map<String, Value> {
    model
        .pipeline
        .column_summaries()
        .into_iter()
        .map(|column| (column.name, json!(column.example)))
        .collect()
}

fn version_json(model: &LoadedModel) -> Value {
    let p = &model.pipeline;
    let t = p.training();
    json!({
        "version": model.version,
        "task": p.task().name(),
        "model_type": p.model().kind(),
        "algorithm": t.algorithm,
        "classes": p.classes().iter().map(ToString::to_string).collect::<Vec<_>>(),
        "target": t.target,
        "created_at": t.created_at,
        "train_rows": t.train_rows,
        "test_rows": t.test_rows,
        "data_fingerprint": t.data_fingerprint,
        "metrics": p.metrics(),
        "checksum": model.checksum,
        "format": p.header().map(|h| h.format_version()),
        "source": model.source,
        "loaded_at": model.loaded_at,
        "load_seconds": model.load_seconds,
        "live": model.monitor.quality(),
        "drift_profile": model.monitor.has_drift_profile(),
    })
}

/// The full description of a model.
pub(crate) fn model_json(name: &str, entry: &ModelEntry) -> Value {
    let current = entry.current_model();
    json!({
        "name": name,
        "current_version": entry.current,
        "aliases": entry.aliases,
        "split": entry.split.as_ref().map(|s| s.arms.iter().map(|(v, w)| json!({"version": v, "weight": w})).collect::<Vec<_>>()),
        "shadow": entry.shadow,
        "history": entry.history,
        "schema": schema_json(current),
        "example": example_record(current),
        "versions": entry.versions.values().map(|m| version_json(m)).collect::<Vec<_>>(),
    })
}

/// `GET /models`.
pub(crate) async fn list(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let registry = state.registry();
    let models: Vec<Value> = registry
        .models
        .iter()
        .map(|(name, e)| {
            let m = e.current_model();
            json!({
                "name": name,
                "current_version": e.current,
                "versions": e.versions.keys().collect::<Vec<_>>(),
                "aliases": e.aliases,
                "task": m.pipeline.task().name(),
                "model_type": m.pipeline.model().kind(),
                "default": registry.default_model.as_deref() == Some(name.as_str()),
            })
        })
        .collect();
    Ok(Json(
        json!({ "models": models, "default_model": registry.default_model }),
    ))
}

/// `GET /models/{name}`.
pub(crate) async fn show(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let registry = state.registry();
    let entry = registry.model(&name)?;
    Ok(Json(model_json(&name, entry)))
}

/// `GET /models/{name}/drift[?version=V]`: the live window's drift against the artifact's
/// reference profile, and the concept-drift detectors.
pub(crate) async fn drift(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Json<Value>, ApiError> {
    let version = query.as_deref().and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("version=").map(str::to_owned))
    });
    Ok(Json(drift_json(&state, &name, version.as_deref())?))
}

/// The drift answer of `name` (the current version, or `version`): REST and GraphQL.
pub(crate) fn drift_json(
    state: &AppState,
    name: &str,
    version: Option<&str>,
) -> Result<Value, ApiError> {
    let registry = state.registry();
    let entry = registry.model(name)?;
    let model = match version {
        Some(v) => entry
            .version(v)
            .ok_or_else(|| ApiError::version_not_found(name, v))?,
        None => entry.current_model(),
    };
    let (report, rows_seen) = model.monitor.drift_report(&state.options.drift).ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "no_drift_profile",
            format!(
                "model `{name}` version `{}` has no reference profile (artifact format {}); retrain it with this tabship to record one",
                model.version,
                model.pipeline.header().map_or_else(|| "unknown".to_owned(), |h| h.format_version())
            ),
        )
    })?;
    Ok(json!({
        "model": model.name,
        "version": model.version,
        "window_rows": crate::monitoring::DRIFT_WINDOW,
        "rows_seen": rows_seen,
        "report": report,
        "concept": model.monitor.quality(),
    }))
}
