//! Writing files safely: the one function behind every file tabship writes (artifacts, CSV and
//! HTML outputs, the server's state, uploads and keys).
//!
//! A write goes to a temporary file in the target's own directory, is flushed to disk, renamed over
//! the target and the directory is flushed too, so a reader sees the old file or the new one,
//! never half of one. Renaming blindly would replace whatever the path names, so the target is
//! checked first:
//! - a symlink is followed (to any depth) and the file it points to is replaced; the link stays,
//!   as `echo > link` would leave it;
//! - a directory, FIFO, socket, character or block device (`/dev/null`) is refused with
//!   [`Error::NotARegularFile`]: replacing it would destroy it;
//! - an existing regular file keeps its permission bits; a new file gets the caller's mode (less
//!   the umask).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Permissions of a new file that others may read (artifacts, reports): `rw-r--r--`.
pub const PUBLIC_MODE: u32 = 0o644;
/// Permissions of a new file only its owner may read (server state, uploads, keys): `rw-------`.
pub const PRIVATE_MODE: u32 = 0o600;

/// Symlinks followed before giving up, as Linux's `MAXSYMLINKS`.
const MAX_LINKS: usize = 40;

/// Writes `bytes` to `path` atomically (see the [module docs](self)). `new_mode` is used when the
/// file does not exist yet (on Unix; ignored elsewhere).
pub fn write_atomic(path: &Path, bytes: &[u8], new_mode: u32) -> Result<()> {
    let mut file = AtomicFile::create(path, new_mode)?;
    file.write_all(bytes).map_err(|e| Error::io(path, e))?;
    file.commit()
}

/// A file being written: it replaces its target only on [`commit`](AtomicFile::commit), and
/// vanishes if dropped before.
#[derive(Debug)]
pub struct AtomicFile {
    tmp: tempfile::NamedTempFile,
    /// The file replaced on commit (symlinks resolved).
    target: PathBuf,
    /// The path as given, for error messages.
    path: PathBuf,
}

impl AtomicFile {
    /// Checks that `path` may be replaced and opens a temporary file beside the file it names.
    /// `new_mode` applies if the file does not exist yet.
    pub fn create(path: &Path, new_mode: u32) -> Result<AtomicFile> {
        let (target, existing) = resolve(path)?;
        let dir = parent_dir(&target);
        let mut builder = tempfile::Builder::new();
        builder.prefix(".tabship-").suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(new_mode));
        }
        #[cfg(not(unix))]
        let _ = new_mode;
        let tmp = builder.tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
        if let Some(permissions) = existing {
            // Set explicitly: the mode given at creation is reduced by the umask, and an
            // existing file's mode was chosen by its owner.
            std::fs::set_permissions(tmp.path(), permissions).map_err(|e| Error::io(path, e))?;
        }
        Ok(AtomicFile {
            tmp,
            target,
            path: path.to_path_buf(),
        })
    }

    /// The file that [`commit`](AtomicFile::commit) replaces: the given path with its symlinks
    /// resolved.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes the data to disk, renames it over the target, and flushes the directory so that
    /// the rename itself survives a crash.
    pub fn commit(mut self) -> Result<()> {
        let path = self.path;
        self.tmp.flush().map_err(|e| Error::io(&path, e))?;
        self.tmp
            .as_file()
            .sync_all()
            .map_err(|e| Error::io(&path, e))?;
        self.tmp
            .persist(&self.target)
            .map_err(|e| Error::io(&path, e.error))?;
        sync_dir(parent_dir(&self.target))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tmp.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.tmp.flush()
    }
}

/// The regular file `path` names, following symlinks, with its permissions if it exists.
fn resolve(path: &Path) -> Result<(PathBuf, Option<std::fs::Permissions>)> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        let meta = match std::fs::symlink_metadata(&current) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((current, None)),
            Err(e) => return Err(Error::io(path, e)),
        };
        let kind = meta.file_type();
        if kind.is_symlink() {
            let link = std::fs::read_link(&current).map_err(|e| Error::io(&current, e))?;
            // A relative link is relative to the directory holding the link.
            current = parent_dir(&current).join(link);
        } else if kind.is_file() {
            return Ok((current, Some(meta.permissions())));
        } else {
            return Err(Error::NotARegularFile {
                path: path.to_path_buf(),
                kind: describe(&kind),
            });
        }
    }
    Err(Error::io(
        path,
        std::io::Error::other(format!("more than {MAX_LINKS} levels of symbolic links")),
    ))
}

/// What a non-regular file is, for the error message.
fn describe(kind: &std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Makes a rename durable: on Unix a directory's entries reach the disk only when it is synced.
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    }

    fn mkfifo(path: &Path) {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .expect("mkfifo runs");
        assert!(status.success());
    }

    #[test]
    fn writes_a_new_file_and_replaces_an_old_one_keeping_its_mode() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a.txt");
        write_atomic(&path, b"one", PRIVATE_MODE).expect("write");
        assert_eq!(std::fs::read(&path).expect("read"), b"one");
        assert_eq!(mode(&path), 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        write_atomic(&path, b"two", PUBLIC_MODE).expect("write");
        assert_eq!(std::fs::read(&path).expect("read"), b"two");
        assert_eq!(mode(&path), 0o640, "an existing file keeps its mode");
        let names: Vec<_> = std::fs::read_dir(dir.path()).expect("list").collect();
        assert_eq!(names.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn writes_through_a_symlink_and_keeps_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let real_dir = dir.path().join("versions");
        std::fs::create_dir(&real_dir).expect("mkdir");
        let v3 = real_dir.join("v3.tabship");
        std::fs::write(&v3, b"old").expect("write");
        // A relative link in another directory, through a second link.
        let current = dir.path().join("current.tabship");
        std::os::unix::fs::symlink("versions/v3.tabship", &current).expect("symlink");
        let alias = dir.path().join("alias.tabship");
        std::os::unix::fs::symlink(&current, &alias).expect("symlink");

        write_atomic(&alias, b"new", PUBLIC_MODE).expect("write");
        assert_eq!(std::fs::read(&v3).expect("read"), b"new");
        assert!(
            std::fs::symlink_metadata(&current)
                .expect("meta")
                .file_type()
                .is_symlink()
        );
        assert!(
            std::fs::symlink_metadata(&alias)
                .expect("meta")
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            std::fs::read_link(&current).expect("link"),
            Path::new("versions/v3.tabship")
        );
    }

    #[test]
    fn a_dangling_symlink_creates_its_target() {
        let dir = tempfile::tempdir().expect("temp dir");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("target.txt", &link).expect("symlink");
        write_atomic(&link, b"x", PUBLIC_MODE).expect("write");
        assert_eq!(
            std::fs::read(dir.path().join("target.txt")).expect("read"),
            b"x"
        );
        assert!(
            std::fs::symlink_metadata(&link)
                .expect("meta")
                .file_type()
                .is_symlink()
        );
    }

    #[test]
    fn refuses_a_fifo_a_directory_and_a_symlink_to_a_fifo() {
        let dir = tempfile::tempdir().expect("temp dir");
        let fifo = dir.path().join("pipe");
        mkfifo(&fifo);
        let err = write_atomic(&fifo, b"x", PUBLIC_MODE).expect_err("a FIFO is refused");
        assert!(
            err.to_string().contains("named pipe") && err.to_string().contains("pipe`"),
            "{err}"
        );
        assert!(
            std::fs::symlink_metadata(&fifo)
                .expect("meta")
                .file_type()
                .is_fifo()
        );

        let link = dir.path().join("to-pipe");
        std::os::unix::fs::symlink(&fifo, &link).expect("symlink");
        let err = write_atomic(&link, b"x", PUBLIC_MODE).expect_err("refused through a link");
        assert!(matches!(err, Error::NotARegularFile { .. }), "{err}");

        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).expect("mkdir");
        let err = write_atomic(&sub, b"x", PUBLIC_MODE).expect_err("a directory is refused");
        assert!(err.to_string().contains("a directory"), "{err}");
        assert!(sub.is_dir());
        let names: Vec<_> = std::fs::read_dir(dir.path()).expect("list").collect();
        assert_eq!(names.len(), 3, "no temporary file left behind");
    }

    #[test]
    fn refuses_dev_null_which_stays_a_device() {
        let dev_null = Path::new("/dev/null");
        let err = write_atomic(dev_null, b"x", PUBLIC_MODE).expect_err("a device is refused");
        assert!(err.to_string().contains("character device"), "{err}");
        assert!(
            std::fs::symlink_metadata(dev_null)
                .expect("meta")
                .file_type()
                .is_char_device()
        );
    }

    #[test]
    fn a_symlink_loop_is_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::os::unix::fs::symlink(&b, &a).expect("symlink");
        std::os::unix::fs::symlink(&a, &b).expect("symlink");
        let err = write_atomic(&a, b"x", PUBLIC_MODE).expect_err("a loop");
        assert!(err.to_string().contains("symbolic links"), "{err}");
    }
}
