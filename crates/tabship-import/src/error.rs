//! The one error type of the import crate.

/// Everything that can go wrong while importing a model: a file that does not parse, or a model
/// that uses something tabship cannot reproduce exactly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A model file that does not parse, with where and what.
    #[error("{source_format} model, {location}: field `{field}`: expected {expected}, got `{got}`")]
    Parse {
        /// The source library's format, e.g. `LightGBM text`.
        source_format: &'static str,
        /// Where in the file: a line, or a tree and its line.
        location: String,
        /// The field (key) being read.
        field: String,
        /// What the field must hold.
        expected: String,
        /// What the file holds (shortened).
        got: String,
    },

    /// A valid model that uses a feature tabship cannot reproduce exactly, so it is refused
    /// rather than approximated.
    #[error(
        "{source_format} model uses {feature}, which tabship cannot reproduce exactly: {detail}"
    )]
    Unsupported {
        /// The source library's format.
        source_format: &'static str,
        /// The feature, e.g. `linear_tree` or `objective poisson`.
        feature: String,
        /// Why, or what would be supported.
        detail: String,
    },

    /// The core refused the assembled pipeline.
    #[error(transparent)]
    Tabship(#[from] tabship::Error),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
