//! A deadline on a connection's first bytes.
//!
//! axum-server hands every connection to hyper-util's `serve_connection_with_upgrades`, which
//! first reads up to 24 bytes to tell HTTP/1 from HTTP/2 (its `http1_only` does not apply
//! there), and hyper's header timeout only starts once that sniffing is done. A client that
//! connects and sends nothing (or only `P`, the first byte of the HTTP/2 preface) would so hold
//! its connection, and its slot under `--max-connections`, forever: 512 silent sockets would
//! lock every other client out. [`FirstBytesAcceptor`] closes such a connection when its first
//! 24 bytes have not arrived within the header timeout.
//!
//! For the same reason `http1_only` does not stop a plain-HTTP client that opens with the HTTP/2
//! preface (h2c "prior knowledge"), and an HTTP/2 connection has no header timeout at all: on
//! plain HTTP the acceptor refuses that preface too.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// The bytes an HTTP/2 client opens with.
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// What hyper-util reads before choosing the protocol: the length of the HTTP/2 preface.
const SNIFFED: usize = H2_PREFACE.len();

/// Wraps another acceptor (plain TCP, or TLS after its handshake): its streams fail with
/// `TimedOut` when their first [`SNIFFED`] bytes take longer than `timeout`.
#[derive(Debug, Clone)]
pub(crate) struct FirstBytesAcceptor<A> {
    inner: A,
    timeout: Duration,
    refuse_h2: bool,
}

impl<A> FirstBytesAcceptor<A> {
    /// For plain HTTP: HTTP/1 only.
    pub(crate) fn plain(inner: A, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            refuse_h2: true,
        }
    }

    /// For TLS, where HTTP/2 is negotiated by ALPN and stays allowed.
    pub(crate) fn tls(inner: A, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            refuse_h2: false,
        }
    }
}

type Accepted<T, S> = Pin<Box<dyn Future<Output = io::Result<(FirstBytes<T>, S)>> + Send>>;

impl<I, S, A> Accept<I, S> for FirstBytesAcceptor<A>
where
    A: Accept<I, S>,
    A::Future: Send + 'static,
    A::Stream: Send + 'static,
    A::Service: Send + 'static,
{
    type Stream = FirstBytes<A::Stream>;
    type Service = A::Service;
    type Future = Accepted<A::Stream, A::Service>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let accepted = self.inner.accept(stream, service);
        let (timeout, refuse_h2) = (self.timeout, self.refuse_h2);
        Box::pin(async move {
            let (stream, service) = accepted.await?;
            Ok((FirstBytes::new(stream, timeout, refuse_h2), service))
        })
    }
}

/// A stream whose reads fail once its deadline passed before [`SNIFFED`] bytes were read (or,
/// with `refuse_h2`, when those bytes are the HTTP/2 preface).
#[derive(Debug)]
pub(crate) struct FirstBytes<T> {
    inner: T,
    read: usize,
    /// `None` once enough bytes arrived: hyper's own timeouts take over.
    deadline: Option<Pin<Box<Sleep>>>,
    refuse_h2: bool,
    /// Whether every byte read so far matches the HTTP/2 preface.
    h2_so_far: bool,
}

impl<T> FirstBytes<T> {
    fn new(inner: T, timeout: Duration, refuse_h2: bool) -> Self {
        Self {
            inner,
            read: 0,
            deadline: Some(Box::pin(tokio::time::sleep(timeout))),
            refuse_h2,
            h2_so_far: true,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for FirstBytes<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let fresh = &buf.filled()[before..];
                if this.read < SNIFFED {
                    let wanted = &H2_PREFACE[this.read..];
                    let n = fresh.len().min(wanted.len());
                    this.h2_so_far &= fresh[..n] == wanted[..n];
                }
                this.read += fresh.len();
                if this.read >= SNIFFED {
                    this.deadline = None;
                    if this.refuse_h2 && this.h2_so_far {
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "HTTP/2 is served over TLS only",
                        )));
                    }
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                // Polling the timer registers the waker: the read is retried when it fires.
                let expired = this
                    .deadline
                    .as_mut()
                    .is_some_and(|deadline| deadline.as_mut().poll(cx).is_ready());
                if expired {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "no request arrived within the header timeout",
                    )));
                }
                Poll::Pending
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for FirstBytes<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
