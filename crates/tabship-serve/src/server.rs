//! Running the server on a socket: the loopback rule, binding, connection limits, graceful
//! shutdown.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::error::{Error, Result};
use crate::state::AppState;

/// True for `localhost` and loopback addresses.
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Refuses a non-loopback address without keys unless explicitly allowed.
pub fn check_exposure(host: &str, auth: bool, insecure_no_auth: bool) -> Result<()> {
    if auth || insecure_no_auth || is_loopback(host) {
        Ok(())
    } else {
        Err(Error::Insecure {
            host: host.to_owned(),
        })
    }
}

/// Binds `host:port` (port 0 picks a free one).
pub async fn bind(host: &str, port: u16) -> Result<TcpListener> {
    let host = if host.eq_ignore_ascii_case("localhost") {
        "127.0.0.1"
    } else {
        host.trim_matches(['[', ']'])
    };
    let ip: IpAddr = host.parse().map_err(|_| Error::Io {
        what: format!("`{host}` is not an IP address"),
        source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
    })?;
    TcpListener::bind(SocketAddr::new(ip, port))
        .await
        .map_err(|source| Error::Io {
            what: format!("binding {ip}:{port}"),
            source,
        })
}

/// The process signals the server reacts to: SIGTERM and Ctrl-C (SIGINT) start a graceful
/// shutdown, SIGHUP reloads. They are registered when this value is made, so create it before
/// announcing the server: a signal that arrives before registration would get its default action
/// (terminating the process) instead of a drain.
#[derive(Debug)]
pub struct Signals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hangup: tokio::signal::unix::Signal,
}

impl Signals {
    /// Registers the handlers; call inside a Tokio runtime.
    pub fn install() -> Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let register = |kind: SignalKind, name: &str| {
                signal(kind).map_err(|source| Error::Io {
                    what: format!("listening for {name}"),
                    source,
                })
            };
            Ok(Self {
                terminate: register(SignalKind::terminate(), "SIGTERM")?,
                interrupt: register(SignalKind::interrupt(), "SIGINT")?,
                hangup: register(SignalKind::hangup(), "SIGHUP")?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    /// Splits into the shutdown half and the reload (SIGHUP) half.
    fn split(self) -> (Shutdown, Hangup) {
        #[cfg(unix)]
        {
            (
                Shutdown {
                    terminate: self.terminate,
                    interrupt: self.interrupt,
                },
                Hangup {
                    hangup: self.hangup,
                },
            )
        }
        #[cfg(not(unix))]
        {
            (Shutdown {}, Hangup {})
        }
    }
}

/// SIGTERM and SIGINT, already registered.
#[derive(Debug)]
struct Shutdown {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl Shutdown {
    /// Resolves on the first SIGTERM or SIGINT (Ctrl-C).
    async fn received(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.terminate.recv() => {},
            _ = self.interrupt.recv() => {},
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        tracing::info!("shutdown signal received");
    }
}

/// SIGHUP, already registered.
#[derive(Debug)]
struct Hangup {
    #[cfg(unix)]
    hangup: tokio::signal::unix::Signal,
}

impl Hangup {
    /// Resolves on the next SIGHUP; never resolves off Unix.
    async fn next(&mut self) {
        #[cfg(unix)]
        if self.hangup.recv().await.is_none() {
            std::future::pending::<()>().await;
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await;
    }
}

/// Serves until SIGTERM or Ctrl-C; in-flight requests get up to `Options::request_timeout` to
/// finish, then the prediction log is flushed. SIGHUP re-reads the keys file (see
/// [`reload_on_hangup`]). Connections obey `Options::header_timeout` and
/// `Options::max_connections`.
pub async fn serve(state: Arc<AppState>, listener: TcpListener, signals: Signals) -> Result<()> {
    if let Ok(addr) = listener.local_addr() {
        crate::triggers::set_listen_address(&state, addr, false);
    }
    let listener = listener.into_std().map_err(|source| Error::Io {
        what: "preparing the listener".to_owned(),
        source,
    })?;
    let (shutdown, hangup) = signals.split();
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    let draining = state.clone();
    // Requests are bounded by the request timeout already; the grace period only matters for
    // connections stuck elsewhere.
    let grace = state.options.request_timeout;
    tokio::spawn(async move {
        drain_after_signal(draining, shutdown).await;
        stopper.graceful_shutdown(Some(grace));
    });
    crate::triggers::spawn_checks(state.clone());
    let hangup = tokio::spawn(reload_on_hangup(state.clone(), hangup, None));
    let timeout = state.options.header_timeout;
    let mut server = axum_server::from_tcp(listener)
        .handle(handle)
        .map(|plain| crate::first_bytes::FirstBytesAcceptor::plain(plain, timeout));
    crate::connections::http1_only(server.http_builder());
    crate::connections::configure(server.http_builder(), &state.options);
    let app = crate::connections::Capped::new(
        crate::router(state.clone()),
        state.options.max_connections,
    );
    let result = server.serve(app).await.map_err(|source| Error::Io {
        what: "serving".to_owned(),
        source,
    });
    hangup.abort();
    state.flush();
    tracing::info!("stopped");
    result
}

/// Serves HTTPS (rustls) with a PEM certificate chain and private key, until SIGTERM or Ctrl-C;
/// in-flight requests get up to 30 s to finish, then the prediction log is flushed. SIGHUP re-reads
/// the keys file and the certificate and key (see [`reload_on_hangup`]).
pub async fn serve_tls(
    state: Arc<AppState>,
    listener: TcpListener,
    signals: Signals,
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<()> {
    if let Ok(addr) = listener.local_addr() {
        crate::triggers::set_listen_address(&state, addr, true);
    }
    // One process-wide crypto provider; a second installation (tests) is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
        .await
        .map_err(|source| Error::Io {
            what: format!(
                "loading the TLS certificate `{}` and key `{}`",
                cert.display(),
                key.display()
            ),
            source,
        })?;
    let listener = listener.into_std().map_err(|source| Error::Io {
        what: "preparing the TLS listener".to_owned(),
        source,
    })?;
    let (shutdown, hangup) = signals.split();
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    let draining = state.clone();
    tokio::spawn(async move {
        drain_after_signal(draining, shutdown).await;
        stopper.graceful_shutdown(Some(std::time::Duration::from_secs(30)));
    });
    crate::triggers::spawn_checks(state.clone());
    let hangup = tokio::spawn(reload_on_hangup(
        state.clone(),
        hangup,
        Some(TlsFiles {
            config: config.clone(),
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
        }),
    ));
    let timeout = state.options.header_timeout;
    let mut server = axum_server::from_tcp_rustls(listener, config)
        .handle(handle)
        .map(|tls| crate::first_bytes::FirstBytesAcceptor::tls(tls, timeout));
    crate::connections::configure(server.http_builder(), &state.options);
    let app = crate::connections::Capped::new(
        crate::router(state.clone()),
        state.options.max_connections,
    );
    let result = server.serve(app).await.map_err(|source| Error::Io {
        what: "serving TLS".to_owned(),
        source,
    });
    hangup.abort();
    state.flush();
    tracing::info!("stopped");
    result
}

/// The live TLS configuration and the files it is re-read from.
#[derive(Debug)]
struct TlsFiles {
    /// The configuration the listener uses; reloading it affects new handshakes only.
    config: axum_server::tls_rustls::RustlsConfig,
    /// PEM certificate chain.
    cert: PathBuf,
    /// PEM private key.
    key: PathBuf,
}

/// On every SIGHUP: re-reads the keys file ([`AppState::reload_keys`]), the JWT settings'
/// files or URL ([`AppState::reload_jwt`]) and, with `tls`, the
/// certificate and key. Each is validated in full before it replaces the old one; on an error the
/// old one stays in force and the error is logged. Connections in flight keep what they started
/// with. Runs until aborted.
async fn reload_on_hangup(state: Arc<AppState>, mut hangup: Hangup, tls: Option<TlsFiles>) {
    loop {
        hangup.next().await;
        tracing::info!("SIGHUP received: reloading");
        if state.options.keys_file.is_some() {
            // Logged and counted inside; the old keys stay on error.
            let _ = state.reload_keys();
        }
        if state.options.jwt.is_some() {
            // Logged and counted inside; the previous JWT keys stay on error.
            let _ = state.reload_jwt().await;
        }
        if let Some(tls) = &tls {
            match tls.config.reload_from_pem_file(&tls.cert, &tls.key).await {
                Ok(()) => {
                    tracing::info!(cert = %tls.cert.display(), "TLS certificate reloaded")
                }
                Err(e) => tracing::error!(
                    cert = %tls.cert.display(),
                    key = %tls.key.display(),
                    error = %e,
                    "TLS reload failed; the previous certificate stays in force"
                ),
            }
        }
    }
}

/// Resolves once a shutdown signal came and the drain period (`Options::drain`) has passed;
/// meanwhile `/health/ready` answers 503 `draining` and everything else keeps serving.
async fn drain_after_signal(state: Arc<AppState>, shutdown: Shutdown) {
    shutdown.received().await;
    state.start_draining();
    let drain = state.options.drain;
    if !drain.is_zero() {
        tracing::info!(
            seconds = drain.as_secs_f64(),
            "draining: readiness is 503, still serving"
        );
        tokio::time::sleep(drain).await;
    }
    tracing::info!("closing: finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_rule() {
        assert!(is_loopback("127.0.0.1") && is_loopback("::1") && is_loopback("[::1]"));
        assert!(is_loopback("localhost"));
        assert!(!is_loopback("0.0.0.0") && !is_loopback("10.1.2.3"));
        assert!(check_exposure("0.0.0.0", false, false).is_err());
        assert!(check_exposure("0.0.0.0", true, false).is_ok());
        assert!(check_exposure("0.0.0.0", false, true).is_ok());
        assert!(check_exposure("127.0.0.1", false, false).is_ok());
    }
}
