//! Following a model directory shared by replicas (`--model-dir` with `--watch-interval`): new
//! artifact files are loaded and `DIR/NAME/CURRENT` pointers applied while the server runs, so a
//! version written once to a shared volume reaches every replica without a restart.
//!
//! The directory is rescanned when the OS reports a change (inotify and its kin, through
//! `notify`) and in any case every `interval`, because change events do not cross machines: NFS,
//! SMB and most network volumes never deliver them for another client's writes.
//!
//! A file is (re)read when its size or modification time differ from the last scan. A file
//! that does not load (a truncated copy fails the artifact's checksum), would break the
//! model's clients ([`crate::compat`]), or is a loaded version with other bytes is refused:
//! logged, counted in `tabship_model_dir_files_total{result="refused"}`, and the version being
//! served keeps serving. The current version is chosen among the files present, so removing
//! the current version's file (without a pointer) makes the newest remaining one current, as a
//! restart would; the removed version stays loaded for requests naming it until the process
//! restarts. When no file of a model is left, its current version keeps serving.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use notify::Watcher as _;

use crate::error::{Error, Result};
use crate::metrics::ResultLabels;
use crate::model_dir::{self, Found};
use crate::registry::{LoadedModel, Registry};
use crate::state::AppState;

/// What a watched server follows: see [`crate::Options::watch`].
#[derive(Debug, Clone)]
pub struct Watch {
    /// The model directories.
    pub dirs: Vec<PathBuf>,
    /// The longest time between two rescans (change events start one sooner).
    pub interval: Duration,
    /// Also rescan on the OS's change events (`tabship serve` always does); without them a
    /// change is seen within `interval`, as on a network volume.
    pub events: bool,
}

/// The running watcher; dropping it stops the OS watch (the rescans end with the runtime).
#[derive(Debug)]
pub struct Watching {
    _events: Option<notify::RecommendedWatcher>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Watching {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts following `state`'s [`Watch`] (nothing to do without one). Call it from a Tokio
/// runtime after [`AppState::load_paths`].
pub fn spawn(state: Arc<AppState>) -> Option<Watching> {
    let watch = state.options.watch.clone()?;
    let wake = Arc::new(tokio::sync::Notify::new());
    let events = if watch.events {
        os_events(&watch.dirs, wake.clone())
    } else {
        None
    };
    let scanner = Arc::new(Mutex::new(Scanner::default()));
    let task = tokio::spawn(async move {
        loop {
            let scanner = scanner.clone();
            let state = state.clone();
            let dirs = watch.dirs.clone();
            let scan = tokio::task::spawn_blocking(move || {
                let mut scanner = scanner.lock().unwrap_or_else(|p| p.into_inner());
                for dir in &dirs {
                    scanner.scan(&state, dir);
                }
            });
            if let Err(e) = scan.await {
                tracing::error!(error = %e, "model directory scan failed");
            }
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(watch.interval) => {}
            }
        }
    });
    Some(Watching {
        _events: events,
        task,
    })
}

/// The OS's change events for `dirs`, waking the scan loop; `None` (rescans only) when the
/// platform refuses (no inotify instance left, a network file system).
fn os_events(
    dirs: &[PathBuf],
    wake: Arc<tokio::sync::Notify>,
) -> Option<notify::RecommendedWatcher> {
    let handler = move |event: notify::Result<notify::Event>| {
        if event.is_ok() {
            wake.notify_one();
        }
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "no file change events: the model directory is rescanned on --watch-interval only");
            return None;
        }
    };
    for dir in dirs {
        if let Err(e) = watcher.watch(dir, notify::RecursiveMode::Recursive) {
            tracing::warn!(dir = %dir.display(), error = %e, "no file change events for this directory: it is rescanned on --watch-interval only");
        }
    }
    Some(watcher)
}

/// Size and modification time: a file is read again when either changes.
type Fingerprint = (u64, Option<SystemTime>);

/// What the previous scans saw.
#[derive(Debug, Default)]
struct Scanner {
    seen: HashMap<PathBuf, Fingerprint>,
    /// Per model, the pointer value already reported as naming no loaded version.
    warned: BTreeMap<String, String>,
}

impl Scanner {
    fn scan(&mut self, state: &AppState, dir: &std::path::Path) {
        let listing = match model_dir::scan(dir) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(dir = %dir.display(), error = %e, "model directory unreadable; serving what is loaded");
                return;
            }
        };
        for found in &listing.files {
            let Ok(meta) = std::fs::metadata(&found.path) else {
                continue;
            };
            let print = (meta.len(), meta.modified().ok());
            let before = self.seen.insert(found.path.clone(), print);
            if before == Some(print) || (before.is_none() && loaded_from(state, found)) {
                continue;
            }
            match admit(state, found) {
                Ok(false) => {}
                Ok(true) => count(state, "loaded"),
                Err(e) => {
                    count(state, "refused");
                    tracing::error!(path = %found.path.display(), error = %e, "artifact refused; the loaded versions keep serving");
                }
            }
        }
        for (name, nested) in &listing.models {
            self.apply_current(state, name, nested);
        }
    }

    /// Makes `DIR/NAME/`'s chosen version current when it is not already.
    fn apply_current(&mut self, state: &AppState, name: &str, nested: &model_dir::Nested) {
        let _admin = state.admin.blocking_lock();
        let registry = state.registry();
        let Some(entry) = registry.models.get(name) else {
            return;
        };
        let chosen = match model_dir::chosen_current(nested, entry) {
            Ok(Some(v)) => v,
            Ok(None) => return,
            Err(pointer) => {
                if self.warned.get(name).map(String::as_str) != Some(pointer) {
                    tracing::warn!(model = %name, pointer = %pointer, current = %entry.current, "the CURRENT pointer names a version that is not loaded (absent, not yet arrived, or refused); the current version keeps serving");
                    self.warned.insert(name.to_owned(), pointer.to_owned());
                }
                return;
            }
        };
        self.warned.remove(name);
        if entry.current == chosen {
            return;
        }
        let mut next: Registry = (*registry).clone();
        if let Some(entry) = next.models.get_mut(name) {
            let previous = std::mem::replace(&mut entry.current, chosen.to_owned());
            tracing::info!(model = %name, version = %chosen, previous = %previous, "current version changed by the model directory");
            entry.history.push(previous);
        }
        state.registry.store(next);
    }
}

/// True when `found` is a `NAME/VERSION.tabship` whose version was loaded from this very file
/// (at start-up, just before the first scan): it is not read a second time.
fn loaded_from(state: &AppState, found: &Found) -> bool {
    let Some((name, version)) = &found.nested else {
        return false;
    };
    let source = found.path.display().to_string();
    state
        .registry()
        .models
        .get(name)
        .and_then(|e| e.versions.get(version))
        .is_some_and(|m| m.source == source)
}

fn count(state: &AppState, result: &str) {
    state
        .metrics
        .model_dir_files
        .get_or_create(&ResultLabels {
            result: result.to_owned(),
        })
        .inc();
}

/// Loads `found` into the registry unless its version is already there with the same bytes
/// (`Ok(false)`). A flat file's version becomes current, as at start-up; a `NAME/` version
/// waits for [`Scanner::apply_current`].
fn admit(state: &AppState, found: &Found) -> Result<bool> {
    let (name, version) = match &found.nested {
        Some((n, v)) => (Some(n.as_str()), Some(v.as_str())),
        None => (None, None),
    };
    let model = LoadedModel::from_file(&found.path, name, version)?;
    let _admin = state.admin.blocking_lock();
    let registry = state.registry();
    let Some(entry) = registry.models.get(&model.name) else {
        state.registry.store(registry.with_version(model, true)?);
        return Ok(true);
    };
    if let Some(loaded) = entry.versions.get(&model.version) {
        if loaded.checksum == model.checksum {
            return Ok(false);
        }
        return Err(Error::ChangedVersion {
            name: model.name.clone(),
            version: model.version.clone(),
            path: found.path.display().to_string(),
            checksums: Box::new((loaded.checksum.clone(), model.checksum.clone())),
        });
    }
    let absent = state.options.absent_as_missing.applies(&model.name);
    crate::compat::refuse_breaking(entry.current_model(), &model, absent, &found.path)?;
    tracing::info!(model = %model.name, version = %model.version, path = %found.path.display(), seconds = model.load_seconds, "model version loaded from the model directory");
    let activate = found.nested.is_none();
    state
        .registry
        .store(registry.with_version(model, activate)?);
    Ok(true)
}
