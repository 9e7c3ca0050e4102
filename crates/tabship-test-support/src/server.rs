//! A `tabship serve` child's log, read without ever blocking the child or the test forever.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStderr, ExitStatus};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// How long a test waits for a server to log a line or to exit before it fails. Generous: a
/// loaded 2-core CI machine is slow, and a passing test never waits this long.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Every line a child writes to stderr. A thread reads the pipe to its end, so the child never
/// blocks on a full pipe, and every line is kept: a line logged before the test asks for it (the
/// state restored before `listening`) is still found.
pub struct ServerLog {
    incoming: Receiver<String>,
    lines: Vec<String>,
    /// Lines before this were matched by an earlier [`ServerLog::wait_for`].
    cursor: usize,
}

impl ServerLog {
    /// Starts reading `stderr`.
    pub fn read(stderr: ChildStderr) -> Self {
        let (sender, incoming) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        ServerLog {
            incoming,
            lines: Vec::new(),
            cursor: 0,
        }
    }

    /// The first line after the last match that satisfies `matches`; it becomes the last match.
    pub fn wait_until(&mut self, what: &str, matches: impl Fn(&str) -> bool) -> String {
        let at = self.position(what, self.cursor, matches);
        self.cursor = at + 1;
        self.lines[at].clone()
    }

    /// The first JSON log line after the last match whose message is `message`; it becomes the
    /// last match.
    pub fn wait_for(&mut self, message: &str) -> serde_json::Value {
        let line = self.wait_until(message, |line| has_message(line, message));
        serde_json::from_str(&line).unwrap_or_default()
    }

    /// The first JSON log line (from the start) whose message is `message`, without moving the
    /// last match: for the address in `listening`, which may come after other lines a test
    /// waits for.
    pub fn find(&mut self, message: &str) -> serde_json::Value {
        let at = self.position(message, 0, |line| has_message(line, message));
        serde_json::from_str(&self.lines[at]).unwrap_or_default()
    }

    /// Every line read so far, one per line.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// Index of the first line from `from` that `matches`, reading more lines as they come.
    fn position(&mut self, what: &str, from: usize, matches: impl Fn(&str) -> bool) -> usize {
        let deadline = Instant::now() + PATIENCE;
        let mut at = from;
        loop {
            while at < self.lines.len() {
                if matches(&self.lines[at]) {
                    return at;
                }
                at += 1;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(left) {
                Ok(line) => self.lines.push(line),
                Err(RecvTimeoutError::Timeout) => panic!(
                    "no log line `{what}` within {PATIENCE:?}; the server logged:\n{}",
                    self.lines.join("\n")
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "the server closed its log without `{what}`; it logged:\n{}",
                    self.lines.join("\n")
                ),
            }
        }
    }
}

fn has_message(line: &str, message: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(line)
        .is_ok_and(|json| json["fields"]["message"] == message)
}

/// Waits for `child` to exit, at most [`PATIENCE`]; kills it and fails the test otherwise.
pub fn wait_exit(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().expect("child status") {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server did not exit within {PATIENCE:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
