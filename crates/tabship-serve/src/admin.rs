//! Admin scope: load a version (server path or upload), aliases, activate, roll back, A/B split,
//! shadow, unload. Changes are serialized by one lock and published as a new registry snapshot.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::compat::{self, Difference};
use crate::error::{ApiError, Error, check_name};
use crate::input::json_kind;
use crate::models::model_json;
use crate::predict::{body_bytes, parse_json};
use crate::registry::{LoadedModel, ModelEntry, Origin, Registry, Split};
use crate::state::AppState;

fn conflict(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, code, message)
}

fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_owned())
}

/// A yes/no option (`activate`, `force`) as sent in a query or form: true/false, 1/0, yes/no,
/// on/off (an HTML checkbox); empty (`?force`) is true.
fn parse_flag(field: &str, value: &str) -> Result<bool, ApiError> {
    match value.to_ascii_lowercase().as_str() {
        "" | "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ApiError::invalid_field(
            field,
            "true or false",
            format!("`{value}`"),
        )),
    }
}

/// A yes/no field of a JSON body (absent or null: `default`).
fn bool_field(body: &Value, field: &str, default: bool) -> Result<bool, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(ApiError::invalid_field(
            field,
            "true or false",
            json_kind(other),
        )),
    }
}

/// A yes/no option from a form part, else the query, else `default`.
fn flag(
    part: Option<&str>,
    query: Option<&str>,
    field: &str,
    default: bool,
) -> Result<bool, ApiError> {
    part.map(str::to_owned)
        .or_else(|| query_param(query, field))
        .map(|v| parse_flag(field, &v))
        .transpose()
        .map(|v| v.unwrap_or(default))
}

fn string_field(body: &Value, field: &str) -> Result<Option<String>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(ApiError::invalid_field(field, "text", json_kind(other))),
    }
}

fn required(body: &Value, field: &str) -> Result<String, ApiError> {
    string_field(body, field)?.ok_or_else(|| ApiError::invalid_field(field, "text", "nothing"))
}

/// Saves `next` to the state directory (when there is one) before it is published: a change that
/// cannot be saved is refused, so memory and disk never disagree.
/// The write (with its fsync) runs on the blocking pool, off the request threads.
async fn save_state(state: &AppState, next: &Registry) -> Result<(), ApiError> {
    let Some(dir) = state.options.state_dir.clone() else {
        return Ok(());
    };
    let snapshot = next.clone();
    tokio::task::spawn_blocking(move || crate::persist::save(&dir, &snapshot))
        .await
        .map_err(ApiError::internal)?
        .map_err(not_saved)
}

fn not_saved(e: Error) -> ApiError {
    tracing::error!(error = %e, "admin change refused: the state directory cannot be written");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "state_not_saved",
        "the change could not be saved to the state directory, so it was not applied; the server log has the details",
    )
}

/// Saves `next` (with a state directory) and then publishes it, as one step that runs to its end
/// even when the request is abandoned (`--timeout` fired, the client went away): the saved and
/// the served state never disagree. The admin lock, `guard`, is held until `next` is published.
/// When the save fails nothing is published and `undo` runs (an upload's stored file is removed).
async fn commit(
    state: &Arc<AppState>,
    guard: tokio::sync::OwnedMutexGuard<()>,
    next: Registry,
    undo: impl FnOnce() + Send + 'static,
) -> Result<(), ApiError> {
    let state = state.clone();
    tokio::spawn(async move {
        let _guard = guard;
        match save_state(&state, &next).await {
            Ok(()) => {
                state.registry.store(next);
                Ok(())
            }
            Err(e) => {
                undo();
                Err(e)
            }
        }
    })
    .await
    .map_err(ApiError::internal)?
}

/// Applies a change to one model's entry under the admin lock and publishes the new snapshot.
async fn change<F>(state: &Arc<AppState>, name: &str, f: F) -> Result<Json<Value>, ApiError>
where
    F: FnOnce(&mut ModelEntry) -> Result<(), ApiError>,
{
    state.refuse_if_watched()?;
    let guard = state.admin.clone().lock_owned().await;
    let mut next: Registry = (*state.registry()).clone();
    let entry = next
        .models
        .get_mut(name)
        .ok_or_else(|| ApiError::model_not_found(name))?;
    f(entry)?;
    let answer = model_json(name, entry);
    commit(state, guard, next, || {}).await?;
    tracing::info!(model = %name, "routing changed");
    Ok(Json(answer))
}

/// Resolves a version or alias to a loaded version string.
fn resolve(entry: &ModelEntry, name: &str, version: &str) -> Result<String, ApiError> {
    entry
        .version(version)
        .map(|m| m.version.clone())
        .ok_or_else(|| ApiError::version_not_found(name, version))
}

/// `POST /admin/models/{name}/versions`: JSON `{"path", "version"?, "activate"?, "force"?}` loads
/// a file on the server; a `multipart/form-data` form uploads its `file` part (with optional
/// `version`, `activate` and `force` parts); any other body is the artifact itself
/// (`?version=&activate=&force=`). A version that would break the model's clients (see
/// [`crate::compat`]) is refused with 409 `incompatible_version` unless `force` is true.
pub(crate) async fn load_version(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, ApiError> {
    // Taken before the body is read, and held until the version is stored and published.
    let _permit = state.uploads.try_acquire().map_err(|_| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_uploads",
            format!(
                "{} version loads are already in progress (the most at once); retry when one ends",
                state.options.max_uploads.max(1)
            ),
        )
    })?;
    check_name("model name", &name)
        .map_err(|e| ApiError::invalid_field("name", "a model name", e.to_string()))?;
    let limit = state.options.upload_limit;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // A declared length over the limit is refused before a byte is read.
    let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
    if declared.is_some_and(|n| n > limit_u64) {
        return Err(crate::upload::too_large(limit_u64));
    }
    let spool_dir = state.options.state_dir.as_deref();
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let q = query.as_deref();
    let (source, version, activate, force) = if let Some(boundary) =
        crate::upload::boundary(&headers)
    {
        let form = crate::upload::parse(request.into_body(), boundary?, limit, spool_dir).await?;
        let activate = flag(form.activate.as_deref(), q, "activate", true)?;
        let force = flag(form.force.as_deref(), q, "force", false)?;
        let version = form.version.or_else(|| query_param(q, "version"));
        (Source::Bytes(form.artifact), version, activate, force)
    } else if is_json {
        // `Bytes` applies the route's `DefaultBodyLimit` (the upload limit): 413 above it.
        let body = parse_json(&body_bytes(Bytes::from_request(request, &()).await)?)?;
        let path = required(&body, "path")?;
        let activate = bool_field(&body, "activate", true)?;
        // `?force=true` works here too, so one habit covers every form of the call.
        let force = bool_field(&body, "force", false)? || flag(None, q, "force", false)?;
        (
            Source::Path(PathBuf::from(path)),
            string_field(&body, "version")?,
            activate,
            force,
        )
    } else {
        let chunks = request
            .into_body()
            .into_data_stream()
            .map(|c| c.map_err(|_| crate::upload::unreadable()));
        let bytes = crate::upload::spool(chunks, limit, spool_dir).await?;
        if bytes.is_empty() {
            return Err(ApiError::invalid_field(
                "body",
                "the artifact bytes, or JSON {\"path\": ...} with Content-Type: application/json",
                "an empty body",
            ));
        }
        let activate = flag(None, q, "activate", true)?;
        let force = flag(None, q, "force", false)?;
        (
            Source::Bytes(bytes),
            query_param(q, "version"),
            activate,
            force,
        )
    };
    if let Some(dir) = state.options.watch.as_ref().and_then(|w| w.dirs.first()) {
        return match source {
            Source::Bytes(bytes) if !force => {
                crate::publish::upload(&state, dir.clone(), name, bytes, version, activate).await
            }
            Source::Bytes(_) => Err(watched(
                "`force` cannot apply here: every replica refuses a version from the shared model directory that would break the model's clients; publish it under another model name",
            )),
            Source::Path(_) => Err(watched(
                "a load by path would reach this replica only: upload the artifact (it is published into the shared model directory), or copy it there as NAME/VERSION.tabship (a temporary name, then a rename)",
            )),
        };
    }
    let name_for_load = name.clone();
    let upload = match &source {
        Source::Bytes(b) => Some(b.clone()),
        Source::Path(_) => None,
    };
    let root = state.options.load_path_root.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        let (model, origin) = match source {
            Source::Path(p) => {
                let bytes = crate::artifact_path::read(&p, limit, root.as_deref())?;
                (
                    LoadedModel::from_path_bytes(
                        &bytes,
                        &p,
                        Some(&name_for_load),
                        version.as_deref(),
                    ),
                    Origin::AdminPath,
                )
            }
            Source::Bytes(b) => (
                LoadedModel::from_bytes(&b, Some(&name_for_load), version.as_deref()),
                Origin::AdminUpload,
            ),
        };
        Ok::<_, ApiError>(model.map(|mut m| {
            m.origin = origin;
            m
        }))
    })
    .await
    .map_err(ApiError::internal)??;
    let model = loaded.map_err(refused_artifact)?;
    let version = model.version.clone();
    let checksum = model.checksum.clone();
    let guard = state.admin.clone().lock_owned().await;
    let changes = check_compatible(&state, &name, &model, force)?;
    let duplicate = state
        .registry()
        .models
        .get(&name)
        .is_some_and(|e| e.versions.contains_key(&version));
    let stored = match (&state.options.state_dir, upload) {
        (Some(dir), Some(bytes)) if !duplicate => {
            let (dir, n, v) = (dir.clone(), name.clone(), version.clone());
            let path = tokio::task::spawn_blocking(move || {
                crate::persist::store_upload(&dir, &n, &v, &bytes)
            })
            .await
            .map_err(ApiError::internal)?
            .map_err(|e| match e {
                Error::InvalidName { what, value } => ApiError::invalid_field(
                    what,
                    "a name usable as a file name",
                    format!("`{value}`"),
                ),
                other => not_saved(other),
            })?;
            Some(path)
        }
        _ => None,
    };
    let next = state
        .registry()
        .with_version(model, activate)
        .map_err(|e| match e {
            Error::DuplicateVersion { name, version } => conflict(
                "version_exists",
                format!("model `{name}` already has version `{version}`; unload it first or give another version"),
            ),
            other => ApiError::internal(other),
        })?;
    let answer = next.models.get(&name).map(|e| model_json(&name, e));
    let undo = {
        let stored = state.options.state_dir.clone().zip(stored);
        let (name, version) = (name.clone(), version.clone());
        move || {
            if let Some((dir, _)) = stored {
                crate::persist::remove_upload(&dir, &name, &version);
            }
        }
    };
    commit(&state, guard, next, undo).await?;
    tracing::info!(model = %name, %version, activate, "version loaded");
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "loaded": {
                "model": name,
                "version": version,
                "checksum": checksum,
                "activated": activate,
                "forced": force && changes.iter().any(|d| d.is_breaking()),
                "changes": changes.iter().map(|d| d.field_error()).collect::<Vec<_>>(),
            },
            "model": answer,
        })),
    )
        .into_response())
}

/// 400 for an artifact that does not load or names an unusable version.
pub(crate) fn refused_artifact(e: Error) -> ApiError {
    match e {
        Error::Load { source, .. } => ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_artifact",
            format!("artifact refused, nothing changed: {source}"),
        ),
        Error::InvalidName { what, value } => {
            ApiError::invalid_field(what, "letters, digits, `.`, `_`, `-`", format!("`{value}`"))
        }
        other => ApiError::internal(other),
    }
}

/// 409 `model_dir_watched` for a change a followed model directory cannot take.
fn watched(message: &str) -> ApiError {
    conflict("model_dir_watched", message)
}

enum Source {
    Path(PathBuf),
    Bytes(Bytes),
}

/// Compares a candidate with the version serving `name` (nothing to compare for a new model):
/// 409 `incompatible_version` naming every breaking difference unless `force`. Returns every
/// difference (the compatible ones too) for the answer.
pub(crate) fn check_compatible(
    state: &AppState,
    name: &str,
    model: &LoadedModel,
    force: bool,
) -> Result<Vec<Difference>, ApiError> {
    let registry = state.registry();
    let Some(entry) = registry.models.get(name) else {
        return Ok(Vec::new());
    };
    let serving = entry.current_model();
    let absent = state.options.absent_as_missing.applies(name);
    let differences = compat::differences(&serving.pipeline, &model.pipeline, absent);
    if !differences.iter().any(Difference::is_breaking) {
        return Ok(differences);
    }
    if force {
        tracing::warn!(
            model = %name,
            version = %model.version,
            serving = %serving.version,
            differences = %compat::describe(&differences),
            "incompatible version loaded because force was given"
        );
        return Ok(differences);
    }
    let mut error =
        ApiError::invalid_fields(differences.iter().map(Difference::field_error).collect());
    error.status = StatusCode::CONFLICT;
    error.code = "incompatible_version";
    error.message = format!(
        "version `{}` would break the clients of model `{name}` (serving version `{}`), nothing changed: {}; load it under another model name, or send force=true to replace it anyway",
        model.version,
        serving.version,
        compat::describe(&differences)
    );
    Err(error)
}

/// `DELETE /admin/models/{name}/versions/{version}`.
pub(crate) async fn unload_version(
    State(state): State<Arc<AppState>>,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let mut removed = None;
    let answer = change(&state, &name, |e| {
        let v = resolve(e, &name, &version)?;
        if e.current == v {
            return Err(conflict(
                "version_in_use",
                format!("version `{v}` is current; activate another first"),
            ));
        }
        if e.shadow.as_deref() == Some(v.as_str())
            || e.split
                .as_ref()
                .is_some_and(|s| s.arms.iter().any(|(x, _)| *x == v))
        {
            return Err(conflict(
                "version_in_use",
                format!("version `{v}` is in the split or the shadow; clear them first"),
            ));
        }
        removed = e.versions.remove(&v);
        if let Some(model) = &removed {
            // Before the registry without it is published, so no scrape misses its counters.
            state.metrics.retire(model.clone());
        }
        e.aliases.retain(|_, target| *target != v);
        e.history.retain(|h| *h != v);
        Ok(())
    })
    .await?;
    if let (Some(dir), Some(model)) = (&state.options.state_dir, &removed) {
        if model.origin == Origin::AdminUpload {
            crate::persist::remove_upload(dir, &name, &model.version);
        }
    }
    // Unless a request still holds the version, its memory is freed now (its counts are kept).
    drop(removed);
    state.metrics.sweep_retired();
    Ok(answer)
}

/// `PUT /admin/models/{name}/aliases/{alias}` with `{"version"}`.
pub(crate) async fn set_alias(
    State(state): State<Arc<AppState>>,
    Path((name, alias)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = parse_json(&body_bytes(body)?)?;
    let version = required(&body, "version")?;
    check_name("alias", &alias)
        .map_err(|e| ApiError::invalid_field("alias", "an alias name", e.to_string()))?;
    change(&state, &name, |e| {
        if e.versions.contains_key(&alias) {
            return Err(ApiError::invalid_field(
                "alias",
                "a name that is not a version",
                format!("`{alias}`"),
            ));
        }
        let v = resolve(e, &name, &version)?;
        e.aliases.insert(alias, v);
        Ok(())
    })
    .await
}

/// `DELETE /admin/models/{name}/aliases/{alias}`.
pub(crate) async fn delete_alias(
    State(state): State<Arc<AppState>>,
    Path((name, alias)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    change(&state, &name, |e| {
        e.aliases.remove(&alias).map(|_| ()).ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "alias_not_found",
                format!("model `{name}` has no alias `{alias}`"),
            )
        })
    })
    .await
}

/// `POST /admin/models/{name}/activate` with `{"version"}` (a version or alias).
pub(crate) async fn activate(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = parse_json(&body_bytes(body)?)?;
    let version = required(&body, "version")?;
    change(&state, &name, |e| {
        let v = resolve(e, &name, &version)?;
        if e.current != v {
            let previous = std::mem::replace(&mut e.current, v);
            e.history.push(previous);
        }
        Ok(())
    })
    .await
}

/// `POST /admin/models/{name}/rollback`: back to the previous current version.
pub(crate) async fn rollback(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    change(&state, &name, |e| {
        while let Some(previous) = e.history.pop() {
            if previous != e.current && e.versions.contains_key(&previous) {
                e.current = previous;
                return Ok(());
            }
        }
        Err(conflict(
            "no_previous_version",
            format!("model `{name}` has no earlier version to roll back to"),
        ))
    })
    .await
}

/// `PUT /admin/models/{name}/split` with `{"versions": {"1": 90, "2": 10}}`.
pub(crate) async fn set_split(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = parse_json(&body_bytes(body)?)?;
    let Some(Value::Object(arms)) = body.get("versions") else {
        return Err(ApiError::invalid_field(
            "versions",
            "an object {\"version\": weight, ...}",
            body.get("versions").map_or("nothing", json_kind),
        ));
    };
    change(&state, &name, |e| {
        let mut parsed = Vec::new();
        for (version, weight) in arms {
            let w = weight
                .as_u64()
                .and_then(|w| u32::try_from(w).ok())
                .filter(|w| *w > 0)
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        &format!("versions.{version}"),
                        "a positive integer weight",
                        format!("`{weight}`"),
                    )
                })?;
            parsed.push((resolve(e, &name, version)?, w));
        }
        if parsed.len() < 2 {
            return Err(ApiError::invalid_field(
                "versions",
                "at least two versions",
                format!("{}", parsed.len()),
            ));
        }
        e.split = Some(Split { arms: parsed });
        Ok(())
    })
    .await
}

/// `DELETE /admin/models/{name}/split`.
pub(crate) async fn clear_split(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    change(&state, &name, |e| {
        e.split = None;
        Ok(())
    })
    .await
}

/// `PUT /admin/models/{name}/shadow` with `{"version"}`.
pub(crate) async fn set_shadow(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = parse_json(&body_bytes(body)?)?;
    let version = required(&body, "version")?;
    change(&state, &name, |e| {
        e.shadow = Some(resolve(e, &name, &version)?);
        Ok(())
    })
    .await
}

/// `DELETE /admin/models/{name}/shadow`.
pub(crate) async fn clear_shadow(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    change(&state, &name, |e| {
        e.shadow = None;
        Ok(())
    })
    .await
}

/// `POST /admin/keys/reload`: re-reads the keys file (as SIGHUP does). 400 `invalid_keys` when the
/// new file is unreadable or invalid (the old keys stay in force); 409 `no_keys_file` when the
/// server runs without one.
pub(crate) async fn reload_keys(
    State(state): State<Arc<AppState>>,
) -> Result<Json<Value>, ApiError> {
    if state.options.keys_file.is_none() || !state.auth_enabled() {
        return Err(conflict(
            "no_keys_file",
            "the server was started without --keys; there is no keys file to reload",
        ));
    }
    let reloading = state.clone();
    let result = tokio::task::spawn_blocking(move || reloading.reload_keys())
        .await
        .map_err(ApiError::internal)?;
    match result {
        Ok(keys) => Ok(Json(json!({"reloaded": true, "keys": keys}))),
        Err(Error::Keys { message, .. }) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_keys",
            format!("keys file refused, the previous keys stay in force: {message}"),
        )),
        Err(other) => Err(ApiError::internal(other)),
    }
}
