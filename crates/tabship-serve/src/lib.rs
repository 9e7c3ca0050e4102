//! # tabship-serve
//!
//! An HTTP server for `.tabship` artifacts, as a library: [`router`] builds an `axum::Router`
//! around an [`AppState`]; the `tabship serve` command runs it on a socket, and tests drive it in
//! process with `tower::ServiceExt::oneshot`.
//!
//! ```no_run
//! # async fn run() -> tabship_serve::Result<()> {
//! use tabship_serve::{AppState, Options};
//!
//! let state = AppState::new(None, Options::default())?;
//! state.load_paths(&["model.tabship".into()])?;
//! let listener = tabship_serve::server::bind("127.0.0.1", 8900).await?;
//! let signals = tabship_serve::server::Signals::install()?;
//! tabship_serve::server::serve(state, listener, signals).await
//! # }
//! ```
//!
//! # Features
//! - `POST /predict`, `/models/{name}/predict`, `/models/{name}/versions/{version}/predict`: one
//!   record, `{"instances": [...]}` or `{"features": [...]}`; answers prediction, probabilities,
//!   model, version, request id and username. Bad input is a 400 listing every offending field.
//! - Bearer tokens from a TOML keys file of SHA-256 hashes with scopes ([`auth`]), re-read on
//!   SIGHUP or `POST /admin/keys/reload` ([`AppState::reload_keys`]); an invalid file keeps the
//!   old keys.
//! - JWT bearer tokens from an identity provider beside the keys ([`jwt`], `Options::jwt`;
//!   load with [`AppState::reload_jwt`] before serving, and again on SIGHUP), and rate limits per
//!   principal and global ([`ratelimit`]).
//! - `/metrics` (Prometheus), `/openapi.json`, `/docs`, `/ui` (rendered once per registry change;
//!   behind the `predict` scope with `Options::protect_docs`), Open Inference Protocol V2.
//! - Admin: load versions (path or upload), aliases, activate, rollback, A/B split, shadow;
//!   with `Options::state_dir` every change is saved (uploads and `state.json`) and re-applied at
//!   start-up.
//! - Against browsers and slow clients: state-changing requests from another `Origin` are 403,
//!   admin bodies must be JSON, octet-stream or multipart, `Options::allowed_hosts` refuses
//!   other `Host` names (DNS rebinding), `/ui` and `/docs` carry a CSP with script hashes and
//!   `frame-ancestors 'none'`; [`server`] applies `Options::header_timeout` and
//!   `Options::max_connections`.
//! - `/feedback` joins true labels to logged predictions (REST and V2) for live
//!   accuracy/F1/MAE, only from the principal that made the prediction or an admin key; request
//!   ids are 128 random bits, or the client's own `X-Request-Id`, refused while still in use; a
//!   JSONL prediction log with rotation.

mod access;
mod admin;
mod app;
mod artifact_path;
pub mod auth;
mod body_budget;
mod cloud;
pub mod compat;
mod connections;
mod docs;
mod error;
pub mod experiment;
mod feedback;
mod feedback_api;
mod first_bytes;
#[doc(hidden)]
pub mod fuzzing;
mod graphql;
mod guard;
mod html;
mod infer;
mod input;
pub mod jwt;
pub mod keyfile;
pub mod logs;
pub mod metrics;
mod model_dir;
mod models;
pub mod monitoring;
mod openapi;
mod page_cache;
mod persist;
mod predict;
pub mod predlog;
mod publish;
pub mod ratelimit;
pub mod registry;
mod request_id;
mod routes;
mod sagemaker;
mod scoring;
pub mod server;
pub mod staleness;
mod state;
pub mod triggers;
mod ui;
mod upload;
mod v2;
pub mod vertex;
pub mod watch;

pub use app::router;
pub use cloud::CloudRoutes;
pub use error::{ApiError, Error, FieldError, Result};
pub use html::esc as escape_html;
pub use model_dir::{POINTER, version_order};
pub use predict::{ROUTING_KEY_HEADER, RequestId};
pub use predlog::LogConfig;
pub use registry::{LoadedModel, Origin};
pub use state::{AbsentAsMissing, AppState, Options};

/// This crate's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
