//! Writing outputs atomically: to a temporary file beside the target, renamed when complete.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Where a command writes: stdout, or a file that only appears once it is complete.
pub enum Sink {
    Stdout(std::io::Stdout),
    File {
        tmp: tempfile::NamedTempFile,
        path: PathBuf,
    },
}

impl Sink {
    pub fn open(path: Option<&Path>) -> Result<Sink> {
        match path {
            None => Ok(Sink::Stdout(std::io::stdout())),
            Some(path) => {
                let dir = match path.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                };
                let mut builder = tempfile::Builder::new();
                builder.prefix(".tabship-").suffix(".tmp");
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    builder.permissions(std::fs::Permissions::from_mode(0o644));
                }
                let tmp = builder.tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
                Ok(Sink::File {
                    tmp,
                    path: path.to_path_buf(),
                })
            }
        }
    }

    /// Renames the finished file into place.
    pub fn commit(self) -> Result<()> {
        match self {
            Sink::Stdout(mut s) => s.flush().map_err(|e| Error::io("<stdout>", e)),
            Sink::File { tmp, path } => {
                tmp.persist(&path).map_err(|e| Error::io(&path, e.error))?;
                Ok(())
            }
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Stdout(s) => s.write(buf),
            Sink::File { tmp, .. } => tmp.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Stdout(s) => s.flush(),
            Sink::File { tmp, .. } => tmp.flush(),
        }
    }
}
