//! The one error type of the importers.

/// Why a model could not be imported. Messages name the file's field or the feature, what was
/// expected and what was found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The model file is not the format it claims (not JSON, not UBJSON, cut short).
    #[error("{format}: {message}")]
    Syntax {
        /// `JSON` or `UBJSON`.
        format: &'static str,
        /// What went wrong, and where.
        message: String,
    },
    /// A field of the model file is missing or holds something else than expected.
    #[error("model field `{field}`: expected {expected}, got {got}")]
    Field {
        /// The field's path in the model file, such as `learner.gradient_booster.model.trees[3]`.
        field: String,
        /// What the importer expected.
        expected: String,
        /// What the file holds.
        got: String,
    },
    /// The model uses something tabship cannot reproduce exactly: refused, never approximated.
    #[error("unsupported {feature}: {detail}")]
    Unsupported {
        /// The model feature refused (an objective, a booster, a kind of tree).
        feature: String,
        /// Why, and what is supported.
        detail: String,
    },
    /// The reference data does not fit the model.
    #[error("reference data: {0}")]
    Reference(String),
    /// The assembled pipeline was refused by the core's validation.
    #[error(transparent)]
    Tabship(#[from] tabship::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A [`Error::Field`].
    pub fn field(
        field: impl Into<String>,
        expected: impl Into<String>,
        got: impl Into<String>,
    ) -> Error {
        Error::Field {
            field: field.into(),
            expected: expected.into(),
            got: got.into(),
        }
    }

    /// An [`Error::Unsupported`].
    pub fn unsupported(feature: impl Into<String>, detail: impl Into<String>) -> Error {
        Error::Unsupported {
            feature: feature.into(),
            detail: detail.into(),
        }
    }
}
