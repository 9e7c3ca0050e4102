//! In-process tests of the HTTP API: every endpoint and every error path, through
//! `tower::ServiceExt::oneshot` (no socket).

mod admin;
mod auth;
mod body_budget;
mod browser;
mod cloud_routes;
mod common;
mod compat;
mod connections;
mod decision;
mod drift;
mod errors;
mod experiment;
mod experiment_regressor;
mod feedback;
mod graphql;
mod jwt;
mod keys_reload;
mod load_by_path;
mod metrics_docs;
mod metrics_retained;
mod model_dir_watch;
mod predict;
mod request_forms;
mod request_ids;
mod sagemaker;
mod staleness;
mod state_dir;
mod upload_limits;
mod v2;
mod v2_data_plane;
