//! `tabship serve`.

use std::sync::Arc;
use std::time::Duration;

use tabship_serve::auth::KeyStore;
use tabship_serve::watch::Watch;
use tabship_serve::{AbsentAsMissing, AppState, CloudRoutes, LogConfig, Options};

use crate::cli::{ServeArgs, ServerArgs};
use crate::commands::platform::{self, Platform};
use crate::error::{Error, Result};

pub fn run(mut args: ServeArgs) -> Result<()> {
    // Without artifacts on the command line, a cloud platform's environment (Vertex AI's
    // AIP_* variables, SageMaker's /opt/ml/model) decides the port, routes and models.
    let (platform, paths) = platform::apply(
        &mut args,
        |k| std::env::var(k).ok(),
        std::path::Path::new(platform::SAGEMAKER_MODEL_DIR),
    )?;
    if paths.is_empty() {
        return Err(Error::Usage(
            "give artifacts to serve (tabship serve model.tabship) or --model-dir DIR".to_owned(),
        ));
    }
    start(&args.server, paths, args.watch_interval, move |addr, _| {
        if platform != Platform::None {
            tracing::info!(address = %addr, platform = ?platform, "serving for a cloud platform: no keys, callers are authenticated by the platform's endpoint (IAM)");
        }
    })
}

/// On a loopback bind, or when names are given, only those names and loopback ones are answered.
fn allowed_hosts(args: &ServerArgs) -> Option<Vec<String>> {
    (tabship_serve::server::is_loopback(&args.host) || !args.allowed_hosts.is_empty())
        .then(|| args.allowed_hosts.clone())
}

fn init_tracing(args: &ServerArgs) -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&args.log_level))
        .map_err(|e| Error::Usage(format!("--log-level `{}`: {e}", args.log_level)))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // A log line that cannot be written (stderr closed: a log collector restarted, `| head`)
        // is lost; by default tracing reports that with `eprintln!`, which panics on the same
        // closed stderr and takes the request's task — or start-up — down with it.
        .log_internal_errors(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // A second initialisation (tests calling twice) keeps the first subscriber.
    let _ = if args.json_logs {
        builder.json().try_init()
    } else {
        builder.compact().try_init()
    };
    Ok(())
}

/// Without a keys file, the admin routes need a token: the one given (`TABSHIP_ADMIN_TOKEN`) or a
/// new one for this run, logged at start as Jupyter prints its URL.
fn admin_token(args: &ServerArgs, has_keys: bool) -> Result<Option<String>> {
    if has_keys {
        if args.admin_token.is_some() {
            tracing::warn!(
                "--admin-token (TABSHIP_ADMIN_TOKEN) ignored: with --keys, admin is a key or token scope"
            );
        }
        return Ok(None);
    }
    match &args.admin_token {
        Some(token) if token.trim().len() < 16 => Err(Error::Usage(format!(
            "--admin-token must have at least 16 characters, got {}",
            token.trim().len()
        ))),
        Some(token) => {
            tracing::info!("no keys file: the admin routes need the token given in --admin-token");
            Ok(Some(token.trim().to_owned()))
        }
        None => {
            let token = tabship_serve::auth::generate_token()?;
            tracing::warn!(
                admin_token = %token,
                "no keys file: the admin routes need this token for this run (Authorization: Bearer <token>); give --keys for lasting users"
            );
            Ok(Some(token))
        }
    }
}

/// Builds the state, binds, loads the models in the background and serves until SIGTERM/Ctrl-C.
/// The directories among `paths` are followed every `watch_interval` seconds (0: not at all).
/// `on_listen` gets the bound address and, without keys, the admin token (the demo prints them).
pub fn start(
    args: &ServerArgs,
    paths: Vec<std::path::PathBuf>,
    watch_interval: f64,
    on_listen: impl FnOnce(std::net::SocketAddr, Option<&str>),
) -> Result<()> {
    init_tracing(args)?;
    let keys = match &args.keys {
        Some(path) => Some(KeyStore::load(path)?),
        None => None,
    };
    let jwt = args.auth.jwt()?;
    // A JWT issuer authenticates callers as a keys file does.
    let authenticated = keys.is_some() || jwt.is_some();
    tabship_serve::server::check_exposure(&args.host, authenticated, args.insecure_no_auth)?;
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        return Err(Error::Usage(format!(
            "--timeout must be a positive number of seconds, got `{}`",
            args.timeout
        )));
    }
    if !(args.drain_seconds >= 0.0 && args.drain_seconds.is_finite()) {
        return Err(Error::Usage(format!(
            "--drain-seconds must be zero or a positive number of seconds, got `{}`",
            args.drain_seconds
        )));
    }
    if !(args.header_timeout > 0.0 && args.header_timeout.is_finite()) {
        return Err(Error::Usage(format!(
            "--header-timeout must be a positive number of seconds, got `{}`",
            args.header_timeout
        )));
    }
    if args.max_inflight_mb == 0 {
        return Err(Error::Usage(
            "--max-inflight-mb must be at least 1, got `0`".to_owned(),
        ));
    }
    if args.max_uploads == 0 {
        return Err(Error::Usage(
            "--max-uploads must be at least 1, got `0`".to_owned(),
        ));
    }
    let admin_token = admin_token(args, authenticated)?;
    let watch = watch(&paths, watch_interval)?;
    if args.max_connections == 0 {
        return Err(Error::Usage(
            "--max-connections must be at least 1, got `0`".to_owned(),
        ));
    }
    let options = Options {
        body_limit: args.max_body_kb.saturating_mul(1024),
        request_timeout: Duration::from_secs_f64(args.timeout),
        drain: Duration::from_secs_f64(args.drain_seconds),
        keys_file: args.keys.clone(),
        state_dir: args.state_dir.clone(),
        strict_state: args.strict_state,
        load_path_root: args.load_path_root.clone(),
        absent_as_missing: absent_as_missing(args.absent_as_missing.as_deref()),
        allowed_hosts: allowed_hosts(args),
        header_timeout: Duration::from_secs_f64(args.header_timeout),
        max_connections: args.max_connections,
        max_uploads: args.max_uploads,
        max_inflight_body_bytes: args.max_inflight_mb.saturating_mul(1024 * 1024),
        admin_token: admin_token.clone(),
        protect_docs: args.protect_docs,
        experiment: args.experiment.options(),
        cloud: CloudRoutes {
            live: args.live_route.clone(),
            ready: args.ready_route.clone(),
            score: args.score_route.clone(),
            vertex_predict: args.vertex_predict_route.clone(),
        },
        prediction_log: args.prediction_log.as_ref().map(|p| LogConfig {
            path: p.clone(),
            max_bytes: args.log_max_mb.saturating_mul(1024 * 1024),
            keep: args.log_keep,
        }),
        watch,
        drift: args.triggers.drift()?,
        retrain: args.triggers.policy()?,
        max_model_age: args.triggers.max_model_age,
        jwt,
        rate_limit: args.auth.rate_limit(),
        global_rate_limit: args.auth.global_rate_limit(),
        ..Options::default()
    };
    let threads = args
        .threads
        .unwrap_or_else(crate::commands::default_threads)
        .max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .map_err(|e| Error::io("<tokio runtime>", e))?;
    runtime.block_on(async move {
        let state: Arc<AppState> = AppState::new(keys, options)?;
        // The JWKS (file or URL) and the HS256 secret must load before the first request.
        state.reload_jwt().await?;
        let listener = tabship_serve::server::bind(&args.host, args.port).await?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io("<listener>", e))?;
        // Models load while the socket already answers health checks (ready = 503 meanwhile).
        let loader = {
            let state = state.clone();
            tokio::task::spawn_blocking(move || state.load_paths(&paths))
        };
        let tls = args.tls_cert.clone().zip(args.tls_key.clone());
        // Registered before announcing the address, so an early SIGTERM drains instead of killing.
        let signals = tabship_serve::server::Signals::install()?;
        tracing::info!(address = %addr, auth = state.auth_enabled(), tls = tls.is_some(), "listening");
        let server = match tls {
            Some((cert, key)) => tokio::spawn({
                let state = state.clone();
                async move { tabship_serve::server::serve_tls(state, listener, signals, &cert, &key).await }
            }),
            None => tokio::spawn(tabship_serve::server::serve(state.clone(), listener, signals)),
        };
        match loader.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                server.abort();
                return Err(e.into());
            }
            Err(e) => {
                server.abort();
                return Err(Error::Internal(format!("model loading failed: {e}")));
            }
        }
        // Held while serving: dropping it stops following the model directories.
        let _watching = tabship_serve::watch::spawn(state.clone());
        on_listen(addr, admin_token.as_deref());
        match server.await {
            Ok(result) => result.map_err(Error::from),
            Err(e) => Err(Error::Internal(format!("server task failed: {e}"))),
        }
    })
}

/// The model directories among `paths`, followed every `interval` seconds (`None` for 0 or
/// when no directory is served).
fn watch(paths: &[std::path::PathBuf], interval: f64) -> Result<Option<Watch>> {
    if !(interval >= 0.0 && interval.is_finite()) {
        return Err(Error::Usage(format!(
            "--watch-interval must be zero (no watching) or a positive number of seconds, got `{interval}`"
        )));
    }
    let dirs: Vec<_> = paths.iter().filter(|p| p.is_dir()).cloned().collect();
    if interval == 0.0 || dirs.is_empty() {
        return Ok(None);
    }
    Ok(Some(Watch {
        dirs,
        interval: Duration::from_secs_f64(interval),
        events: true,
    }))
}

/// `--absent-as-missing` alone (`*`) covers every model; with names, only those.
fn absent_as_missing(models: Option<&[String]>) -> AbsentAsMissing {
    match models {
        None => AbsentAsMissing::Never,
        Some(names) if names.iter().any(|n| n == "*") => AbsentAsMissing::All,
        Some(names) => AbsentAsMissing::Models(
            names
                .iter()
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty())
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directories_among_the_paths_are_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("m.tabship");
        std::fs::write(&file, b"x").expect("write");
        let paths = [file.clone(), dir.path().to_path_buf()];
        let followed = watch(&paths, 1.5)
            .expect("valid")
            .expect("a directory is given");
        assert_eq!(followed.dirs, [dir.path().to_path_buf()]);
        assert_eq!(followed.interval, Duration::from_millis(1500));
        assert!(watch(&paths, 0.0).expect("valid").is_none());
        assert!(watch(&[file], 1.0).expect("valid").is_none());
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            let e = watch(&paths, bad).expect_err("refused").to_string();
            assert!(
                e.contains("--watch-interval") && e.contains("positive"),
                "{e}"
            );
        }
    }

    #[test]
    fn absent_as_missing_covers_all_or_the_named_models() {
        assert_eq!(absent_as_missing(None), AbsentAsMissing::Never);
        assert_eq!(
            absent_as_missing(Some(&["*".to_owned()])),
            AbsentAsMissing::All
        );
        let named = absent_as_missing(Some(&["credit".to_owned(), " churn".to_owned()]));
        assert!(named.applies("churn") && named.applies("credit") && !named.applies("iris"));
    }
}
