//! A minimal HTTP/1.1 client over `std` sockets for tests of a real server on loopback: no
//! client dependency, and every read bounded by [`PATIENCE`] so a hung server fails the test
//! instead of hanging it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use crate::PATIENCE;

/// The request line and headers, `Host: localhost` first and `Content-Length: length` last,
/// without the blank line that ends them.
pub fn head(method: &str, path: &str, headers: &[(&str, &str)], length: usize) -> String {
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {length}\r\n"));
    request
}

/// A whole request that closes its connection: [`head`], `Connection: close`, then `body`.
pub fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut request = head(method, path, headers, body.len());
    request.push_str("Connection: close\r\n\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Sends the raw `request` on a new connection to `addr`; the raw answer, read to the close.
pub fn exchange(addr: &str, request: &[u8]) -> String {
    let mut stream = connect(addr);
    stream.set_write_timeout(Some(PATIENCE)).expect("timeout");
    stream.write_all(request).expect("writes");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("reads");
    String::from_utf8_lossy(&answer).into_owned()
}

/// A loopback connection whose reads give up after [`PATIENCE`].
pub fn connect(addr: &str) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connects");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    stream
}

/// Waits until the server at `addr` answers `GET /health/ready` with 200 (its models loaded);
/// fails the test after [`PATIENCE`].
pub fn wait_ready(addr: &str) {
    let deadline = Instant::now() + PATIENCE;
    let ready = request("GET", "/health/ready", &[], b"");
    while !exchange(addr, &ready).starts_with("HTTP/1.1 200") {
        assert!(
            Instant::now() < deadline,
            "the server is not ready within {PATIENCE:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The JSON body of a raw answer; fails the test, showing the answer, when it is not JSON.
pub fn json_body(answer: &str) -> serde_json::Value {
    let (_, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("JSON body ({e}): {answer}"))
}

/// Reads one response with a `Content-Length` body from a keep-alive connection: (status, body).
pub fn read_response(stream: &mut TcpStream) -> std::io::Result<(u16, String)> {
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("closed after {:?}", String::from_utf8_lossy(&seen)),
            ));
        }
        seen.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&seen).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line: {head}"));
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body)?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}
