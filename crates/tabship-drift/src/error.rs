//! The one error type of the drift crate.

/// Everything that can go wrong in `tabship-drift`: an invalid profile (from a corrupt or hostile
/// file), input that does not fit the profile, or an invalid option.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A profile field is invalid: wrong length, non-finite number, too large.
    #[error("invalid drift profile field `{field}`: {reason}")]
    InvalidProfile {
        /// Dotted path of the field, e.g. `columns[3].edges`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A saved monitor, detector or tracker state (e.g. a pickle) is inconsistent.
    #[error("invalid saved state field `{field}`: {reason}")]
    InvalidState {
        /// Dotted path of the field, e.g. `monitor.blocks[0]`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },

    /// Live input does not fit the profile (column count, kind, row count).
    #[error("live data does not fit the profile: {what}: expected {expected}, got {received}")]
    Mismatch {
        /// What was compared, e.g. `column `age``.
        what: String,
        /// What the profile needs.
        expected: String,
        /// What arrived.
        received: String,
    },

    /// An option is out of range.
    #[error("invalid option `{option}`: {reason}")]
    InvalidOption {
        /// The option's name.
        option: &'static str,
        /// Why it is refused, with the value.
        reason: String,
    },
}

impl Error {
    pub(crate) fn profile(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidProfile {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn state(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidState {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn mismatch(
        what: impl Into<String>,
        expected: impl Into<String>,
        received: impl Into<String>,
    ) -> Self {
        Error::Mismatch {
            what: what.into(),
            expected: expected.into(),
            received: received.into(),
        }
    }
}

/// The drift crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
