//! The CLI's error type and its exit codes.

use std::path::PathBuf;

/// Anything that ends a command: exit code 2 for [`Error::Usage`], 1 for the rest.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// From the core crate.
    #[error(transparent)]
    Core(#[from] tabship::Error),
    /// From training.
    #[error(transparent)]
    Train(#[from] tabship_train::Error),
    /// From the server.
    #[error(transparent)]
    Serve(#[from] tabship_serve::Error),
    /// From an importer.
    #[error(transparent)]
    Import(#[from] tabship_import::Error),
    /// From the ONNX export.
    #[error(transparent)]
    Export(#[from] tabship_onnx::Error),
    /// A row that cannot be predicted, with `--invalid-rows fail`.
    #[error("{source} (--invalid-rows mark or skip goes on past invalid rows)")]
    InvalidRow {
        /// What is wrong with the row.
        #[source]
        source: tabship::Error,
    },
    /// Bad command-line input that clap cannot check.
    #[error("{0}")]
    Usage(String),
    /// A CSV input or output problem.
    #[error("{}: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// What went wrong, with the line when known.
        message: String,
    },
    /// An input file that is not what the command expects (e.g. invalid JSON options).
    #[error("{}: {message}", path.display())]
    Input {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Something that should not happen whatever the input (a bug to report).
    #[error("{0} (a tabship bug: please report it)")]
    Internal(String),
    /// Any other I/O problem.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn csv(path: impl Into<PathBuf>, error: &csv::Error) -> Self {
        match error.kind() {
            // Kept as I/O so that a closed pipe is still recognised.
            csv::ErrorKind::Io(e) => Error::Io {
                path: path.into(),
                source: std::io::Error::new(e.kind(), e.to_string()),
            },
            _ => Error::Csv {
                path: path.into(),
                message: error.to_string(),
            },
        }
    }

    /// The process exit code: 2 for a usage error, 1 for any other.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            _ => 1,
        }
    }

    /// Whether the error is stdout's reader going away (`tabship predict ... | head`): not a
    /// failure of the command, so `main` exits quietly.
    pub(crate) fn is_broken_pipe(&self) -> bool {
        let io = match self {
            Error::Io { source, .. } => Some(source),
            Error::Core(tabship::Error::Io { source, .. }) => Some(source),
            _ => None,
        };
        io.is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

/// The CLI's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
