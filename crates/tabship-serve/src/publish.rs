//! An admin upload on a server that follows a model directory (see [`crate::watch`]): instead of
//! loading the version into this replica alone, the artifact is checked and written into the
//! shared directory as `NAME/VERSION.tabship` (a temporary name, then a rename), with
//! `NAME/CURRENT` written first when the upload's `activate` needs it, so that every replica
//! following the directory — this one included — loads it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::ApiError;
use crate::model_dir::{POINTER, version_order};
use crate::registry::LoadedModel;
use crate::state::AppState;

/// Checks `bytes` as version `version` (else the artifact's) of model `name` and publishes it
/// into `dir`: 202 with what was written. `activate` false keeps the current version current.
pub(crate) async fn upload(
    state: &Arc<AppState>,
    dir: PathBuf,
    name: String,
    bytes: Bytes,
    version: Option<String>,
    activate: bool,
) -> Result<Response, ApiError> {
    let n = name.clone();
    let model = tokio::task::spawn_blocking(move || {
        LoadedModel::from_bytes(&bytes, Some(&n), version.as_deref()).map(|m| (m, bytes))
    })
    .await
    .map_err(ApiError::internal)?;
    let (model, bytes) = model.map_err(crate::admin::refused_artifact)?;
    let version = model.version.clone();
    let _guard = state.admin.clone().lock_owned().await;
    crate::admin::check_compatible(state, &name, &model, false)?;
    let current = state
        .registry()
        .models
        .get(&name)
        .map(|e| e.current.clone());
    if state
        .registry()
        .models
        .get(&name)
        .is_some_and(|e| e.versions.contains_key(&version))
    {
        return Err(exists(&name, &version));
    }
    let (n, v) = (name.clone(), version.clone());
    let path = tokio::task::spawn_blocking(move || write(&dir, &n, &v, current, activate, &bytes))
        .await
        .map_err(ApiError::internal)??;
    tracing::info!(model = %name, %version, path = %path.display(), activate, "version published to the model directory");
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "published": {
                "model": name,
                "version": version,
                "checksum": model.checksum,
                "path": path.display().to_string(),
                "activated": activate,
            },
        })),
    )
        .into_response())
}

fn exists(name: &str, version: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "version_exists",
        format!(
            "model `{name}` already has version `{version}` in the model directory; versions are never replaced: give another version"
        ),
    )
}

/// Writes the pointer (when needed) and then the artifact, each under a temporary name renamed
/// into place. Without a pointer the newest version is current, so a pointer is written only
/// when the newest would not be the version wanted current.
fn write(
    dir: &Path,
    name: &str,
    version: &str,
    current: Option<String>,
    activate: bool,
    bytes: &[u8],
) -> Result<PathBuf, ApiError> {
    let model_dir = dir.join(name);
    let file = model_dir.join(format!("{version}.tabship"));
    std::fs::create_dir_all(&model_dir).map_err(|e| unwritable(&model_dir, &e))?;
    if file.exists() {
        return Err(exists(name, version));
    }
    let listing = crate::model_dir::scan(dir).map_err(|e| unwritable(dir, &e))?;
    let nested = listing.models.get(name);
    let has_pointer = nested.is_some_and(|n| n.pointer.is_some());
    let newest_after = nested
        .into_iter()
        .flat_map(|n| n.versions.iter().map(String::as_str))
        .chain([version])
        .max_by(|a, b| version_order(a, b))
        .unwrap_or(version);
    let wanted = if activate {
        Some(version)
    } else {
        current.as_deref()
    };
    if let Some(wanted) = wanted {
        if has_pointer || newest_after != wanted {
            replace(&model_dir, &model_dir.join(POINTER), wanted.as_bytes())?;
        }
    }
    let tmp = tempfile::Builder::new()
        .prefix(".upload-")
        .tempfile_in(&model_dir)
        .map_err(|e| unwritable(&model_dir, &e))?;
    std::fs::write(tmp.path(), bytes).map_err(|e| unwritable(&file, &e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| unwritable(&file, &e))?;
    tmp.persist_noclobber(&file).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            exists(name, version)
        } else {
            unwritable(&file, &e.error)
        }
    })?;
    Ok(file)
}

/// Writes `path` through a temporary file renamed over it.
fn replace(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), ApiError> {
    let tmp = tempfile::Builder::new()
        .prefix(".upload-")
        .tempfile_in(dir)
        .map_err(|e| unwritable(dir, &e))?;
    std::fs::write(tmp.path(), bytes).map_err(|e| unwritable(path, &e))?;
    tmp.persist(path).map_err(|e| unwritable(path, &e.error))?;
    Ok(())
}

fn unwritable(path: &Path, e: &dyn std::fmt::Display) -> ApiError {
    tracing::error!(path = %path.display(), error = %e, "publishing to the model directory failed");
    ApiError::new(
        StatusCode::CONFLICT,
        "model_dir_unwritable",
        format!(
            "this server follows the model directory, but cannot write `{}` ({e}): publish the version there from a machine that can (NAME/VERSION.tabship, written under a temporary name and renamed), nothing changed",
            path.display()
        ),
    )
}
