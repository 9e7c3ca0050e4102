//! Slow and idle clients on a real loopback socket: a client trickling its headers or sitting
//! idle on a keep-alive connection is closed; open connections are capped.
//!
//! The clients are blocking `std` sockets on the blocking pool, each read bounded by a generous
//! socket timeout: the tests wait for the server to act (a read returning 0 or an error), they do
//! not sleep and then look.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use tabship_serve::Options;

use crate::common::state_with;

/// Upper bound on anything the server must do: far above the timeouts under test.
const PATIENCE: Duration = Duration::from_secs(30);

/// Starts `tabship serve` on a free loopback port; it stops with the test's runtime.
async fn start(options: Options) -> SocketAddr {
    let state = state_with(None, options);
    let listener = tabship_serve::server::bind("127.0.0.1", 0)
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let signals = tabship_serve::server::Signals::install().expect("signals");
    tokio::spawn(tabship_serve::server::serve(state, listener, signals));
    addr
}

fn connect(addr: SocketAddr, read_timeout: Duration) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(read_timeout))
        .expect("read timeout");
    stream
}

/// Reads until the server closes the connection; `Err` if it is still open after the socket's
/// read timeout. Returns what was read.
fn read_until_closed(stream: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(seen),
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(format!(
                    "still open; read so far: {}",
                    String::from_utf8_lossy(&seen)
                ));
            }
            // A reset is the server closing too.
            Err(_) => return Ok(seen),
        }
    }
}

/// Reads until `needle` arrived; `Err` on a timeout or a close first.
fn read_until(stream: &mut TcpStream, needle: &str) -> Result<String, String> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        match stream.read(&mut buf) {
            Ok(0) => return Err(format!("closed: {}", String::from_utf8_lossy(&seen))),
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(e) => return Err(format!("{e}: {}", String::from_utf8_lossy(&seen))),
        }
    }
    Ok(String::from_utf8_lossy(&seen).into_owned())
}

const LIVE: &str = "GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n";
const LIVE_BODY: &str = "{\"status\":\"live\"}";

#[tokio::test]
async fn a_client_trickling_its_headers_is_closed() {
    let addr = start(Options {
        header_timeout: Duration::from_millis(300),
        ..Options::default()
    })
    .await;
    let outcome = tokio::task::spawn_blocking(move || {
        let mut slow = connect(addr, PATIENCE);
        let started = Instant::now();
        slow.write_all(b"GET /health/live HTTP/1.1\r\nHost: loc")
            .expect("write");
        let closed = read_until_closed(&mut slow);
        // A complete request on a fresh connection is still answered.
        let mut quick = connect(addr, PATIENCE);
        quick.write_all(LIVE.as_bytes()).expect("write");
        (closed, started.elapsed(), read_until(&mut quick, LIVE_BODY))
    })
    .await
    .expect("client");
    let (closed, elapsed, answered) = outcome;
    closed.expect("the server closes a connection that never finishes its headers");
    assert!(elapsed < PATIENCE, "closed after {elapsed:?}");
    answered.expect("a complete request is answered");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let addr = start(Options {
        header_timeout: Duration::from_millis(300),
        ..Options::default()
    })
    .await;
    let (answered, closed) = tokio::task::spawn_blocking(move || {
        let mut client = connect(addr, PATIENCE);
        client.write_all(LIVE.as_bytes()).expect("write");
        let answered = read_until(&mut client, LIVE_BODY);
        // Keep-alive: the connection stays open for a next request that never comes.
        (answered, read_until_closed(&mut client))
    })
    .await
    .expect("client");
    let answered = answered.expect("answered");
    assert!(
        !answered.to_ascii_lowercase().contains("connection: close"),
        "{answered}"
    );
    closed.expect("the server closes an idle keep-alive connection");
}

#[tokio::test]
async fn open_connections_are_capped() {
    let addr = start(Options {
        max_connections: 1,
        header_timeout: Duration::from_secs(120),
        ..Options::default()
    })
    .await;
    let outcome = tokio::task::spawn_blocking(move || {
        // The first connection takes the only slot and sends nothing.
        let mut holder = connect(addr, PATIENCE);
        holder
            .write_all(b"GET /health/live HTTP/1.1\r\n")
            .expect("write");
        // The second waits in the backlog: nothing answers it while the slot is taken. (A
        // bounded wait for something that must not happen; an uncapped server answers in
        // microseconds.)
        let mut waiting = connect(addr, Duration::from_millis(500));
        waiting.write_all(LIVE.as_bytes()).expect("write");
        let early = read_until(&mut waiting, LIVE_BODY);
        // Once the first closes, the second is served.
        drop(holder);
        waiting.set_read_timeout(Some(PATIENCE)).expect("timeout");
        (early, read_until(&mut waiting, LIVE_BODY))
    })
    .await
    .expect("client");
    let (early, late) = outcome;
    assert!(
        early.is_err(),
        "a second connection was served while the only slot was taken: {early:?}"
    );
    late.expect("served once the slot is free");
}

/// A client that connects and sends nothing (or only `P`, which could begin the HTTP/2 preface)
/// was kept forever: the protocol sniffing before hyper's header timeout had no deadline, so a
/// few silent sockets held every slot of `max_connections`.
#[tokio::test]
async fn a_silent_connection_is_closed_and_frees_its_slot() {
    let addr = start(Options {
        max_connections: 2,
        header_timeout: Duration::from_millis(300),
        ..Options::default()
    })
    .await;
    let outcome = tokio::task::spawn_blocking(move || {
        let mut silent = connect(addr, PATIENCE);
        let mut preface = connect(addr, PATIENCE);
        preface.write_all(b"P").expect("write");
        // Both slots are taken; this one is served once the server closed the other two.
        let mut waiting = connect(addr, PATIENCE);
        waiting.write_all(LIVE.as_bytes()).expect("write");
        (
            read_until_closed(&mut silent),
            read_until_closed(&mut preface),
            read_until(&mut waiting, LIVE_BODY),
        )
    })
    .await
    .expect("client");
    let (silent, preface, served) = outcome;
    silent.expect("the server closes a connection that sends nothing");
    preface.expect("the server closes a connection that stops after `P`");
    served.expect("a waiting client is served once the silent ones are closed");
}

/// HTTP/2 without TLS ("prior knowledge") was served although plain HTTP is meant to be HTTP/1
/// only: hyper-util ignores `http1_only` on upgradable connections, and an HTTP/2 connection has
/// no header timeout, so an idle one held its slot forever.
#[tokio::test]
async fn http2_prior_knowledge_is_refused_on_plain_http() {
    let addr = start(Options::default()).await;
    let (closed, answered) = tokio::task::spawn_blocking(move || {
        let mut h2 = connect(addr, PATIENCE);
        h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            .expect("write");
        let mut h1 = connect(addr, PATIENCE);
        h1.write_all(LIVE.as_bytes()).expect("write");
        (read_until_closed(&mut h2), read_until(&mut h1, LIVE_BODY))
    })
    .await
    .expect("client");
    let closed = closed.expect("the server closes an HTTP/2 connection on plain HTTP");
    assert!(closed.is_empty(), "no HTTP/2 frames are sent: {closed:?}");
    answered.expect("HTTP/1 is still served");
}
