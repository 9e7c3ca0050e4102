//! Reading a model file from disk, bounded: both importers read their files through here.

use std::path::Path;

use crate::{Error, Result};

/// Largest model file read, in bytes (as large as the largest artifact).
pub const MAX_MODEL_BYTES: u64 = 1 << 30;

/// The bytes of the model file at `path` (`format` names it in errors), refused before reading
/// when it is larger than [`MAX_MODEL_BYTES`].
pub(crate) fn read(path: &Path, format: &'static str) -> Result<Vec<u8>> {
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_MODEL_BYTES {
        return Err(Error::Syntax {
            format,
            message: format!("{size} bytes, more than the {MAX_MODEL_BYTES} allowed"),
        });
    }
    std::fs::read(path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file over the limit is refused from its size alone (a sparse file: nothing is read).
    #[test]
    fn a_file_over_the_limit_is_refused_unread() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("huge.json");
        let file = std::fs::File::create(&path).expect("create");
        file.set_len(MAX_MODEL_BYTES + 1).expect("sparse length");
        let err = read(&path, "model file").expect_err("over the limit");
        assert!(
            matches!(
                err,
                Error::Syntax {
                    format: "model file",
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string().contains(&(MAX_MODEL_BYTES + 1).to_string()),
            "{err}"
        );
        file.set_len(3).expect("shrink");
        assert_eq!(read(&path, "model file").expect("small").len(), 3);
    }
}
