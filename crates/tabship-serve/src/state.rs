//! The server's shared state and its options.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};

use crate::auth::{Identity, KeyStore, Scope};
use crate::error::{ApiError, Error, Result};
use crate::feedback::FeedbackStore;
use crate::metrics::Metrics;
use crate::predlog::{LogConfig, PredictionLog};
use crate::registry::{LoadedModel, Registry, RegistryCell};

/// Tunables of a server. `Default` gives production-ready values.
#[derive(Debug, Clone)]
pub struct Options {
    /// Largest request body in bytes (predict, feedback, admin JSON): 413 above it.
    pub body_limit: usize,
    /// Largest artifact upload in bytes (admin).
    pub upload_limit: usize,
    /// Version loads (uploads and loads by path) handled at once; one more is answered 429
    /// `too_many_uploads` before its body is read, so memory stays near this many times
    /// `upload_limit`. At least 1.
    pub max_uploads: usize,
    /// Time a request may take before it is answered 503 `timeout`.
    pub request_timeout: Duration,
    /// Requests with at least this many rows are scored on the blocking thread pool.
    pub blocking_rows: usize,
    /// Predictions remembered for `/feedback` (oldest forgotten first).
    pub feedback_capacity: usize,
    /// The JSONL prediction log, if any.
    pub prediction_log: Option<LogConfig>,
    /// After SIGTERM, how long the server keeps answering while `/health/ready` says 503
    /// `draining`, so a load balancer stops sending traffic before the socket closes.
    pub drain: Duration,
    /// The keys file, re-read by [`AppState::reload_keys`] (SIGHUP, `POST /admin/keys/reload`).
    pub keys_file: Option<PathBuf>,
    /// Where admin changes persist (uploaded versions, aliases, current, split, shadow), re-applied
    /// at start-up; `None` keeps them in memory only.
    pub state_dir: Option<PathBuf>,
    /// Models whose requests may leave fields out: an absent field is a missing value instead
    /// of a 400 (`--absent-as-missing`). A request can opt in on its own with
    /// `?absent_as_missing=true` or `X-Absent-As-Missing: true`.
    pub absent_as_missing: AbsentAsMissing,
    /// When set, only requests whose `Host` (port ignored) is a loopback name or address, or one
    /// of these names, are answered (421 `host_not_allowed` otherwise): a DNS rebinding page
    /// cannot reach a loopback server under its own name. `tabship serve` sets it on a loopback
    /// bind (`--allowed-host` adds names); `None` answers any `Host`.
    pub allowed_hosts: Option<Vec<String>>,
    /// Time a client has to send a request's headers, counted from when the server starts
    /// waiting for them: on a new connection, and between requests on a keep-alive one, so an
    /// idle or trickling connection is closed after it (slowloris). Used by [`crate::server`].
    pub header_timeout: Duration,
    /// Most connections open at once; further clients wait in the listen backlog until one
    /// closes. Keep it under the process's open-file limit. Used by [`crate::server`].
    pub max_connections: usize,
    /// Without a keys file, the bearer token the admin routes require (`tabship serve` makes a
    /// new one each run and prints it, as Jupyter does), so a page in the user's browser or
    /// another local user cannot change the models. `None` leaves the admin routes open without
    /// keys: for embedders that authenticate in front of the router. Ignored with a keys file.
    pub admin_token: Option<String>,
    /// With a state directory: when any part of the saved state had to be skipped, stay not
    /// ready (503 `state_invalid`) instead of serving what remains, so an orchestrator keeps
    /// traffic on instances that restored everything (`--strict-state`).
    pub strict_state: bool,
    /// When set, the admin load-by-path (`{"path": ...}`) reads only files under this directory
    /// (after resolving symlinks and `..`); uploads are unaffected (`--load-path-root`).
    pub load_path_root: Option<PathBuf>,
    /// Request bodies in flight at once, in bytes, over all connections (admin uploads aside):
    /// a request that would pass it is answered 503 `overloaded` before its body is read.
    pub max_inflight_body_bytes: usize,
    /// Put `/openapi.json`, `/docs` and `/ui` behind the `predict` scope (`--protect-docs`): the
    /// document and the forms list every model, column and training category. Without keys
    /// everything stays open.
    pub protect_docs: bool,
    /// Routes at paths a platform chooses (Azure ML probes and scoring, Vertex AI health and
    /// predict); checked by [`AppState::new`].
    pub cloud: crate::cloud::CloudRoutes,
    /// The live A/B experiment's sequential test and margin (`GET /models/{name}/experiment`).
    pub experiment: crate::experiment::ExperimentOptions,
    /// Model directories followed while serving (see [`crate::watch`]): new versions and
    /// `NAME/CURRENT` pointers apply without a restart; an admin upload is written into the
    /// (first) directory for every replica, and the other admin routes that change models
    /// answer 409 `model_dir_watched`, since a change made on one replica would reach no other.
    /// Started by [`crate::watch::spawn`].
    pub watch: Option<crate::watch::Watch>,
    /// The drift thresholds and policy of the live windows (`--drift-options`, the file `tabship
    /// drift --options` reads): `/models/{name}/drift`, the drift gauges and the drift trigger.
    pub drift: tabship::drift::DriftOptions,
    /// Retraining triggers and their actions (`--retrain-*`); `None`: no triggers, and
    /// `POST /admin/alerts` answers 409.
    pub retrain: Option<crate::triggers::RetrainPolicy>,
    /// Versions older than this (since their training finished) are stale:
    /// `tabship_model_stale` is 1 and the start logs a warning; readiness is not affected
    /// (see [`crate::staleness`]). With a retraining action it also triggers (`--max-model-age`).
    pub max_model_age: Option<Duration>,
    /// JWT bearer tokens from an identity provider, beside or instead of the keys file (see
    /// [`crate::jwt`]); loaded by [`AppState::reload_jwt`] (at start and on SIGHUP).
    pub jwt: Option<crate::jwt::JwtConfig>,
    /// Requests per principal (the key's or the token's username; `anonymous` without auth) on
    /// the scoped routes (`--rate-limit`, `--rate-limit-burst`): 429 `rate_limited` past it.
    pub rate_limit: Option<crate::ratelimit::RateLimit>,
    /// Requests over all principals on the scoped routes (`--global-rate-limit`).
    pub global_rate_limit: Option<crate::ratelimit::RateLimit>,
}

/// Counts a reload in its `result` series (`ok`, `error`).
fn count_outcome(
    family: &prometheus_client::metrics::family::Family<
        crate::metrics::ResultLabels,
        prometheus_client::metrics::counter::Counter,
    >,
    ok: bool,
) {
    family
        .get_or_create(&crate::metrics::ResultLabels {
            result: (if ok { "ok" } else { "error" }).to_owned(),
        })
        .inc();
}

/// Swaps a reloaded value in; a poisoned lock is taken over (the value is replaced whole).
fn replace<T>(cell: &RwLock<T>, value: T) {
    match cell.write() {
        Ok(mut guard) => *guard = value,
        Err(poisoned) => *poisoned.into_inner() = value,
    }
}

/// The keys' verdict, or a token left for the JWT verifier.
enum Checked {
    Done(Identity),
    Jwt(Arc<crate::jwt::JwtVerifier>, String),
}

/// A verified JWT's identity when it grants `scope`, else 403 `insufficient_scope`.
fn granted(principal: crate::jwt::JwtPrincipal, scope: Scope) -> Result<Identity, ApiError> {
    if principal.scopes.contains(&scope) {
        Ok(Identity {
            username: Some(principal.username),
        })
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!(
                "user `{}` lacks the `{}` scope",
                principal.username,
                scope.name()
            ),
        ))
    }
}

/// Which models read an absent field as a missing value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AbsentAsMissing {
    /// None: an absent field is a 400 (the default; a request may still opt in).
    #[default]
    Never,
    /// Every model.
    All,
    /// The models named.
    Models(std::collections::BTreeSet<String>),
}

impl AbsentAsMissing {
    /// True when absent fields are missing values for `model`.
    pub fn applies(&self, model: &str) -> bool {
        match self {
            AbsentAsMissing::Never => false,
            AbsentAsMissing::All => true,
            AbsentAsMissing::Models(names) => names.contains(model),
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            body_limit: 2 * 1024 * 1024,
            upload_limit: 512 * 1024 * 1024,
            max_uploads: 2,
            request_timeout: Duration::from_secs(30),
            blocking_rows: 256,
            feedback_capacity: 100_000,
            prediction_log: None,
            drain: Duration::ZERO,
            keys_file: None,
            state_dir: None,
            absent_as_missing: AbsentAsMissing::Never,
            allowed_hosts: None,
            header_timeout: Duration::from_secs(10),
            max_connections: 512,
            admin_token: None,
            strict_state: false,
            load_path_root: None,
            max_inflight_body_bytes: 256 * 1024 * 1024,
            protect_docs: false,
            cloud: crate::cloud::CloudRoutes::default(),
            experiment: crate::experiment::ExperimentOptions::default(),
            watch: None,
            drift: tabship::drift::DriftOptions::default(),
            retrain: None,
            max_model_age: None,
            jwt: None,
            rate_limit: None,
            global_rate_limit: None,
        }
    }
}

/// Everything the handlers share.
#[derive(Debug)]
pub struct AppState {
    pub(crate) registry: Arc<RegistryCell>,
    pub(crate) admin: Arc<tokio::sync::Mutex<()>>,
    /// One permit per version load in progress (see [`Options::max_uploads`]).
    pub(crate) uploads: tokio::sync::Semaphore,
    keys: Option<RwLock<Arc<KeyStore>>>,
    /// The JWT verifier in force (`None` until [`AppState::reload_jwt`] loads `Options::jwt`).
    jwt: RwLock<Option<Arc<crate::jwt::JwtVerifier>>>,
    /// See [`crate::ratelimit`].
    pub(crate) limits: crate::ratelimit::Limits,
    pub(crate) metrics: Metrics,
    pub(crate) log: Option<PredictionLog>,
    pub(crate) feedback: FeedbackStore,
    /// Per-version feedback counts and the A/B splits' sequential tests (see [`crate::experiment`]).
    pub(crate) experiments: Arc<crate::experiment::Experiments>,
    /// `/openapi.json` and the forms, rendered once per registry generation.
    pub(crate) pages: crate::page_cache::PageCache,
    /// The GraphQL schema, rebuilt once per registry generation.
    pub(crate) graphql: crate::graphql::SchemaCache,
    pub(crate) options: Options,
    ready: AtomicBool,
    /// See [`crate::body_budget`].
    pub(crate) body_budget: tokio::sync::Semaphore,
    /// See [`AppState::state_skipped`].
    state_skipped: AtomicUsize,
    draining: AtomicBool,
    /// See [`crate::triggers`].
    pub(crate) triggers: Option<crate::triggers::Triggers>,
}

impl AppState {
    /// A server with no models yet (`/health/ready` answers 503 until [`set_ready`](Self::set_ready)).
    /// Without `keys` every endpoint is open.
    pub fn new(keys: Option<KeyStore>, options: Options) -> Result<Arc<Self>> {
        crate::cloud::check(&options.cloud)?;
        options
            .drift
            .validate()
            .map_err(|e| Error::Config(format!("--drift-options: {e}")))?;
        let triggers = options
            .retrain
            .clone()
            .map(|policy| crate::triggers::Triggers::new(policy, options.state_dir.as_deref()))
            .transpose()?;
        let registry = Arc::new(RegistryCell::default());
        if let Some(dir) = &options.state_dir {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                what: format!("creating the state directory `{}`", dir.display()),
                source,
            })?;
        }
        let experiments = Arc::new(crate::experiment::Experiments::default());
        let log = match &options.prediction_log {
            Some(cfg) => Some(PredictionLog::open(cfg.clone())?),
            None => None,
        };
        let mut metrics = Metrics::new(registry.clone(), &options);
        metrics.register_collector(Box::new(crate::staleness::AgeCollector {
            models: registry.clone(),
            max_age: options.max_model_age,
        }));
        metrics.register_collector(Box::new(crate::experiment::Collector::new(
            registry.clone(),
            experiments.clone(),
            options.experiment,
        )));
        Ok(Arc::new(AppState {
            metrics,
            registry,
            admin: Arc::new(tokio::sync::Mutex::new(())),
            uploads: tokio::sync::Semaphore::new(
                options
                    .max_uploads
                    .clamp(1, tokio::sync::Semaphore::MAX_PERMITS),
            ),
            keys: keys.map(|k| RwLock::new(Arc::new(k))),
            jwt: RwLock::new(None),
            limits: crate::ratelimit::Limits::new(options.rate_limit, options.global_rate_limit),
            log,
            feedback: FeedbackStore::new(options.feedback_capacity),
            experiments,
            body_budget: crate::body_budget::budget(options.max_inflight_body_bytes),
            pages: crate::page_cache::PageCache::default(),
            graphql: crate::graphql::SchemaCache::default(),
            options,
            ready: AtomicBool::new(false),
            state_skipped: AtomicUsize::new(0),
            draining: AtomicBool::new(false),
            triggers,
        }))
    }

    /// Loads artifacts (files, or every `*.tabship` in a directory; `NAME=FILE` serves a file
    /// under another model name), re-applies the saved state of `Options::state_dir` (skipping,
    /// with a logged error, whatever is unusable), then marks the server ready.
    ///
    /// Artifacts with the same model name become versions of one model (the last one given is
    /// current), which is logged as a warning; the same name and version twice is an error
    /// naming both files.
    ///
    /// Two artifacts that land in one model must be compatible (see [`crate::compat`]):
    /// otherwise the start fails naming the differences. Saved versions were accepted (perhaps
    /// forced) by the admin API, so those only log a warning.
    pub fn load_paths(&self, paths: &[PathBuf]) -> Result<()> {
        // (name, version) overrides and the file.
        let mut files: Vec<(Option<String>, Option<String>, PathBuf)> = Vec::new();
        let mut pointed = Vec::new();
        for path in paths {
            if path.is_dir() {
                let listing = crate::model_dir::scan(path)?;
                files.extend(listing.files.into_iter().map(|f| match f.nested {
                    Some((name, version)) => (Some(name), Some(version), f.path),
                    None => (None, None, f.path),
                }));
                pointed.extend(listing.models);
            } else {
                let (name, file) = named_path(path);
                files.push((name, None, file));
            }
        }
        if files.is_empty() {
            return Err(Error::NoModels(
                "give artifact files or a --model-dir holding *.tabship files".to_owned(),
            ));
        }
        let mut registry = (*self.registry.load()).clone();
        // Per model name: the (version, file) pairs loaded, to explain merges and duplicates.
        let mut loaded: BTreeMap<String, Vec<(String, PathBuf)>> = BTreeMap::new();
        for (name, version, file) in &files {
            let model = LoadedModel::from_file(file, name.as_deref(), version.as_deref())?;
            tracing::info!(
                model = %model.name,
                version = %model.version,
                path = %file.display(),
                seconds = model.load_seconds,
                "model loaded"
            );
            let seen = loaded.entry(model.name.clone()).or_default();
            if let Some((_, first)) = seen.iter().find(|(v, _)| *v == model.version) {
                return Err(Error::DuplicateArtifact {
                    name: model.name.clone(),
                    version: model.version.clone(),
                    first: first.clone(),
                    second: file.clone(),
                });
            }
            seen.push((model.version.clone(), file.clone()));
            if let Some(serving) = registry.models.get(&model.name).map(|e| e.current_model()) {
                let absent = self.options.absent_as_missing.applies(&model.name);
                crate::compat::refuse_breaking(serving, &model, absent, file)?;
            }
            registry = registry.with_version(model, true)?;
        }
        for (name, versions) in loaded.iter().filter(|(_, v)| v.len() > 1) {
            let list: Vec<String> = versions
                .iter()
                .map(|(v, f)| format!("{v} ({})", f.display()))
                .collect();
            tracing::warn!(
                model = %name,
                versions = %list.join(", "),
                current = %versions.last().map_or("", |(v, _)| v.as_str()),
                hint = "to serve them as separate models, give each a name with NAME=FILE",
                "artifacts sharing a model name are served as versions of one model, the last one current"
            );
        }
        for (name, nested) in &pointed {
            apply_pointer(&mut registry, name, nested);
        }
        let mut skipped = 0;
        if let Some(dir) = &self.options.state_dir {
            (registry, skipped) = crate::persist::restore(dir, registry);
        }
        if let Some(dir) = &self.options.state_dir {
            self.experiments
                .restore(dir, &registry, &self.options.experiment);
        }
        crate::staleness::warn_stale(&registry, self.options.max_model_age);
        self.registry.store(registry);
        if skipped > 0 && self.options.strict_state {
            self.state_skipped.store(skipped, Ordering::Release);
            tracing::error!(
                skipped,
                "not ready: parts of the saved state were skipped and --strict-state is set"
            );
        } else {
            self.set_ready();
        }
        Ok(())
    }

    /// Adds an already loaded model (it becomes its model's current version).
    pub fn add_model(&self, model: LoadedModel) -> Result<()> {
        let next = self.registry.load().with_version(model, true)?;
        self.registry.store(next);
        Ok(())
    }

    /// Marks the server ready to serve.
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }

    /// True once the models are loaded.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Starts draining (on SIGTERM): readiness answers 503 `draining` while every other endpoint
    /// keeps serving, so a load balancer takes the instance out before it stops.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// True once [`start_draining`](Self::start_draining) was called.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// Ready for new traffic: models loaded and not draining.
    pub fn accepts_traffic(&self) -> bool {
        self.is_ready() && !self.is_draining()
    }

    /// The current registry snapshot.
    pub fn registry(&self) -> Arc<Registry> {
        self.registry.load()
    }

    /// True when requests need a bearer token (a keys file or JWT settings).
    pub fn auth_enabled(&self) -> bool {
        self.keys.is_some() || self.options.jwt.is_some()
    }

    /// Checks the request's token for `scope` with the keys and JWT keys in force, without
    /// fetching a JWKS (for a second check within a request the gate already authorized).
    pub(crate) fn authorize(
        &self,
        headers: &HeaderMap,
        scope: Scope,
    ) -> Result<Identity, ApiError> {
        match self.authorize_key(headers, scope)? {
            Checked::Done(identity) => Ok(identity),
            Checked::Jwt(jwt, token) => granted(jwt.verify_now(&token)?, scope),
        }
    }

    /// Checks the request's token for `scope`: a known key is a key, anything else is tried as
    /// a JWT when JWT is configured (refetching the JWKS on an unknown `kid`). Without keys or
    /// JWT everything passes, except the admin routes when `Options::admin_token` is set.
    pub(crate) async fn authorize_request(
        &self,
        headers: &HeaderMap,
        scope: Scope,
    ) -> Result<Identity, ApiError> {
        match self.authorize_key(headers, scope)? {
            Checked::Done(identity) => Ok(identity),
            Checked::Jwt(jwt, token) => granted(jwt.verify(&token).await?, scope),
        }
    }

    fn authorize_key(&self, headers: &HeaderMap, scope: Scope) -> Result<Checked, ApiError> {
        let keys = self.keys();
        if keys.is_none() && self.options.jwt.is_none() {
            return match (&self.options.admin_token, scope) {
                (Some(token), Scope::Admin) => {
                    crate::auth::check_admin_token(headers, token).map(Checked::Done)
                }
                _ => Ok(Checked::Done(Identity { username: None })),
            };
        }
        let token = crate::auth::bearer_token(headers).ok_or_else(crate::auth::missing_token)?;
        if let Some(keys) = &keys
            && let Some(found) = keys.authorize_token(token, scope)
        {
            return found.map(Checked::Done);
        }
        match self.jwt_verifier() {
            Some(jwt) => Ok(Checked::Jwt(jwt, token.to_owned())),
            None if self.options.jwt.is_some() => Err(crate::jwt::invalid_token(
                "the JWT keys are not loaded (the JWKS could not be read at start)",
            )),
            None => Err(crate::auth::unknown_token()),
        }
    }

    /// The JWT verifier in force, if any.
    pub(crate) fn jwt_verifier(&self) -> Option<Arc<crate::jwt::JwtVerifier>> {
        match self.jwt.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Loads `Options::jwt` (the HS256 secret file, the JWKS file or URL) and swaps the verifier
    /// in atomically, returning the number of public keys; on any error the previous verifier
    /// stays in force. Called at start and on SIGHUP; `Ok(0)` without JWT settings. Counted in
    /// `tabship_jwt_reloads_total{result}`.
    pub async fn reload_jwt(&self) -> Result<usize> {
        let Some(config) = self.options.jwt.clone() else {
            return Ok(0);
        };
        let result = crate::jwt::JwtVerifier::load(config).await;
        count_outcome(&self.metrics.jwt_reloads, result.is_ok());
        let fresh = Arc::new(result.inspect_err(|e| {
            tracing::error!(error = %e, "JWT settings not loaded; the previous ones stay in force")
        })?);
        let n = fresh.key_count();
        tracing::info!(public_keys = n, "JWT settings loaded");
        replace(&self.jwt, Some(fresh));
        Ok(n)
    }

    /// The keys in force now (`None` without a keys file). A request keeps the snapshot it took.
    pub fn keys(&self) -> Option<Arc<KeyStore>> {
        let cell = self.keys.as_ref()?;
        Some(match cell.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        })
    }

    /// Re-reads `Options::keys_file` and swaps the keys in atomically, returning how many keys
    /// are now in force. The new file is parsed and validated in full first: on any error the
    /// old keys stay in force. Counted in `tabship_keys_reloads_total{result}`.
    pub fn reload_keys(&self) -> Result<usize> {
        let result = self.try_reload_keys();
        count_outcome(&self.metrics.keys_reloads, result.is_ok());
        match &result {
            Ok(n) => tracing::info!(keys = n, "keys reloaded"),
            Err(e) => {
                tracing::error!(error = %e, "keys reload failed; the previous keys stay in force")
            }
        }
        result
    }

    fn try_reload_keys(&self) -> Result<usize> {
        let (Some(cell), Some(path)) = (&self.keys, &self.options.keys_file) else {
            return Err(Error::Keys {
                path: self.options.keys_file.clone().unwrap_or_default(),
                message: "the server was started without --keys; there is no keys file to reload"
                    .to_owned(),
            });
        };
        let fresh = Arc::new(KeyStore::load(path)?);
        let n = fresh.len();
        replace(cell, fresh);
        Ok(n)
    }

    /// Parts of the saved state skipped at start when `Options::strict_state` kept the server
    /// from becoming ready (0 otherwise).
    pub fn state_skipped(&self) -> usize {
        self.state_skipped.load(Ordering::Acquire)
    }

    /// 503 until the models are loaded.
    pub(crate) fn require_ready(&self) -> Result<(), ApiError> {
        let skipped = self.state_skipped();
        if self.is_ready() {
            Ok(())
        } else if skipped > 0 {
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "state_invalid",
                format!(
                    "{skipped} part(s) of the saved state were skipped (see the log; state.json's rejected copy is kept beside it) and --strict-state is set: fix the state and restart, or start without --strict-state"
                ),
            ))
        } else {
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_ready",
                "the models are still loading",
            ))
        }
    }

    /// 409 `model_dir_watched` when the server follows a model directory: an admin change to the
    /// models would apply on this replica alone, and the directory would not know it.
    pub(crate) fn refuse_if_watched(&self) -> Result<(), ApiError> {
        let Some(watch) = &self.options.watch else {
            return Ok(());
        };
        let dirs: Vec<String> = watch
            .dirs
            .iter()
            .map(|d| format!("`{}`", d.display()))
            .collect();
        Err(ApiError::new(
            StatusCode::CONFLICT,
            "model_dir_watched",
            format!(
                "this server follows the model directory {} (--watch-interval), which every replica reads: a change made here would reach this replica only; upload versions (they are published into the directory), write DIR/NAME/CURRENT to choose the current version, or start with --watch-interval 0 to manage this instance through the admin API",
                dirs.join(", ")
            ),
        ))
    }

    /// Flushes the prediction log and, with a state directory, saves the running A/B
    /// experiments (at shutdown).
    pub fn flush(&self) {
        if let Some(log) = &self.log {
            log.flush();
        }
        if let Some(dir) = &self.options.state_dir {
            self.experiments.save(dir);
        }
    }
}

/// `NAME=FILE` as a name override and a file, when `FILE` exists and `path` itself does not (a
/// file may have `=` in its name); otherwise the path as it is.
fn named_path(path: &Path) -> (Option<String>, PathBuf) {
    if !path.exists() {
        if let Some((name, file)) = path.to_str().and_then(|p| p.split_once('=')) {
            let file = PathBuf::from(file);
            if !name.is_empty() && file.exists() {
                return (Some(name.to_owned()), file);
            }
        }
    }
    (None, path.to_path_buf())
}

/// At start-up, `DIR/NAME/CURRENT` chooses the current version (its versions were loaded oldest
/// first, so without a pointer the newest already is).
fn apply_pointer(registry: &mut Registry, name: &str, nested: &crate::model_dir::Nested) {
    let Some(entry) = registry.models.get_mut(name) else {
        return;
    };
    match crate::model_dir::chosen_current(nested, entry) {
        Ok(Some(version)) if version != entry.current => {
            let previous = std::mem::replace(&mut entry.current, version.to_owned());
            entry.history.push(previous);
        }
        Ok(_) => {}
        Err(pointer) => tracing::warn!(
            model = %name,
            pointer = %pointer,
            current = %entry.current,
            "the CURRENT pointer names a version that is not in the model directory; serving the newest"
        ),
    }
}
