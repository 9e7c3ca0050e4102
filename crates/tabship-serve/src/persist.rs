//! The state directory (`--state-dir`): admin changes survive a restart.
//!
//! Layout:
//! - `models/<name>/<version>.tabship`: every uploaded version, written atomically.
//! - `state.json`: per model, the admin-loaded versions (uploads, and server paths with their
//!   checksum), the current version, rollback history, aliases, split and shadow. Rewritten
//!   atomically (temporary file, fsync, rename) after every admin change, before the change is
//!   published: a change that cannot be saved is refused and nothing changes.
//!
//! At start-up the command-line models load first, then [`restore`] re-loads the saved versions and
//! re-applies the settings. Anything unreadable (a corrupt `state.json`, a missing or corrupt
//! artifact, an alias to a version that is gone) is logged and skipped; the server starts with
//! what is valid. A `state.json` that cannot be parsed is renamed `state.json.corrupt-<unix time>`
//! so that the next save does not destroy it. Within a model's entry each field is read on its own
//! (each version record, each alias): an invalid one skips only itself, the file is copied to
//! `state.json.rejected-<unix time>`, and a current version that cannot be served falls back to
//! the last valid entry of its rollback history.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check_name};
use crate::registry::{LoadedModel, Origin, Registry, Split, now_rfc3339};

/// `format` of `state.json`.
pub(crate) const FORMAT: &str = "tabship-serve-state";
/// The `state.json` shape this server reads and writes.
pub(crate) const FORMAT_VERSION: u32 = 1;
const STATE_FILE: &str = "state.json";

/// `state.json`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    format: String,
    format_version: u32,
    saved_at: String,
    /// [`ModelState`] per model, parsed one by one so that one bad entry skips only that model.
    models: BTreeMap<String, serde_json::Value>,
}

/// One model's saved routing.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelState {
    /// Versions loaded through the admin API (command-line versions come from the command line).
    #[serde(default)]
    versions: Vec<VersionRecord>,
    current: Option<String>,
    #[serde(default)]
    history: Vec<String>,
    #[serde(default)]
    aliases: BTreeMap<String, String>,
    /// Arms in routing order (the order decides where a sticky routing key lands).
    #[serde(default)]
    split: Option<Vec<SplitArm>>,
    #[serde(default)]
    shadow: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SplitArm {
    version: String,
    weight: u32,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionRecord {
    version: String,
    /// `upload` (the file is `models/<name>/<version>.tabship`) or `path`.
    origin: SavedOrigin,
    /// The artifact: relative to the state directory for uploads, absolute for paths.
    file: PathBuf,
    /// `sha256:<hex>` of the artifact body; a path whose artifact changed is not re-loaded.
    checksum: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum SavedOrigin {
    Upload,
    Path,
}

fn io(what: String) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Io { what, source }
}

/// Writes `bytes` to `path` atomically and owner-only with [`tabship::fs::write_atomic`] (through
/// a symlink, never over a device, FIFO or directory), creating its directory first.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(format!("creating `{}`", dir.display())))?;
    tabship::fs::write_atomic(path, bytes, tabship::fs::PRIVATE_MODE).map_err(|e| Error::Write {
        path: path.to_path_buf(),
        source: e,
    })
}

/// Saves `value` as JSON to the side file `path` (`triggers.json`, `experiments.json`)
/// atomically; a failure is logged as "cannot save `what`" (what it keeps goes on in memory).
pub(crate) fn save_side_file<T: Serialize>(path: &Path, value: &T, what: &str) {
    let written = serde_json::to_vec_pretty(value)
        .map_err(|e| e.to_string())
        .and_then(|bytes| write_atomically(path, &bytes).map_err(|e| e.to_string()));
    if let Err(e) = written {
        tracing::error!(path = %path.display(), error = %e, "cannot save {what}");
    }
}

/// Reads the JSON side file `path`: `None` when there is none, and when it cannot be read or
/// decoded (logged: "cannot read `what`; starting afresh").
pub(crate) fn read_side_file<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Option<T> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "cannot read {what}; starting afresh");
            return None;
        }
    };
    match serde_json::from_str(&text) {
        Ok(value) => Some(value),
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "invalid {what}; starting afresh");
            None
        }
    }
}

/// Where an uploaded version is kept.
pub(crate) fn upload_path(dir: &Path, name: &str, version: &str) -> Result<PathBuf> {
    check_name("model name", name)?;
    check_name("version", version)?;
    if name.bytes().all(|b| b == b'.') {
        return Err(Error::InvalidName {
            what: "model name",
            value: name.to_owned(),
        });
    }
    Ok(dir
        .join("models")
        .join(name)
        .join(format!("{version}.tabship")))
}

/// Stores an uploaded artifact; returns its path.
pub(crate) fn store_upload(dir: &Path, name: &str, version: &str, bytes: &[u8]) -> Result<PathBuf> {
    let path = upload_path(dir, name, version)?;
    write_atomically(&path, bytes)?;
    Ok(path)
}

/// Removes an uploaded artifact that is no longer served (best effort: logged on failure).
pub(crate) fn remove_upload(dir: &Path, name: &str, version: &str) {
    if let Ok(path) = upload_path(dir, name, version) {
        if let Err(e) = std::fs::remove_file(&path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path = %path.display(), error = %e, "cannot remove an unloaded upload");
            }
        }
    }
}

/// Saves the routing of `registry` to `dir/state.json`.
pub(crate) fn save(dir: &Path, registry: &Registry) -> Result<()> {
    let models = registry
        .models
        .iter()
        .map(|(name, entry)| {
            let versions = entry
                .versions
                .values()
                .filter_map(|m| {
                    let (origin, file) = match m.origin {
                        Origin::AdminUpload => (
                            SavedOrigin::Upload,
                            PathBuf::from("models")
                                .join(name)
                                .join(format!("{}.tabship", m.version)),
                        ),
                        Origin::AdminPath => {
                            let path = PathBuf::from(&m.source);
                            (
                                SavedOrigin::Path,
                                std::fs::canonicalize(&path).unwrap_or(path),
                            )
                        }
                        _ => return None,
                    };
                    Some(VersionRecord {
                        version: m.version.clone(),
                        origin,
                        file,
                        checksum: m.checksum.clone(),
                    })
                })
                .collect();
            let state = ModelState {
                versions,
                current: Some(entry.current.clone()),
                history: entry.history.clone(),
                aliases: entry.aliases.clone(),
                split: entry.split.as_ref().map(|s| {
                    s.arms
                        .iter()
                        .map(|(version, weight)| SplitArm {
                            version: version.clone(),
                            weight: *weight,
                        })
                        .collect()
                }),
                shadow: entry.shadow.clone(),
            };
            let value = serde_json::to_value(state).unwrap_or_default();
            (name.clone(), value)
        })
        .collect();
    let file = StateFile {
        format: FORMAT.to_owned(),
        format_version: FORMAT_VERSION,
        saved_at: now_rfc3339(),
        models,
    };
    let mut text = serde_json::to_vec_pretty(&file).map_err(|e| Error::Io {
        what: "encoding the state".to_owned(),
        source: std::io::Error::other(e),
    })?;
    text.push(b'\n');
    write_atomically(&dir.join(STATE_FILE), &text)
}

/// Reads `dir/state.json` and re-applies it on top of `registry` (the command-line models).
/// Never fails: every problem is logged and the part it concerns skipped; also returns how many
/// parts were skipped (for `Options::strict_state`).
pub(crate) fn restore(dir: &Path, mut registry: Registry) -> (Registry, usize) {
    remove_interrupted_writes(dir);
    let path = dir.join(STATE_FILE);
    let mut skipped = 0usize;
    let Some((file, mut rejected)) = read_state(&path, &mut skipped) else {
        return (registry, skipped);
    };
    for problem in &rejected {
        tracing::error!(path = %path.display(), %problem, "saved setting skipped: invalid entry");
        skipped += 1;
    }
    let mut restored_versions = 0usize;
    for (name, saved) in file.models {
        let saved = match parse_model_state(&saved) {
            Ok((state, problems)) => {
                for problem in &problems {
                    tracing::error!(path = %path.display(), model = %name, %problem, "saved setting skipped: invalid entry");
                    skipped += 1;
                }
                rejected.extend(problems.into_iter().map(|p| format!("{name}: {p}")));
                state
            }
            Err(e) => {
                tracing::error!(path = %path.display(), model = %name, error = %e, "saved model skipped: invalid entry");
                skipped += 1;
                rejected.push(format!("{name}: {e}"));
                continue;
            }
        };
        for record in &saved.versions {
            let loaded = registry
                .models
                .get(&name)
                .is_some_and(|e| e.versions.contains_key(&record.version));
            if loaded {
                tracing::info!(model = %name, version = %record.version, "saved version skipped: the command line loaded it");
                continue;
            }
            match load_version(dir, &name, record) {
                Ok(model) => match registry.with_version(model, false) {
                    Ok(next) => {
                        registry = next;
                        restored_versions += 1;
                    }
                    Err(e) => {
                        tracing::error!(model = %name, version = %record.version, error = %e, "saved version skipped");
                        skipped += 1;
                    }
                },
                Err(e) => {
                    tracing::error!(
                        model = %name,
                        version = %record.version,
                        file = %record.file.display(),
                        error = %e,
                        "saved version skipped: it cannot be loaded"
                    );
                    skipped += 1;
                }
            }
        }
        let Some(entry) = registry.models.get_mut(&name) else {
            tracing::error!(model = %name, "saved settings skipped: the model is not loaded");
            skipped += 1;
            continue;
        };
        entry.history = saved
            .history
            .iter()
            .filter(|v| entry.versions.contains_key(*v))
            .cloned()
            .collect();
        match saved.current.as_ref() {
            Some(current) if entry.versions.contains_key(current) => {
                entry.current = current.clone();
            }
            _ => {
                // The last valid entry of the rollback history is the version that was current
                // before: closer to what was served than the command line's version.
                if let Some(previous) = entry.history.pop() {
                    tracing::error!(model = %name, saved = ?saved.current, version = %previous, "saved current version unusable: serving the last valid version of its history");
                    skipped += 1;
                    entry.current = previous;
                } else {
                    tracing::error!(model = %name, saved = ?saved.current, "saved current version skipped: it is not loaded");
                    skipped += 1;
                }
            }
        }
        for (alias, target) in &saved.aliases {
            if check_name("alias", alias).is_err() || entry.versions.contains_key(alias) {
                tracing::error!(model = %name, %alias, "saved alias skipped: invalid name");
                skipped += 1;
            } else if entry.versions.contains_key(target) {
                entry.aliases.insert(alias.clone(), target.clone());
            } else {
                tracing::error!(model = %name, %alias, version = %target, "saved alias skipped: its version is not loaded");
                skipped += 1;
            }
        }
        if let Some(arms) = &saved.split {
            let valid = arms.len() >= 2
                && arms
                    .iter()
                    .all(|a| a.weight > 0 && entry.versions.contains_key(&a.version));
            if valid {
                entry.split = Some(Split {
                    arms: arms.iter().map(|a| (a.version.clone(), a.weight)).collect(),
                });
            } else {
                tracing::error!(model = %name, "saved split skipped: a version is not loaded or a weight is not positive");
                skipped += 1;
            }
        }
        if let Some(shadow) = &saved.shadow {
            if entry.versions.contains_key(shadow) {
                entry.shadow = Some(shadow.clone());
            } else {
                tracing::error!(model = %name, version = %shadow, "saved shadow skipped: it is not loaded");
                skipped += 1;
            }
        }
    }
    if !rejected.is_empty() {
        keep_aside(&path, "rejected", &rejected);
    }
    warn_incompatible(&registry);
    tracing::info!(
        path = %path.display(),
        versions = restored_versions,
        "state restored"
    );
    (registry, skipped)
}

/// Logs every restored version that would break the clients of its model's current version
/// (it was loaded with `force`, or before the check existed); it keeps being served.
fn warn_incompatible(registry: &Registry) {
    for (name, entry) in &registry.models {
        let current = entry.current_model();
        for (version, model) in &entry.versions {
            if *version == current.version {
                continue;
            }
            let differences = crate::compat::differences(&current.pipeline, &model.pipeline, false);
            if differences
                .iter()
                .any(crate::compat::Difference::is_breaking)
            {
                tracing::warn!(
                    model = %name,
                    %version,
                    current = %current.version,
                    differences = %crate::compat::describe(&differences),
                    "restored version is not compatible with the current one; activating it would break clients"
                );
            }
        }
    }
}

/// Reads and checks `state.json`; `None` (logged) when absent or unusable. An unusable file is
/// moved aside so that it survives the next save.
fn read_state(path: &Path, skipped: &mut usize) -> Option<(StateFile, Vec<String>)> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::info!(path = %path.display(), "no saved state yet");
            return None;
        }
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "saved state skipped: unreadable");
            *skipped += 1;
            return None;
        }
    };
    let problem = match parse_state(&bytes) {
        Ok(parsed) => return Some(parsed),
        Err(problem) => problem,
    };
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let aside = path.with_file_name(format!("{STATE_FILE}.corrupt-{seconds}"));
    let kept = match std::fs::rename(path, &aside) {
        Ok(()) => aside.display().to_string(),
        Err(_) => path.display().to_string(),
    };
    tracing::error!(
        path = %path.display(),
        error = %problem,
        kept_as = %kept,
        "saved state skipped: invalid; serving the command-line models only"
    );
    *skipped += 1;
    None
}

/// Parses the text of `state.json`: the envelope (format, version, one JSON value per model);
/// each model's entry is read on its own by [`parse_model_state`].
/// An unknown top-level field is skipped and reported (not fatal: the models' entries it sits
/// beside are still good).
fn parse_state(bytes: &[u8]) -> std::result::Result<(StateFile, Vec<String>), String> {
    // The format and its version first, so that a newer file is reported as such, not as a typo.
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Err(e) => Err(e.to_string()),
        Ok(value) if value["format"] != FORMAT || value["format_version"] != FORMAT_VERSION => {
            Err(format!(
                "expected format `{FORMAT}` version {FORMAT_VERSION}, got format {} version {}",
                value["format"], value["format_version"]
            ))
        }
        Ok(serde_json::Value::Object(mut fields)) => {
            const KNOWN: [&str; 4] = ["format", "format_version", "saved_at", "models"];
            let unknown: Vec<String> = fields
                .keys()
                .filter(|k| !KNOWN.contains(&k.as_str()))
                .cloned()
                .collect();
            let mut problems = Vec::new();
            for key in unknown {
                fields.remove(&key);
                problems.push(format!(
                    "unknown top-level field `{}` skipped",
                    quoted_key(&key)
                ));
            }
            let file = serde_json::from_value::<StateFile>(serde_json::Value::Object(fields))
                .map_err(|e| e.to_string())?;
            Ok((file, problems))
        }
        Ok(other) => Err(format!(
            "expected a JSON object, got {}",
            crate::input::json_kind(&other)
        )),
    }
}

/// A field name as a message repeats it: at most 80 characters.
fn quoted_key(key: &str) -> String {
    key.chars().take(80).collect()
}

/// `state.json` as [`restore`] reads it, written back as [`save`] writes it: the envelope and, per
/// model, the fields [`parse_model_state`] kept (the invalid ones dropped, as the next save after a
/// restore drops them), with the problems found. The fuzz target `state_json` checks that the
/// text written back reads back to itself.
pub(crate) fn reread(bytes: &[u8]) -> std::result::Result<(String, Vec<String>), String> {
    let (mut file, mut problems) = parse_state(bytes)?;
    let mut models = BTreeMap::new();
    for (name, saved) in std::mem::take(&mut file.models) {
        match parse_model_state(&saved) {
            Ok((state, found)) => {
                problems.extend(found.into_iter().map(|p| format!("{name}: {p}")));
                let value = serde_json::to_value(state).map_err(|e| e.to_string())?;
                models.insert(name, value);
            }
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    file.models = models;
    let mut text = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok((text, problems))
}

/// Loads one saved version, checking the checksum.
fn load_version(dir: &Path, name: &str, record: &VersionRecord) -> Result<LoadedModel> {
    let (file, origin) = match record.origin {
        SavedOrigin::Upload => (
            upload_path(dir, name, &record.version)?,
            Origin::AdminUpload,
        ),
        SavedOrigin::Path => (record.file.clone(), Origin::AdminPath),
    };
    let mut model = LoadedModel::from_file(&file, Some(name), Some(&record.version))?;
    if !record.checksum.is_empty() && model.checksum != record.checksum {
        return Err(Error::Io {
            what: format!(
                "`{}` changed since it was loaded: checksum `{}`, saved `{}`",
                file.display(),
                model.checksum,
                record.checksum
            ),
            source: std::io::Error::from(std::io::ErrorKind::InvalidData),
        });
    }
    model.origin = origin;
    if origin == Origin::AdminUpload {
        model.source = "upload".to_owned();
    }
    tracing::info!(model = %name, version = %record.version, file = %file.display(), "saved version loaded");
    Ok(model)
}

/// Removes the temporary files of writes that a crash or `kill -9` interrupted (the
/// `.tabship-*.tmp` files [`tabship::fs::write_atomic`] renames into place when it completes), in
/// the state directory and each model's upload directory. Only at start-up, when no write of this
/// server can be under way.
fn remove_interrupted_writes(dir: &Path) {
    let mut dirs = vec![dir.to_path_buf()];
    if let Ok(models) = std::fs::read_dir(dir.join("models")) {
        dirs.extend(
            models
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir()),
        );
    }
    for d in dirs {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.filter_map(std::result::Result::ok) {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let ours = name.starts_with(".tabship-") && name.ends_with(".tmp");
            if ours && entry.file_type().is_ok_and(|t| t.is_file()) {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => {
                        tracing::warn!(path = %entry.path().display(), "removed the temporary file of an interrupted write")
                    }
                    Err(e) => {
                        tracing::warn!(path = %entry.path().display(), error = %e, "cannot remove the temporary file of an interrupted write")
                    }
                }
            }
        }
    }
}

/// One model's saved state, field by field: an invalid field (a split weight of 2^64, a
/// misspelt key) skips only itself, so the versions saved beside it still load and the next save
/// does not drop them. `Err` only when the entry is not a JSON object.
fn parse_model_state(
    value: &serde_json::Value,
) -> std::result::Result<(ModelState, Vec<String>), String> {
    let Some(object) = value.as_object() else {
        return Err(format!("expected an object, got {value}"));
    };
    let mut problems = Vec::new();
    let mut state = ModelState {
        versions: Vec::new(),
        current: None,
        history: Vec::new(),
        aliases: BTreeMap::new(),
        split: None,
        shadow: None,
    };
    for (key, field) in object {
        let mut problem = |e: serde_json::Error| problems.push(format!("`{key}`: {e}"));
        match key.as_str() {
            "versions" => match field.as_array() {
                Some(records) => {
                    for (i, record) in records.iter().enumerate() {
                        match serde_json::from_value::<VersionRecord>(record.clone()) {
                            Ok(r) => state.versions.push(r),
                            Err(e) => problems.push(format!("`versions[{i}]`: {e}")),
                        }
                    }
                }
                None => problems.push(format!("`versions`: expected a list, got {field}")),
            },
            // `null` (no current version) is what the `ModelState` shape writes for `None`.
            "current" => match serde_json::from_value(field.clone()) {
                Ok(v) => state.current = v,
                Err(e) => problem(e),
            },
            "history" => match serde_json::from_value(field.clone()) {
                Ok(v) => state.history = v,
                Err(e) => problem(e),
            },
            "aliases" => match field.as_object() {
                Some(aliases) => {
                    for (alias, target) in aliases {
                        match target.as_str() {
                            Some(t) => {
                                state.aliases.insert(alias.clone(), t.to_owned());
                            }
                            None => problems.push(format!(
                                "`aliases.{alias}`: expected a version name, got {target}"
                            )),
                        }
                    }
                }
                None => problems.push(format!("`aliases`: expected an object, got {field}")),
            },
            "split" => match serde_json::from_value(field.clone()) {
                Ok(v) => state.split = v,
                Err(e) => problem(e),
            },
            "shadow" => match serde_json::from_value(field.clone()) {
                Ok(v) => state.shadow = v,
                Err(e) => problem(e),
            },
            other => problems.push(format!("unknown field `{other}`")),
        }
    }
    Ok((state, problems))
}

/// Copies `path` to `<path>.<why>-<unix time>` (best effort, logged), so that the next save,
/// which writes only what was valid, does not destroy what an operator may want to repair.
fn keep_aside(path: &Path, why: &str, problems: &[String]) {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let aside = path.with_file_name(format!("{STATE_FILE}.{why}-{seconds}"));
    match std::fs::copy(path, &aside) {
        Ok(_) => {
            tracing::error!(path = %path.display(), kept = %aside.display(), problems = %problems.join("; "), "saved state partly invalid: a copy is kept aside, the valid parts are restored")
        }
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "saved state partly invalid and no copy could be kept")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aside(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .expect("read dir")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with("state.json.corrupt-"))
            .collect()
    }

    #[cfg(unix)]
    #[test]
    fn state_and_uploads_write_through_symlinks_and_refuse_other_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let elsewhere = tempfile::tempdir().expect("tempdir");
        // state.json kept on another volume through a symlink: the link stays, the file changes.
        let real = elsewhere.path().join("state.json");
        std::fs::write(&real, "old").expect("write");
        std::os::unix::fs::symlink(&real, dir.path().join(STATE_FILE)).expect("symlink");
        save(dir.path(), &Registry::default()).expect("saved through the link");
        assert!(
            std::fs::read_to_string(&real)
                .expect("read")
                .contains("tabship-serve-state")
        );
        assert!(
            std::fs::symlink_metadata(dir.path().join(STATE_FILE))
                .expect("meta")
                .file_type()
                .is_symlink()
        );
        // An upload path that is a directory is refused, not replaced.
        let path = upload_path(dir.path(), "iris", "2").expect("path");
        std::fs::create_dir_all(&path).expect("mkdir");
        let err = store_upload(dir.path(), "iris", "2", b"bytes").expect_err("refused");
        assert!(err.to_string().contains("a directory"), "{err}");
        assert!(path.is_dir());
    }

    #[test]
    fn unusable_state_files_are_skipped_and_kept_aside() {
        for text in [
            "{ not json",
            r#"{"format": "tabship-serve-state", "format_version": 2, "models": {}}"#,
            r#"{"format": "other", "format_version": 1, "saved_at": "", "models": {}}"#,
            r#"{"format": "tabship-serve-state", "format_version": 1, "saved_at": "", "models": [], "x": 1}"#,
        ] {
            let dir = tempfile::tempdir().expect("tempdir");
            std::fs::write(dir.path().join(STATE_FILE), text).expect("write");
            let (registry, skipped) = restore(dir.path(), Registry::default());
            assert_eq!(skipped, 1, "{text}");
            assert!(registry.models.is_empty(), "{text}");
            assert!(!dir.path().join(STATE_FILE).exists(), "{text}");
            assert_eq!(aside(dir.path()).len(), 1, "{text}");
        }
    }

    #[test]
    fn one_bad_model_entry_skips_only_that_model() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join(STATE_FILE),
            r#"{"format": "tabship-serve-state", "format_version": 1, "saved_at": "",
                "models": {"bad": {"current": 3},
                           "iris": {"current": "golden", "aliases": {"prod": "golden"}}}}"#,
        )
        .expect("write");
        let artifact = tabship_test_support::golden("iris_logistic.tabship");
        let model = LoadedModel::from_file(&artifact, None, None).expect("golden loads");
        let registry = Registry::default()
            .with_version(model, true)
            .expect("registry");
        let (registry, _) = restore(dir.path(), registry);
        assert_eq!(registry.models["iris"].aliases["prod"], "golden");
        assert!(!registry.models.contains_key("bad"));
        assert!(
            aside(dir.path()).is_empty(),
            "the file itself is valid and stays"
        );
    }

    /// The fault suite's table: an unknown top-level field made the whole file corrupt, so the
    /// uploads stopped being served and the next save listed none of them.
    #[test]
    fn an_unknown_top_level_field_skips_only_itself() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join(STATE_FILE),
            r#"{"format": "tabship-serve-state", "format_version": 1, "saved_at": "",
                "written_by": "a newer tabship",
                "models": {"iris": {"current": "golden", "aliases": {"prod": "golden"}}}}"#,
        )
        .expect("write");
        let artifact = tabship_test_support::golden("iris_logistic.tabship");
        let model = LoadedModel::from_file(&artifact, None, None).expect("golden loads");
        let registry = Registry::default()
            .with_version(model, true)
            .expect("registry");
        let (registry, skipped) = restore(dir.path(), registry);
        assert_eq!(skipped, 1);
        assert_eq!(registry.models["iris"].aliases["prod"], "golden");
        assert!(
            dir.path().join(STATE_FILE).exists(),
            "not set aside as corrupt"
        );
        let rejected = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with("state.json.rejected-"))
            .count();
        assert_eq!(rejected, 1, "a copy is kept for repair");
    }

    /// Found by the fuzz target `state_json`: `"current": null` is what the `ModelState` shape
    /// writes for no current version, yet the field-by-field reader reported it as an invalid
    /// field (and kept a rejected copy of a valid file).
    #[test]
    fn a_null_current_version_is_no_problem() {
        let (state, problems) =
            parse_model_state(&serde_json::json!({"current": null, "shadow": null}))
                .expect("an object");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(state.current, None);
        let written = serde_json::to_value(&state).expect("encode");
        assert_eq!(written["current"], serde_json::Value::Null);
        let (again, problems) = parse_model_state(&written).expect("an object");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(again.current, None);
    }

    #[test]
    fn an_empty_registry_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        save(dir.path(), &Registry::default()).expect("save");
        let (file, _) = read_state(&dir.path().join(STATE_FILE), &mut 0).expect("readable");
        assert_eq!(file.format_version, FORMAT_VERSION);
        assert!(file.models.is_empty());
        assert!(aside(dir.path()).is_empty());
    }

    #[test]
    fn upload_paths_stay_inside_the_state_dir() {
        let dir = Path::new("/state");
        assert_eq!(
            upload_path(dir, "churn", "8").expect("valid"),
            Path::new("/state/models/churn/8.tabship")
        );
        assert!(upload_path(dir, "..", "8").is_err());
        assert!(upload_path(dir, "churn", "../8").is_err());
    }
}
