//! `tabship serve` inside a cloud platform's container, recognised from what the platform sets:
//! Vertex AI sets `AIP_HTTP_PORT` (and `AIP_HEALTH_ROUTE`, `AIP_PREDICT_ROUTE`,
//! `AIP_STORAGE_URI`); SageMaker mounts the model at `/opt/ml/model`. Both authenticate callers
//! at the endpoint (IAM) and send no bearer token, so the container serves without keys (keys
//! given with --keys still apply). The platform's port and address win over --host/--port.

use std::path::{Path, PathBuf};

use crate::cli::ServeArgs;
use crate::error::{Error, Result};

/// Where SageMaker extracts the model's `model.tar.gz`.
pub const SAGEMAKER_MODEL_DIR: &str = "/opt/ml/model";

/// The port SageMaker sends `/ping` and `/invocations` to.
pub const SAGEMAKER_PORT: u16 = 8080;

/// Which platform `tabship serve` runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Neither: the command line alone decides.
    None,
    /// Vertex AI (`AIP_HTTP_PORT` set).
    Vertex,
    /// SageMaker (`/opt/ml/model` is a directory).
    SageMaker,
}

/// Applies the platform's settings to `args` when no artifact is named on the command line, and
/// returns the paths to serve. `env` reads a variable; `sagemaker_dir` is [`SAGEMAKER_MODEL_DIR`]
/// (a parameter for tests).
pub fn apply(
    args: &mut ServeArgs,
    env: impl Fn(&str) -> Option<String>,
    sagemaker_dir: &Path,
) -> Result<(Platform, Vec<PathBuf>)> {
    let mut paths = args.models.clone();
    if !paths.is_empty() {
        if let Some(dir) = &args.model_dir {
            paths.push(dir.clone());
        }
        return Ok((Platform::None, paths));
    }
    if let Some(port) = env("AIP_HTTP_PORT").filter(|p| !p.trim().is_empty()) {
        let port: u16 = port.trim().parse().map_err(|_| {
            Error::Usage(format!("AIP_HTTP_PORT must be a port number, got `{port}`"))
        })?;
        let server = &mut args.server;
        server.host = "0.0.0.0".to_owned();
        server.port = port;
        server.insecure_no_auth = true;
        if server.ready_route.is_some() {
            return Err(Error::Usage(
                "--ready-route (TABSHIP_READY_ROUTE) and Vertex AI's AIP_HEALTH_ROUTE both set the readiness route: give one".to_owned(),
            ));
        }
        server.ready_route = Some(env("AIP_HEALTH_ROUTE").unwrap_or_else(|| "/health".to_owned()));
        server.vertex_predict_route =
            Some(env("AIP_PREDICT_ROUTE").unwrap_or_else(|| "/vertex/predict".to_owned()));
        let storage = env("AIP_STORAGE_URI").filter(|s| !s.trim().is_empty());
        match (storage, &args.model_dir) {
            (Some(uri), model_dir) => match local_path(&uri) {
                Some(path) => paths.push(path),
                None => match model_dir {
                    Some(dir) => {
                        tracing::warn!(uri = %uri, model_dir = %dir.display(), "AIP_STORAGE_URI is not a local path: serving the model directory instead");
                        paths.push(dir.clone());
                    }
                    None => {
                        return Err(Error::Usage(format!(
                            "AIP_STORAGE_URI `{uri}` is not a local path: tabship reads models from local files; mount the bucket (Cloud Storage FUSE) and give its path, or build the models into the image (--model-dir / TABSHIP_MODEL_DIR)"
                        )));
                    }
                },
            },
            (None, Some(dir)) => paths.push(dir.clone()),
            (None, None) => {}
        }
        return Ok((Platform::Vertex, paths));
    }
    if sagemaker_dir.is_dir() {
        // SageMaker's contract puts the model here, whatever the image's default directory is,
        // and sends requests to port 8080 on every interface.
        paths.push(sagemaker_dir.to_path_buf());
        args.server.host = "0.0.0.0".to_owned();
        args.server.port = SAGEMAKER_PORT;
        args.server.insecure_no_auth = true;
        return Ok((Platform::SageMaker, paths));
    }
    if let Some(dir) = &args.model_dir {
        paths.push(dir.clone());
    }
    Ok((Platform::None, paths))
}

/// A local path from `/path` or `file:///path`; `None` for a remote URI (`gs://...`).
fn local_path(uri: &str) -> Option<PathBuf> {
    let uri = uri.trim();
    if let Some(rest) = uri.strip_prefix("file://") {
        Some(PathBuf::from(rest))
    } else if uri.contains("://") {
        None
    } else {
        Some(PathBuf::from(uri))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn serve_args(argv: &[&str]) -> ServeArgs {
        let mut full = vec!["tabship", "serve"];
        full.extend(argv);
        match crate::cli::Cli::parse_from(full).command {
            crate::cli::Command::Serve(args) => *args,
            _ => unreachable!("serve"),
        }
    }

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn vertex_listens_on_its_port_and_routes_and_reads_the_storage_path() {
        let mut args = serve_args(&[]);
        let vars = [
            ("AIP_HTTP_PORT", "8081"),
            ("AIP_HEALTH_ROUTE", "/v1/health"),
            (
                "AIP_PREDICT_ROUTE",
                "/v1/endpoints/1/deployedModels/2:predict",
            ),
            ("AIP_STORAGE_URI", "/mnt/models"),
        ];
        let (platform, paths) =
            apply(&mut args, env(&vars), Path::new("/nonexistent")).expect("vertex");
        assert_eq!(platform, Platform::Vertex);
        assert_eq!(paths, vec![PathBuf::from("/mnt/models")]);
        assert_eq!(
            (args.server.host.as_str(), args.server.port),
            ("0.0.0.0", 8081)
        );
        assert_eq!(args.server.ready_route.as_deref(), Some("/v1/health"));
        assert_eq!(
            args.server.vertex_predict_route.as_deref(),
            Some("/v1/endpoints/1/deployedModels/2:predict")
        );
    }

    #[test]
    fn vertex_refuses_a_remote_storage_uri_without_a_model_dir() {
        let mut args = serve_args(&[]);
        let vars = [
            ("AIP_HTTP_PORT", "8080"),
            ("AIP_STORAGE_URI", "gs://bucket/m"),
        ];
        let error = apply(&mut args, env(&vars), Path::new("/nonexistent")).expect_err("gs://");
        assert!(error.to_string().contains("not a local path"), "{error}");
        let mut args = serve_args(&["--model-dir", "/models"]);
        let (_, paths) =
            apply(&mut args, env(&vars), Path::new("/nonexistent")).expect("model dir");
        assert_eq!(paths, vec![PathBuf::from("/models")]);
    }

    #[test]
    fn artifacts_on_the_command_line_win_over_the_platform() {
        let mut args = serve_args(&["iris.tabship"]);
        let vars = [("AIP_HTTP_PORT", "8080")];
        let (platform, paths) = apply(&mut args, env(&vars), Path::new("/")).expect("cli");
        assert_eq!(platform, Platform::None);
        assert_eq!(paths, vec![PathBuf::from("iris.tabship")]);
        assert_eq!(args.server.port, 8900);
    }

    #[test]
    fn sagemaker_serves_its_model_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut args = serve_args(&["--model-dir", "/models"]);
        let (platform, paths) = apply(&mut args, env(&[]), dir.path()).expect("sagemaker");
        assert_eq!(platform, Platform::SageMaker);
        assert_eq!(paths, vec![dir.path().to_path_buf()]);
        assert!(args.server.insecure_no_auth);
        assert_eq!(
            (args.server.host.as_str(), args.server.port),
            ("0.0.0.0", 8080)
        );
    }
}
