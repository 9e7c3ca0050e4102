//! Connection limits against slow and idle clients (slowloris): a time limit on reading each
//! request's headers, which also closes a keep-alive connection idle for that long, and a cap on
//! open connections. Shared by plain HTTP and TLS.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::Service;

use crate::state::Options;

/// Sets the header-read timeout on the HTTP/1 connection builder. hyper starts that timer when
/// it waits for a request's head, also between requests on a keep-alive connection, so a
/// connection that trickles its headers or sits idle is closed when it runs out.
pub(crate) fn configure(builder: &mut Builder<TokioExecutor>, options: &Options) {
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout);
}

/// Plain HTTP speaks HTTP/1 only, as it always did: cleartext HTTP/2 (prior knowledge) would
/// bypass the header-read timeout, which hyper applies to HTTP/1.
pub(crate) fn http1_only(builder: &mut Builder<TokioExecutor>) {
    let configured = std::mem::replace(builder, Builder::new(TokioExecutor::new()));
    *builder = configured.http1_only();
}

/// Makes one service per accepted connection, each holding one of `max_connections` slots until
/// the connection closes. With every slot taken the accept loop waits, so further clients wait
/// in the kernel's listen backlog instead of costing a file descriptor each.
#[derive(Debug, Clone)]
pub(crate) struct Capped {
    app: Router,
    slots: Arc<Semaphore>,
}

impl Capped {
    /// `app` behind at most `max` open connections (at least one).
    pub(crate) fn new(app: Router, max: usize) -> Self {
        Capped {
            app,
            slots: Arc::new(Semaphore::new(max.clamp(1, Semaphore::MAX_PERMITS))),
        }
    }
}

impl Service<SocketAddr> for Capped {
    type Response = Connection;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Connection, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _peer: SocketAddr) -> Self::Future {
        let slots = self.slots.clone();
        let app = self.app.clone();
        Box::pin(async move {
            // The semaphore is never closed, so `acquire_owned` does not fail; were it to, the
            // connection is served without a slot rather than dropped.
            let slot = slots.acquire_owned().await.ok().map(Arc::new);
            Ok(Connection { app, _slot: slot })
        })
    }
}

/// The router for one connection; its slot is freed when hyper drops the last clone (the
/// connection closed and its requests finished).
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    app: Router,
    _slot: Option<Arc<OwnedSemaphorePermit>>,
}

impl<B> Service<Request<B>> for Connection
where
    Router: Service<Request<B>, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = <Router as Service<Request<B>>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        <Router as Service<Request<B>>>::poll_ready(&mut self.app, cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        self.app.call(req)
    }
}
