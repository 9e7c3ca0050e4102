//! The JSONL prediction log: one line per prediction (inputs, outputs, model version, request id,
//! latency), written by a background thread so requests never wait on the disk, and rotated by size
//! (`log.jsonl` → `log.jsonl.1` → ... → `log.jsonl.<keep>`).

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

use crate::error::{Error, Result};

/// Lines buffered between requests and the writer; beyond it lines are dropped and counted.
const QUEUE: usize = 65_536;

/// Where and how to log predictions.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// The active log file.
    pub path: PathBuf,
    /// Rotate once the file reaches this many bytes.
    pub max_bytes: u64,
    /// Rotated files kept.
    pub keep: usize,
}

impl LogConfig {
    /// 100 MiB per file, 5 rotated files.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        LogConfig {
            path: path.into(),
            max_bytes: 100 * 1024 * 1024,
            keep: 5,
        }
    }
}

enum Message {
    Line(String),
    Flush(SyncSender<()>),
}

/// A handle to the log writer.
#[derive(Debug)]
pub struct PredictionLog {
    tx: Mutex<SyncSender<Message>>,
    dropped: AtomicU64,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Message")
    }
}

impl PredictionLog {
    /// Opens (appends to) the log and starts its writer thread.
    pub fn open(config: LogConfig) -> Result<Self> {
        let file = open_append(&config.path)?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let (tx, rx) = sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("tabship-prediction-log".to_owned())
            .spawn(move || writer(config, BufWriter::new(file), size, rx))
            .map_err(|source| Error::Io {
                what: "starting the prediction log writer".to_owned(),
                source,
            })?;
        Ok(PredictionLog {
            tx: Mutex::new(tx),
            dropped: AtomicU64::new(0),
        })
    }

    fn sender(&self) -> SyncSender<Message> {
        match self.tx.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Queues one JSON line (without its newline). Never blocks: a full queue drops the line.
    pub fn write(&self, line: String) {
        match self.sender().try_send(Message::Line(line)) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Lines dropped because the writer fell behind or failed.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Waits until every queued line is on disk.
    pub fn flush(&self) {
        let (ack_tx, ack_rx) = sync_channel(1);
        if self.sender().send(Message::Flush(ack_tx)).is_ok() {
            let _ = ack_rx.recv_timeout(Duration::from_secs(10));
        }
    }
}

fn open_append(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| Error::Io {
            what: format!("opening the prediction log `{}`", path.display()),
            source,
        })
}

fn rotated(path: &Path, n: usize) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

fn rotate(config: &LogConfig) -> std::io::Result<File> {
    if config.keep == 0 {
        return File::create(&config.path);
    }
    let _ = std::fs::remove_file(rotated(&config.path, config.keep));
    for n in (1..config.keep).rev() {
        let from = rotated(&config.path, n);
        if from.exists() {
            std::fs::rename(&from, rotated(&config.path, n + 1))?;
        }
    }
    std::fs::rename(&config.path, rotated(&config.path, 1))?;
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(&config.path)
}

fn writer(config: LogConfig, mut out: BufWriter<File>, mut size: u64, rx: Receiver<Message>) {
    loop {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(Message::Line(line)) => {
                if size > 0 && size + line.len() as u64 + 1 > config.max_bytes {
                    let _ = out.flush();
                    match rotate(&config) {
                        Ok(file) => {
                            out = BufWriter::new(file);
                            size = 0;
                        }
                        Err(e) => tracing::error!(error = %e, "prediction log rotation failed"),
                    }
                }
                if let Err(e) = out
                    .write_all(line.as_bytes())
                    .and_then(|()| out.write_all(b"\n"))
                {
                    tracing::error!(error = %e, "prediction log write failed");
                }
                size += line.len() as u64 + 1;
            }
            Ok(Message::Flush(ack)) => {
                let _ = out.flush();
                let _ = ack.send(());
            }
            Err(RecvTimeoutError::Timeout) => {
                let _ = out.flush();
            }
            Err(RecvTimeoutError::Disconnected) => {
                let _ = out.flush();
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_land_and_rotate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p.jsonl");
        let log = PredictionLog::open(LogConfig {
            path: path.clone(),
            max_bytes: 100,
            keep: 2,
        })
        .expect("open");
        for i in 0..30 {
            log.write(format!("{{\"i\":{i:04}}}"));
        }
        log.flush();
        let current = std::fs::read_to_string(&path).expect("current");
        let one = std::fs::read_to_string(rotated(&path, 1)).expect("rotated 1");
        assert!(rotated(&path, 2).exists());
        assert!(!rotated(&path, 3).exists());
        assert!(current.len() <= 100 && one.len() <= 100);
        assert!(current.ends_with("{\"i\":0029}\n"), "{current}");
        assert_eq!(log.dropped(), 0);
    }
}
