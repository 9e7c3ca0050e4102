//! A real `tabship serve` child on 127.0.0.1 and a minimal HTTP/1.1 client over `std` sockets,
//! for the resource and fault tests (memory read from `/proc/<pid>/status`, so Linux only).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::Duration;

pub use tabship_test_support::PATIENCE;

/// A `tabship serve` child with JSON logs on a free loopback port, ready to answer.
pub struct Server {
    pub child: Child,
    pub addr: String,
}

impl Server {
    /// `tabship serve ARGS --port 0 --json-logs`, returned once `/health/ready` answers 200.
    pub fn start(args: &[&str]) -> Self {
        Self::start_with(Command::new(env!("CARGO_BIN_EXE_tabship")), args)
    }

    /// As [`Server::start`] with the open-file limit (`ulimit -n`) at `nofile`.
    pub fn start_with_nofile(nofile: u32, args: &[&str]) -> Self {
        let mut shell = Command::new("sh");
        shell
            .arg("-c")
            .arg(format!("ulimit -n {nofile} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_tabship"));
        Self::start_with(shell, args)
    }

    fn start_with(mut command: Command, args: &[&str]) -> Self {
        let mut child = command
            .arg("serve")
            .args(args)
            .args(["--port", "0", "--json-logs"])
            .stderr(Stdio::piped())
            .spawn()
            .expect("server starts");
        let stderr = child.stderr.take().expect("stderr");
        let addr = listening(stderr);
        let server = Self { child, addr };
        let ready = (0..500).any(|_| {
            let answer = server.get("/health/ready");
            answer.starts_with("HTTP/1.1 200") || {
                std::thread::sleep(Duration::from_millis(20));
                false
            }
        });
        assert!(ready, "the server becomes ready");
        server
    }

    /// `GET path` on a new connection; the raw answer.
    pub fn get(&self, path: &str) -> String {
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        once(&self.addr, request.as_bytes())
    }

    /// A request with a body on a new connection; the raw answer.
    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> String {
        let mut request = head(method, path, headers, body.len());
        request.push_str("Connection: close\r\n\r\n");
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(body);
        once(&self.addr, &bytes)
    }

    /// (VmRSS, VmHWM) of the server in KiB.
    pub fn memory_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} in {status}"))
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// SIGTERM, then a graceful exit.
    pub fn stop(mut self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        let status = self.child.wait().expect("exits");
        assert!(status.success(), "graceful exit, got {status}");
    }

    /// `kill -9`, and reaped.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

/// A test that fails mid-way still ends its server (and a stopped one is only reaped again).
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads the JSON log lines until `listening`, returns the address, and drains the rest on a
/// thread so the pipe never fills.
fn listening(stderr: ChildStderr) -> String {
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines.next().expect("a log line").expect("utf-8");
        let json: serde_json::Value = serde_json::from_str(&line).expect("JSON logs");
        if json["fields"]["message"] == "listening" {
            break json["fields"]["address"]
                .as_str()
                .expect("address")
                .to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    addr
}

/// The request line and headers (without the blank line that ends them).
pub fn head(method: &str, path: &str, headers: &[(&str, &str)], length: usize) -> String {
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {length}\r\n"));
    request
}

fn once(addr: &str, request: &[u8]) -> String {
    let mut stream = connect(addr);
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
