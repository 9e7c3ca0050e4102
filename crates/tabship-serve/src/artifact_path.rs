//! Admin load-by-path (`{"path": ...}`): reads an artifact file named by a client without
//! trusting the path. Only a regular file is read: it is opened non-blocking (a FIFO cannot hold
//! a thread), checked with `fstat` on the open handle (no race with a rename), its 8 magic bytes
//! are checked before anything else is read (`/dev/zero` or a log file costs 8 bytes), and it
//! is never read past the upload limit. Every refusal answers the same message, so the API does
//! not tell whether a path exists, is readable, or what it is; the reason goes to the server log.
//! With `Options::load_path_root`, only files under that directory load (symlinks and `..`
//! resolved first).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use axum::http::StatusCode;
use tabship::artifact::MAGIC;

use crate::error::ApiError;

/// The artifact bytes of `path`, at most `limit` bytes; with `root`, only a file under it.
pub(crate) fn read(path: &Path, limit: usize, root: Option<&Path>) -> Result<Vec<u8>, ApiError> {
    let refuse = |reason: &str| {
        tracing::warn!(path = %path.display(), reason, "load by path refused");
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_artifact",
            format!(
                "`{}` cannot be loaded, nothing changed: the server loads only a readable regular file holding a .tabship artifact (the server log has the reason)",
                path.display()
            ),
        )
    };
    if let Some(root) = root {
        // Both sides resolved, so neither `..` nor a symlink inside the root leads out of it.
        let resolved = path.canonicalize().map_err(|e| refuse(&e.to_string()))?;
        let root = root.canonicalize().map_err(|e| {
            refuse(&format!(
                "the load-path root `{}` cannot be resolved: {e}",
                root.display()
            ))
        })?;
        if !resolved.starts_with(&root) {
            return Err(refuse(&format!(
                "resolves to `{}`, outside the load-path root `{}`",
                resolved.display(),
                root.display()
            )));
        }
    }
    let mut file = open_nonblocking(path).map_err(|e| refuse(&e.to_string()))?;
    let meta = file.metadata().map_err(|e| refuse(&e.to_string()))?;
    if !meta.is_file() {
        return Err(refuse("not a regular file"));
    }
    let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
    if meta.len() > limit_u64 {
        return Err(refuse(&format!(
            "{} bytes, over the upload limit of {limit} bytes",
            meta.len()
        )));
    }
    let mut magic = [0u8; MAGIC.len()];
    file.read_exact(&mut magic)
        .map_err(|e| refuse(&format!("cannot read the magic bytes: {e}")))?;
    if magic != MAGIC {
        return Err(refuse("not a tabship artifact (wrong magic bytes)"));
    }
    // The size from fstat sizes the buffer; `take` still bounds a file that grows meanwhile.
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(limit).min(limit));
    bytes.extend_from_slice(&magic);
    file.take(limit_u64.saturating_sub(MAGIC.len() as u64) + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| refuse(&e.to_string()))?;
    if bytes.len() > limit {
        return Err(refuse(&format!(
            "grew past the upload limit of {limit} bytes while read"
        )));
    }
    Ok(bytes)
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK makes opening a FIFO return at once instead of waiting for a writer; it has no
    // effect on reading a regular file, the only kind read further.
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    File::open(path)
}
