//! `GET /models` and `GET /models/{name}`: schema with categories, metadata, metrics, versions.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use tabship::Pipeline;
use tabship::drift::Distribution;
use tabship::encode::ColumnEncoderSpec;

use crate::error::ApiError;
use crate::registry::{LoadedModel, ModelEntry};
use crate::state::AppState;

/// The schema of a version: columns with kind, nullability, categories and an example value.
pub(crate) fn schema_json(model: &LoadedModel) -> Value {
    let pipeline = &model.pipeline;
    let columns: Vec<Value> = pipeline
        .schema()
        .columns
        .iter()
        .zip(pipeline.encoder().specs())
        .zip(examples(pipeline))
        .map(|((column, spec), example)| {
            let mut c = json!({
                "name": column.name,
                "kind": column.kind.name(),
                "nullable": column.nullable,
                "example": example,
            });
            if let ColumnEncoderSpec::Categorical(cat) = &spec {
                c["categories"] = json!(cat.categories);
                c["rare_categories"] = json!(cat.other_categories);
            }
            c
        })
        .collect();
    json!({ "columns": columns })
}

/// A typical value of every column, taken from the training data: a numeric column's fitted fill
/// value (the training median by default); a categorical column's most frequent training category
/// from the artifact's reference profile (format 1.2), else its imputed or first category.
pub(crate) fn examples(pipeline: &Pipeline) -> Vec<Value> {
    let profile = pipeline.drift_profile();
    pipeline
        .encoder()
        .specs()
        .iter()
        .enumerate()
        .map(|(i, spec)| match spec {
            ColumnEncoderSpec::Numeric(n) => json!(n.imputation.value),
            ColumnEncoderSpec::Categorical(c) => {
                let most_frequent = profile
                    .and_then(|p| p.columns.get(i))
                    .and_then(|col| match &col.distribution {
                        Distribution::Categorical(cat) => cat.categories.first(),
                        Distribution::Numeric(_) => None,
                    })
                    .filter(|s| !s.is_empty());
                let i = c.fill_category.map_or(0, |i| i as usize);
                most_frequent
                    .or_else(|| c.categories.get(i))
                    .or_else(|| c.other_categories.first())
                    .map_or(Value::Null, |s| json!(s))
            }
        })
        .collect()
}

/// An example record for a version, in schema order.
pub(crate) fn example_record(model: &LoadedModel) -> serde_json::Map<String, Value> {
    model
        .pipeline
        .schema()
        .columns
        .iter()
        .zip(examples(&model.pipeline))
        .map(|(column, example)| (column.name.clone(), example))
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
    let registry = state.registry();
    let entry = registry.model(&name)?;
    let version = query.as_deref().and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("version=").map(str::to_owned))
    });
    let model = match &version {
        Some(v) => entry
            .version(v)
            .ok_or_else(|| ApiError::version_not_found(&name, v))?,
        None => entry.current_model(),
    };
    let (report, rows_seen) = model.monitor.drift_report().ok_or_else(|| {
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
    Ok(Json(json!({
        "model": model.name,
        "version": model.version,
        "window_rows": crate::monitoring::DRIFT_WINDOW,
        "rows_seen": rows_seen,
        "report": report,
        "concept": model.monitor.quality(),
    })))
}
