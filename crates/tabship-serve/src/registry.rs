//! The models being served: names, versions, aliases, the current version, A/B split and shadow.
//!
//! The whole registry is an immutable snapshot behind `RwLock<Arc<_>>`: a request clones the `Arc`
//! (a read lock held for nanoseconds) and predicts on that snapshot, while an admin change builds a
//! new snapshot and swaps it in atomically. A request never sees a half-applied change, and a
//! version being replaced keeps serving the requests that already hold it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use tabship::{Pipeline, Task};

use crate::error::{ApiError, Error, Result, check_name};
use crate::monitoring::Monitor;

/// How a version was loaded; admin-loaded versions are what a state directory persists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// From the command line (or a library call) at start-up.
    Startup,
    /// `POST /admin/models/{name}/versions` with a server path.
    AdminPath,
    /// `POST /admin/models/{name}/versions` with the artifact bytes.
    AdminUpload,
}

/// One loaded version of a model.
#[derive(Debug)]
pub struct LoadedModel {
    /// The model's name (from the artifact unless overridden).
    pub name: String,
    /// The version string (from the artifact unless overridden).
    pub version: String,
    /// The pipeline.
    pub pipeline: Pipeline,
    /// `sha256:<hex>` of the artifact body.
    pub checksum: String,
    /// Where it came from: a path, or `upload`.
    pub source: String,
    /// How it was loaded: at start-up, or through the admin API (by path or upload).
    pub origin: Origin,
    /// When it was loaded, RFC 3339 UTC.
    pub loaded_at: String,
    /// Seconds spent reading and validating the artifact.
    pub load_seconds: f64,
    /// Live quality from feedback (and drift once available).
    pub monitor: Monitor,
    /// Predictions per class index (classifiers) or one counter (regressors).
    predictions: Vec<AtomicU64>,
}

impl LoadedModel {
    /// Reads an artifact file. `name`/`version` override the artifact's own.
    pub fn from_file(path: &Path, name: Option<&str>, version: Option<&str>) -> Result<Self> {
        let started = Instant::now();
        let pipeline = Pipeline::load(path).map_err(|source| Error::Load {
            path: path.to_path_buf(),
            source,
        })?;
        Self::new(pipeline, path.display().to_string(), started, name, version)
    }

    /// Parses artifact bytes read from `path` by an admin load by path (see
    /// `crate::artifact_path`, which vets the file first).
    pub(crate) fn from_path_bytes(
        bytes: &[u8],
        path: &Path,
        name: Option<&str>,
        version: Option<&str>,
    ) -> Result<Self> {
        let started = Instant::now();
        let pipeline = Pipeline::from_bytes(bytes).map_err(|source| Error::Load {
            path: path.to_path_buf(),
            source,
        })?;
        Self::new(pipeline, path.display().to_string(), started, name, version)
    }

    /// Reads artifact bytes (an upload).
    pub fn from_bytes(bytes: &[u8], name: Option<&str>, version: Option<&str>) -> Result<Self> {
        let started = Instant::now();
        let pipeline = Pipeline::from_bytes(bytes).map_err(|source| Error::Load {
            path: "upload".into(),
            source,
        })?;
        Self::new(pipeline, "upload".to_owned(), started, name, version)
    }

    /// Wraps an already loaded pipeline.
    pub fn new(
        pipeline: Pipeline,
        source: String,
        started: Instant,
        name: Option<&str>,
        version: Option<&str>,
    ) -> Result<Self> {
        let training = pipeline.training();
        let name = name
            .map(str::to_owned)
            .or_else(|| Some(training.name.clone()).filter(|n| !n.is_empty()))
            .unwrap_or_else(|| "model".to_owned());
        let version = version
            .map(str::to_owned)
            .or_else(|| Some(training.version.clone()).filter(|v| !v.is_empty()))
            .unwrap_or_else(|| "1".to_owned());
        check_name("model name", &name)?;
        check_name("version", &version)?;
        let checksum = pipeline
            .header()
            .map(|h| h.checksum_hex())
            .unwrap_or_default();
        let counters = match pipeline.task() {
            Task::Classification => pipeline.classes().len(),
            Task::Regression => 1,
        };
        let monitor = Monitor::new(&pipeline);
        Ok(LoadedModel {
            name,
            version,
            checksum,
            source,
            origin: Origin::Startup,
            loaded_at: now_rfc3339(),
            load_seconds: started.elapsed().as_secs_f64(),
            monitor,
            predictions: (0..counters).map(|_| AtomicU64::new(0)).collect(),
            pipeline,
        })
    }

    /// Counts one prediction of class `index` (0 for a regressor).
    pub(crate) fn count_prediction(&self, index: usize) {
        if let Some(c) = self.predictions.get(index) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Predictions so far, per class index (one entry for a regressor).
    pub fn prediction_counts(&self) -> Vec<u64> {
        self.predictions
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect()
    }
}

/// How unversioned traffic is split between versions (weights need not sum to 100).
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// `(version, weight)` pairs, weights > 0.
    pub arms: Vec<(String, u32)>,
}

/// All versions of one model and how traffic reaches them.
#[derive(Debug, Clone)]
pub struct ModelEntry {
    /// Loaded versions by version string.
    pub versions: BTreeMap<String, Arc<LoadedModel>>,
    /// Alias → version (`production` → `3`).
    pub aliases: BTreeMap<String, String>,
    /// The version unversioned requests get (when no split is set).
    pub current: String,
    /// Earlier current versions, most recent last, for rollback.
    pub history: Vec<String>,
    /// A/B split of unversioned traffic.
    pub split: Option<Split>,
    /// A version scored on unversioned traffic and logged, never returned.
    pub shadow: Option<String>,
}

impl ModelEntry {
    /// Resolves a version string or alias.
    pub fn version(&self, version_or_alias: &str) -> Option<&Arc<LoadedModel>> {
        self.versions.get(version_or_alias).or_else(|| {
            self.aliases
                .get(version_or_alias)
                .and_then(|v| self.versions.get(v))
        })
    }

    /// The version serving unversioned traffic for a routing key (sticky when a key is given).
    pub fn route(&self, key: Option<&str>) -> &Arc<LoadedModel> {
        if let Some(split) = &self.split {
            let total: u64 = split.arms.iter().map(|(_, w)| u64::from(*w)).sum();
            if total > 0 {
                let point = match key {
                    Some(k) => fnv1a(k.as_bytes()) % total,
                    None => rand::random::<u64>() % total,
                };
                let mut acc = 0u64;
                for (version, weight) in &split.arms {
                    acc += u64::from(*weight);
                    if point < acc {
                        if let Some(m) = self.versions.get(version) {
                            return m;
                        }
                    }
                }
            }
        }
        self.current_model()
    }

    /// The current version.
    pub fn current_model(&self) -> &Arc<LoadedModel> {
        // `current` always names a loaded version: every mutation keeps that invariant.
        self.versions
            .get(&self.current)
            .or_else(|| self.versions.values().next_back())
            .expect("a model entry always holds at least one version")
    }
}

/// FNV-1a: a stable hash (the same key lands on the same arm across restarts and builds).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// An immutable snapshot of every served model.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    /// Models by name.
    pub models: BTreeMap<String, ModelEntry>,
    /// The model `POST /predict` uses (the first one loaded).
    pub default_model: Option<String>,
}

impl Registry {
    /// Looks a model up (404 when unknown).
    pub fn model(&self, name: &str) -> Result<&ModelEntry, ApiError> {
        self.models
            .get(name)
            .ok_or_else(|| ApiError::model_not_found(name))
    }

    /// Adds a version. With `activate` (or when the model is new) it becomes current.
    pub fn with_version(&self, model: LoadedModel, activate: bool) -> Result<Registry> {
        let mut next = self.clone();
        let name = model.name.clone();
        let version = model.version.clone();
        let model = Arc::new(model);
        match next.models.get_mut(&name) {
            Some(entry) => {
                if entry.versions.contains_key(&version) {
                    return Err(Error::DuplicateVersion { name, version });
                }
                entry.versions.insert(version.clone(), model);
                if activate {
                    let previous = std::mem::replace(&mut entry.current, version);
                    entry.history.push(previous);
                }
            }
            None => {
                next.models.insert(
                    name.clone(),
                    ModelEntry {
                        versions: BTreeMap::from([(version.clone(), model)]),
                        aliases: BTreeMap::new(),
                        current: version,
                        history: Vec::new(),
                        split: None,
                        shadow: None,
                    },
                );
                if next.default_model.is_none() {
                    next.default_model = Some(name);
                }
            }
        }
        Ok(next)
    }
}

/// The swappable registry cell shared by the handlers and the metrics collector.
#[derive(Debug, Default)]
pub struct RegistryCell {
    inner: RwLock<Generation>,
}

/// A snapshot and the number of snapshots stored before it.
#[derive(Debug, Default)]
struct Generation {
    number: u64,
    registry: Arc<Registry>,
}

impl RegistryCell {
    /// The current snapshot.
    pub fn load(&self) -> Arc<Registry> {
        self.load_generation().1
    }

    /// The current snapshot and its generation: a number that grows with every
    /// [`store`](Self::store), so whatever is built from a snapshot (the OpenAPI document, the
    /// forms) can be cached until the registry changes.
    pub fn load_generation(&self) -> (u64, Arc<Registry>) {
        let read = |g: &Generation| (g.number, g.registry.clone());
        match self.inner.read() {
            Ok(guard) => read(&guard),
            Err(poisoned) => read(&poisoned.into_inner()),
        }
    }

    /// Replaces the snapshot.
    pub fn store(&self, registry: Registry) {
        let registry = Arc::new(registry);
        let write = |g: &mut Generation| {
            g.number += 1;
            g.registry = registry;
        };
        match self.inner.write() {
            Ok(mut guard) => write(&mut guard),
            Err(poisoned) => write(&mut poisoned.into_inner()),
        }
    }
}

/// The current time as RFC 3339 UTC.
pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
