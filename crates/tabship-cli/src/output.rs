//! Where commands write: stdout, or a file written with [`tabship::fs`] (atomically, through
//! symlinks, never over a device, FIFO or directory).

use std::io::Write;
use std::path::{Path, PathBuf};

use tabship::fs::AtomicFile;

use crate::error::{Error, Result};

/// The name of stdout in messages, and `-o -`.
pub const STDOUT: &str = "<stdout>";

/// `-o -` (and an absent `-o` where stdout is the default) means stdout.
pub fn is_stdout(path: Option<&Path>) -> bool {
    path.is_none_or(|p| p == Path::new("-"))
}

/// How a path is named in messages: `<stdout>` for `-`.
pub fn display_name(path: Option<&Path>) -> PathBuf {
    match path {
        Some(p) if !is_stdout(Some(p)) => p.to_path_buf(),
        _ => PathBuf::from(STDOUT),
    }
}

/// Where a command writes: stdout, or a file that only appears once it is complete.
pub enum Sink {
    Stdout(std::io::Stdout),
    File(AtomicFile),
}

impl Sink {
    /// Stdout for `None` or `-`, else a new file at `path` (checked before anything is computed).
    pub fn open(path: Option<&Path>) -> Result<Sink> {
        match path {
            Some(path) if !is_stdout(Some(path)) => Ok(Sink::File(AtomicFile::create(
                path,
                tabship::fs::PUBLIC_MODE,
            )?)),
            _ => Ok(Sink::Stdout(std::io::stdout())),
        }
    }

    /// Renames the finished file into place (or flushes stdout).
    pub fn commit(self) -> Result<()> {
        match self {
            Sink::Stdout(mut s) => s.flush().map_err(|e| Error::io(STDOUT, e)),
            Sink::File(file) => Ok(file.commit()?),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Stdout(s) => s.write(buf),
            Sink::File(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Stdout(s) => s.flush(),
            Sink::File(f) => f.flush(),
        }
    }
}

/// Writes `bytes` to `path` (`-` for stdout) in one go.
pub fn write_all(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut sink = Sink::open(Some(path))?;
    sink.write_all(bytes)
        .map_err(|e| Error::io(display_name(Some(path)), e))?;
    sink.commit()
}

/// Prints `text` on stdout, turning a closed pipe into an error `main` ends quietly on (where
/// `println!` would panic).
pub fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::io(STDOUT, e))
}
