//! The serve crate's error type (start-up, loading, keys) and the JSON error answers of the API.

use std::path::PathBuf;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Everything that can stop the server from starting or a model from loading.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An artifact could not be read or is invalid.
    #[error("cannot load `{}`: {source}", path.display())]
    Load {
        /// The artifact's path (or `upload` for an uploaded one).
        path: PathBuf,
        /// What the core reported.
        #[source]
        source: tabship::Error,
    },
    /// Two artifacts claim the same model name and version.
    #[error("model `{name}` version `{version}` is already loaded")]
    DuplicateVersion {
        /// The model's name.
        name: String,
        /// The version both claim.
        version: String,
    },
    /// A watched model directory holds a version already loaded, with other bytes.
    #[error(
        "`{path}` is model `{name}` version `{version}`, already loaded with checksum `{}` but now `{}`: a version is never replaced in place; write the new artifact as a new version (NAME/VERSION.tabship) and point NAME/CURRENT at it",
        checksums.0,
        checksums.1
    )]
    ChangedVersion {
        /// The model's name.
        name: String,
        /// The version.
        version: String,
        /// The file.
        path: String,
        /// The checksum being served and the file's.
        checksums: Box<(String, String)>,
    },
    /// Two artifacts given at start-up have the same model name and version.
    #[error(
        "`{}` and `{}` are both model `{name}` version `{version}`: serve one under another name with NAME=FILE (e.g. `{name}-2={}`), or train it with another `--name` or `--model-version`",
        first.display(),
        second.display(),
        second.display()
    )]
    DuplicateArtifact {
        /// The model name both have.
        name: String,
        /// The version both have.
        version: String,
        /// The file loaded first.
        first: PathBuf,
        /// The file that clashes with it.
        second: PathBuf,
    },
    /// Two artifacts given at start-up would serve one model but its clients could not use both.
    #[error(
        "model `{name}`: version `{version}` (`{path}`) is not compatible with version `{serving}`: {differences}; give the artifacts different names (`tabship train --name`), serve them from separate servers, or remove one"
    )]
    IncompatibleVersions {
        /// The model's name.
        name: String,
        /// The version loaded first.
        serving: String,
        /// The version refused.
        version: String,
        /// The refused version's file.
        path: String,
        /// What differs.
        differences: String,
    },
    /// A name or version is not usable in a URL path.
    #[error("invalid {what} `{value}`: use letters, digits, `.`, `_` and `-` (at most 64)")]
    InvalidName {
        /// `model name`, `version` or `alias`.
        what: &'static str,
        /// The value given.
        value: String,
    },
    /// A route configured for a platform (Azure ML, Vertex AI) cannot be served.
    #[error("{what} `{path}`: {message}")]
    Route {
        /// Which route (`the scoring route`, ...).
        what: &'static str,
        /// The path given.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// A server option is unusable; the message names the option, what was expected and what
    /// arrived.
    #[error("{0}")]
    Config(String),
    /// No artifact was given or found.
    #[error("no models to serve: {0}")]
    NoModels(String),
    /// The keys file is unreadable or malformed.
    #[error("keys file `{}`: {message}", path.display())]
    Keys {
        /// The keys file.
        path: PathBuf,
        /// What is wrong, with the offending value.
        message: String,
    },
    /// Serving on a non-loopback address without authentication was not explicitly allowed.
    #[error(
        "refusing to listen on `{host}` without a keys file: anyone who reaches it could use the models; pass --keys keys.toml, listen on 127.0.0.1, or add --insecure-no-auth"
    )]
    Insecure {
        /// The address asked for.
        host: String,
    },
    /// A file could not be written (state, an uploaded version, the keys file): an I/O error, or
    /// a target that is not a regular file.
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the core's safe write reported.
        #[source]
        source: tabship::Error,
    },
    /// Prediction logs or label files that cannot be read or joined (no file matches a
    /// pattern, a label file without its columns).
    #[error("{0}")]
    Logs(String),
    /// Any other I/O failure (binding the port, the prediction log, a model directory).
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// The serve crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One offending field of a request.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FieldError {
    /// The field's name (a column, or a JSON key such as `instances`).
    pub field: String,
    /// What was expected.
    pub expected: String,
    /// What arrived (`nothing` when absent).
    pub received: String,
    /// The row of a batch counted from 1 (as the CLI and Python count rows), when the field came
    /// from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    /// The same row's 0-based position in the request's list (`instances[index]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
}

impl FieldError {
    /// A field error, at the 0-based position `index` of a batch when given.
    pub fn new(
        field: impl Into<String>,
        expected: impl Into<String>,
        received: impl Into<String>,
        index: Option<usize>,
    ) -> Self {
        FieldError {
            field: field.into(),
            expected: expected.into(),
            received: received.into(),
            row: index.map(|i| i + 1),
            index,
        }
    }
}

/// An error answer: `{"error": {"code", "message", "fields": [...]}}` with a status code.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// A stable machine-readable code (`invalid_input`, `model_not_found`, ...).
    pub code: &'static str,
    /// A human-readable, lowercase message.
    pub message: String,
    /// The offending fields, if any.
    pub fields: Vec<FieldError>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    fields: &'a [FieldError],
}

impl ApiError {
    /// An error with no field details.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// 400 `invalid_input` listing the offending fields.
    pub fn invalid_fields(fields: Vec<FieldError>) -> Self {
        let total = fields.len();
        Self::invalid_fields_of(fields, total)
    }

    /// 400 `invalid_input` listing `fields`, the first of `total` offending fields (the list is
    /// capped; the message says so and gives the true count).
    pub fn invalid_fields_of(fields: Vec<FieldError>, total: usize) -> Self {
        let message = match fields.as_slice() {
            [one] if total == 1 => {
                let at = one.row.map(|r| format!("row {r}, ")).unwrap_or_default();
                format!(
                    "{at}field `{}`: expected {}, got {}",
                    one.field, one.expected, one.received
                )
            }
            listed if listed.len() < total => format!(
                "{total} fields are invalid; the first {} are listed (rows count from 1)",
                listed.len()
            ),
            _ if fields.iter().any(|f| f.row.is_some()) => {
                format!("{total} fields are invalid (rows count from 1)")
            }
            _ => format!("{total} fields are invalid"),
        };
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_input",
            message,
            fields,
        }
    }

    /// 400 `invalid_input` for one field: what was expected and what arrived.
    pub fn invalid_field(
        field: &str,
        expected: impl Into<String>,
        received: impl Into<String>,
    ) -> Self {
        Self::invalid_fields(vec![FieldError::new(field, expected, received, None)])
    }

    /// 400 `invalid_json`.
    pub fn bad_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_json", message)
    }

    /// 404 `not_found` for an unknown route.
    pub fn route_not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no route `{path}`; see /docs for the endpoints"),
        )
    }

    /// 404 `model_not_found`.
    pub fn model_not_found(name: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "model_not_found",
            format!("no model `{name}`; GET /models lists them"),
        )
    }

    /// 404 `version_not_found`.
    pub fn version_not_found(name: &str, version: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "version_not_found",
            format!("model `{name}` has no version or alias `{version}`"),
        )
    }

    /// 500 without internals (the cause goes to the log only).
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the server log has the details",
        )
    }

    /// Maps a core prediction error to 400 (bad input) or 500 (anything else); `row` is the
    /// 0-based position in the request's list.
    pub fn from_prediction(error: tabship::Error, row: Option<usize>) -> Self {
        match error {
            tabship::Error::InvalidValue {
                column,
                expected,
                received,
                row: core_row,
            } => Self::invalid_fields(vec![FieldError::new(
                column,
                expected,
                format!("`{received}`"),
                row.or(core_row.map(|r| r.saturating_sub(1))),
            )]),
            tabship::Error::MissingColumn { column, expected } => {
                Self::invalid_fields(vec![FieldError::new(column, expected, "nothing", row)])
            }
            other => Self::internal(other),
        }
    }

    /// The JSON body bytes.
    pub fn body(&self) -> String {
        serde_json::to_string(&Body {
            error: Inner {
                code: self.code,
                message: &self.message,
                fields: &self.fields,
            },
        })
        .unwrap_or_else(|_| {
            r#"{"error":{"code":"internal","message":"internal error","fields":[]}}"#.to_owned()
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            self.body(),
        )
            .into_response();
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            // The only 429 is a full upload slot: those free up as soon as a load ends.
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tabship\""),
            );
        }
        response
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

/// Checks a model name, version or alias: it becomes a URL path segment and a metric label.
pub(crate) fn check_name(what: &'static str, value: &str) -> Result<()> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidName {
            what,
            value: value.to_owned(),
        })
    }
}
