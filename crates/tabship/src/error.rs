//! The one error type of the core crate.

use std::path::PathBuf;

/// Everything that can go wrong in the core crate: bad input to prediction, a corrupt or unsupported
/// artifact, or an I/O failure while loading or saving one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A column the pipeline needs is absent from the input.
    #[error("missing column `{column}`: the pipeline needs it as {expected}")]
    MissingColumn {
        /// The column's name in the schema.
        column: String,
        /// What kind of value the column holds (`a number` or `a category`).
        expected: &'static str,
    },

    /// A value could not be used for its column.
    #[error("{}column `{column}`: expected {expected}, got {}", row_prefix(*row), quoted(received))]
    InvalidValue {
        /// The column's name.
        column: String,
        /// What was expected, e.g. `a number` or `a finite number`.
        expected: &'static str,
        /// The value that arrived, as text.
        received: String,
        /// The 1-based row of a batch, when the value came from one.
        row: Option<usize>,
    },

    /// A batch is malformed: columns of unequal length, duplicate names and the like.
    #[error("invalid batch: {0}")]
    InvalidBatch(String),

    /// The operation does not fit the pipeline's task, e.g. probabilities from a regressor.
    #[error("{operation} needs a {needs} pipeline, but this one does {task}")]
    WrongTask {
        /// What was asked for.
        operation: &'static str,
        /// The task the operation needs.
        needs: &'static str,
        /// The pipeline's task.
        task: &'static str,
    },

    /// The file does not start with the tabship magic bytes.
    #[error("not a tabship artifact: the file does not start with the tabship magic bytes")]
    BadMagic,

    /// The artifact's format is newer than (or otherwise unknown to) this library.
    #[error(
        "unsupported artifact format {found_major}.{found_minor}: this library (tabship {library}) reads formats up to {supported_major}.{supported_minor}; upgrade tabship to load it"
    )]
    UnsupportedVersion {
        /// Major format version in the file.
        found_major: u16,
        /// Minor format version in the file.
        found_minor: u16,
        /// Newest major version this library reads.
        supported_major: u16,
        /// Newest minor version this library reads.
        supported_minor: u16,
        /// This library's version.
        library: &'static str,
    },

    /// The artifact ends before its header or body is complete, or has bytes past its end.
    #[error("truncated artifact: {0}")]
    Truncated(String),

    /// The SHA-256 of the body does not match the header.
    #[error("artifact checksum mismatch: header says {expected}, body hashes to {actual}")]
    ChecksumMismatch {
        /// Hex digest stored in the header.
        expected: String,
        /// Hex digest of the body as read.
        actual: String,
    },

    /// The artifact exceeds a size limit of the format.
    #[error("artifact too large: {what} is {size}, the limit is {limit}")]
    TooLarge {
        /// What is too large.
        what: &'static str,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },

    /// The body decoded but a field is invalid (wrong dimensions, non-finite number, ...).
    #[error("invalid artifact field `{field}`: {reason}")]
    InvalidField {
        /// Dotted path of the field.
        field: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The body is not valid MessagePack of the expected shape.
    #[error("invalid artifact body: {0}")]
    Decode(String),

    /// The pipeline could not be encoded (should not happen for a valid pipeline).
    #[error("could not encode the artifact: {0}")]
    Encode(String),

    /// A drift operation on a pipeline whose artifact has no reference profile.
    #[error(
        "this pipeline has no drift profile (artifacts before format 1.2 have none): retrain it with tabship {} or newer to store one",
        crate::VERSION
    )]
    NoDriftProfile,

    /// Two pipelines cannot be compared on the same rows (`tabship compare`): they differ in
    /// task, target, classes, feature columns or missing-value texts.
    #[error(
        "the models cannot be compared on the same rows: their {what} differ: champion `{champion}`, challenger `{challenger}`"
    )]
    Incomparable {
        /// What differs, e.g. `target`.
        what: &'static str,
        /// The champion's side.
        champion: String,
        /// The challenger's side.
        challenger: String,
    },

    /// A drift computation refused its input or options.
    #[error("drift: {0}")]
    Drift(#[from] tabship_drift::Error),

    /// The artifact file does not exist.
    #[error("artifact not found: {}", path.display())]
    NotFound {
        /// The path that was tried.
        path: PathBuf,
    },

    /// A write would replace something that is not a regular file (a device, a FIFO, a
    /// directory): [`crate::fs`] refuses it rather than destroy it.
    #[error(
        "refusing to write `{}`: it is {kind}, not a regular file; give the path of a regular file",
        path.display()
    )]
    NotARegularFile {
        /// The path given.
        path: PathBuf,
        /// What it is, e.g. `a directory` or `a character device`.
        kind: &'static str,
    },

    /// Another I/O error while reading or writing `path`.
    #[error("i/o error on {}: {source}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

fn row_prefix(row: Option<usize>) -> String {
    match row {
        Some(row) => format!("row {row}, "),
        None => String::new(),
    }
}

impl Error {
    /// The schema column `spec` is absent from the input.
    pub(crate) fn missing(spec: &crate::schema::ColumnSpec) -> Self {
        Error::MissingColumn {
            column: spec.name.clone(),
            expected: spec.kind.expected(),
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            Error::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    }

    pub(crate) fn field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidField {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// An infinite value in numeric `column`: refused by prediction and training alike.
    pub fn non_finite(column: &str, received: impl ToString) -> Self {
        Error::InvalidValue {
            column: column.to_owned(),
            expected: "a finite number (infinity is not accepted)",
            received: received.to_string(),
            row: None,
        }
    }

    /// Attaches the row of 0-based index `row_index` (named 1-based) to a value error that
    /// has none yet; any other error, or one that names its row already, is unchanged.
    pub fn at_row(self, row_index: usize) -> Self {
        self.map_row(|row| row.or(Some(row_index + 1)))
    }

    /// Renumbers the 1-based row a value error names: `f` gets the row it has (None when the
    /// value came alone) and returns the one to name, e.g. a row of the whole file for a row
    /// of one chunk of it. The one place rows of value errors are renumbered; other errors
    /// are unchanged.
    pub fn map_row(self, f: impl FnOnce(Option<usize>) -> Option<usize>) -> Self {
        match self {
            Error::InvalidValue {
                column,
                expected,
                received,
                row,
            } => Error::InvalidValue {
                column,
                expected,
                received,
                row: f(row),
            },
            other => other,
        }
    }
}

/// The core crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Longest part of a received value that an error message repeats, in characters.
pub(crate) const MAX_ECHOED_CHARS: usize = 80;

/// `text` in backticks as an error message repeats it: whole when short, else its first
/// [`MAX_ECHOED_CHARS`] characters and how long it was, so that a one-line error stays short
/// whatever arrived (the full value stays in the error's field).
pub fn quoted(text: &str) -> String {
    match text.char_indices().nth(MAX_ECHOED_CHARS) {
        Some((i, _)) => format!("`{}…` ({} characters)", &text[..i], text.chars().count()),
        None => format!("`{text}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_bad_value_is_cut_in_the_message_and_kept_in_the_field() {
        let huge = "x".repeat(10 << 20);
        let e = Error::InvalidValue {
            column: "age".to_owned(),
            expected: "a number",
            received: huge.clone(),
            row: Some(3),
        };
        let message = e.to_string();
        assert!(message.len() < 200, "{} bytes", message.len());
        assert!(
            message.ends_with(&format!("…` ({} characters)", huge.len())),
            "{message}"
        );
        assert!(matches!(e, Error::InvalidValue { received, .. } if received == huge));
    }

    #[test]
    fn rows_are_attached_once_and_renumbered_in_one_place() {
        let bad = || Error::non_finite("age", "inf");
        let row = |e: Error| match e {
            Error::InvalidValue { row, .. } => row,
            _ => None,
        };
        assert_eq!(row(bad().at_row(4)), Some(5), "0-based index, 1-based row");
        assert_eq!(row(bad().at_row(4).at_row(9)), Some(5), "a row is kept");
        assert_eq!(
            row(bad().at_row(4).map_row(|r| r.map(|r| r + 100))),
            Some(105)
        );
        assert!(matches!(
            Error::NoDriftProfile.at_row(3).map_row(|_| Some(1)),
            Error::NoDriftProfile
        ));
    }

    #[test]
    fn short_values_are_quoted_whole() {
        assert_eq!(quoted("forty"), "`forty`");
        let exactly = "é".repeat(MAX_ECHOED_CHARS);
        assert_eq!(quoted(&exactly), format!("`{exactly}`"));
    }
}
