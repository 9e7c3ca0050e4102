//! A `tabship serve` (or `tabship demo`) child on a free loopback port: started, asked, signalled
//! and always ended, even by a test that fails mid-way.

use std::io::{BufReader, Lines};
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};

use crate::http::{exchange, request, wait_ready};
use crate::{ServerLog, wait_exit};

/// A server child with JSON logs on a free loopback port.
pub struct Served {
    /// The process; ended by `Drop` unless a test ended it first.
    pub child: Child,
    /// Its stderr, every line kept.
    pub log: ServerLog,
    /// The address it logged in `listening`.
    pub addr: String,
}

impl Served {
    /// Spawns `command` (the binary and its arguments) with `--port 0 --json-logs`; returned
    /// once it has logged `listening`, before its models are necessarily loaded.
    pub fn listen(command: Command) -> Self {
        let mut child = spawn_json_logs(command);
        let mut log = ServerLog::read(child.stderr.take().expect("stderr"));
        let addr = log.find("listening")["fields"]["address"]
            .as_str()
            .expect("address")
            .to_owned();
        Self { child, log, addr }
    }

    /// As [`Served::listen`], returned once `/health/ready` answers 200.
    pub fn start(command: Command) -> Self {
        let server = Self::listen(command);
        wait_ready(&server.addr);
        server
    }

    /// `GET path` on a new connection; the raw answer.
    pub fn get(&self, path: &str) -> String {
        self.send("GET", path, &[], b"")
    }

    /// A request with `headers` and `body` on a new connection; the raw answer.
    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> String {
        exchange(&self.addr, &request(method, path, headers, body))
    }

    /// Sends the signal `name` (`-TERM`, `-HUP`) with `kill`.
    pub fn signal(&self, name: &str) {
        signal(&self.child, name);
    }

    /// SIGTERM, then the exit status (within [`crate::PATIENCE`]).
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal("-TERM");
        wait_exit(&mut self.child)
    }

    /// SIGTERM, and fails the test unless the exit is graceful.
    pub fn stop(mut self) {
        let status = self.terminate();
        assert!(status.success(), "graceful exit, got {status}");
    }

    /// `kill -9`, and reaped.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

/// A test that fails mid-way still ends its server (and an ended one is only reaped again).
impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns `command` with `--port 0 --json-logs` and its stderr piped.
pub fn spawn_json_logs(mut command: Command) -> Child {
    command
        .args(["--port", "0", "--json-logs"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("server starts")
}

/// Reads JSON log `lines` up to `listening`; the address it names. The rest stays unread, for a
/// test that must own (and close) the pipe itself.
pub fn listening_address(lines: &mut Lines<BufReader<ChildStderr>>) -> String {
    loop {
        let line = lines.next().expect("a log line").expect("utf-8");
        let event: serde_json::Value = serde_json::from_str(&line).expect("JSON logs");
        if event["fields"]["message"] == "listening" {
            return event["fields"]["address"]
                .as_str()
                .expect("address")
                .to_owned();
        }
    }
}

/// Sends the signal `name` (`-TERM`, `-HUP`) to `child` with `kill`.
pub fn signal(child: &Child, name: &str) {
    let sent = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
}
