//! `tabship serve`.

use std::sync::Arc;
use std::time::Duration;

use tabship_serve::auth::KeyStore;
use tabship_serve::{AbsentAsMissing, AppState, LogConfig, Options};

use crate::cli::{ServeArgs, ServerArgs};
use crate::error::{Error, Result};

pub fn run(args: ServeArgs) -> Result<()> {
    let mut paths = args.models.clone();
    if let Some(dir) = &args.model_dir {
        paths.push(dir.clone());
    }
    if paths.is_empty() {
        return Err(Error::Usage(
            "give artifacts to serve (tabship serve model.tabship) or --model-dir DIR".to_owned(),
        ));
    }
    start(&args.server, paths, |_| {})
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
        // A log line that cannot be written is dropped: reporting it with `eprintln!` would panic
        // on the same broken stderr and kill the task that logged (a request, or the shutdown).
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

/// Builds the state, binds, loads the models in the background and serves until SIGTERM/Ctrl-C.
/// `on_listen` gets the bound address (the demo prints its URLs there).
pub fn start(
    args: &ServerArgs,
    paths: Vec<std::path::PathBuf>,
    on_listen: impl FnOnce(std::net::SocketAddr),
) -> Result<()> {
    init_tracing(args)?;
    let keys = match &args.keys {
        Some(path) => Some(KeyStore::load(path)?),
        None => None,
    };
    tabship_serve::server::check_exposure(&args.host, keys.is_some(), args.insecure_no_auth)?;
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
        absent_as_missing: absent_as_missing(args.absent_as_missing.as_deref()),
        allowed_hosts: allowed_hosts(args),
        header_timeout: Duration::from_secs_f64(args.header_timeout),
        max_connections: args.max_connections,
        prediction_log: args.prediction_log.as_ref().map(|p| LogConfig {
            path: p.clone(),
            max_bytes: args.log_max_mb.saturating_mul(1024 * 1024),
            keep: args.log_keep,
        }),
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
        on_listen(addr);
        match server.await {
            Ok(result) => result.map_err(Error::from),
            Err(e) => Err(Error::Internal(format!("server task failed: {e}"))),
        }
    })
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
