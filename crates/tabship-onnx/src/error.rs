//! The crate's one error type.

/// Why a pipeline could not be exported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A part of the pipeline has no exact ONNX form; nothing is approximated instead.
    #[error("cannot export {part} to ONNX: {reason}")]
    Unsupported {
        /// The part, as a path into the artifact (`model.trees[3].nodes[12]`, `encoders[2]`).
        part: String,
        /// Why ONNX cannot express it, and what would.
        reason: String,
    },
    /// The graph would exceed the 2 GiB limit of a protobuf message.
    #[error("the ONNX graph would be {bytes} bytes, above protobuf's limit of 2 GiB")]
    TooLarge {
        /// The encoded size.
        bytes: usize,
    },
}

impl Error {
    pub(crate) fn unsupported(part: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Unsupported {
            part: part.into(),
            reason: reason.into(),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
