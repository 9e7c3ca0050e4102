//! The one error type of the training crate.

use std::path::PathBuf;

/// Everything that can go wrong while reading data or fitting a pipeline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error of the core crate (bad value, bad batch, artifact I/O).
    #[error(transparent)]
    Core(#[from] tabship::Error),

    /// A training option is invalid.
    #[error("invalid option `{option}`: {reason}")]
    InvalidOption {
        /// The option's name as the CLI spells it.
        option: &'static str,
        /// What is wrong.
        reason: String,
    },

    /// The data cannot be used for training.
    #[error("{0}")]
    Data(String),

    /// The target column cannot be used for the task.
    #[error("target column `{column}`: {reason}")]
    Target {
        /// The target column.
        column: String,
        /// What is wrong.
        reason: String,
    },

    /// A CSV file could not be read.
    #[error("{}: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// What the CSV reader said, with the line.
        message: String,
    },

    /// A model cannot be retrained: tabship did not fit it, or its options are not all
    /// recorded.
    #[error("cannot retrain {model}: {reason}")]
    NotRetrainable {
        /// The model's name and version.
        model: String,
        /// Why, with what to do instead.
        reason: String,
    },

    /// smartcore failed to fit the model.
    #[error("fitting the {model} model failed: {message}")]
    Fit {
        /// The model being fitted.
        model: &'static str,
        /// smartcore's message.
        message: String,
    },
}

/// The training crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
