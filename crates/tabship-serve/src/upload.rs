//! `multipart/form-data` uploads to the admin API, as `curl -F file=@model.tabship -F version=2`
//! or an HTML form sends them: one file part (named `file`, `model` or `artifact`) and the
//! optional text parts `version`, `activate` and `force`.

use axum::body::Bytes;
use axum::http::{HeaderMap, header};

use crate::error::ApiError;

/// The parts of an upload form.
#[derive(Debug)]
pub(crate) struct Upload {
    /// The artifact's bytes.
    pub artifact: Bytes,
    /// The `version` part, if sent.
    pub version: Option<String>,
    /// The `activate` part, if sent.
    pub activate: Option<String>,
    /// The `force` part, if sent.
    pub force: Option<String>,
}

/// The names accepted for the file part.
const FILE_PARTS: [&str; 3] = ["file", "model", "artifact"];

/// The multipart boundary when the request is `multipart/form-data`.
pub(crate) fn boundary(headers: &HeaderMap) -> Option<Result<String, ApiError>> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    if !content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return None;
    }
    Some(multer::parse_boundary(content_type).map_err(|e| {
        ApiError::invalid_field(
            "Content-Type",
            "multipart/form-data with a boundary",
            e.to_string(),
        )
    }))
}

/// Reads the form; every part is checked, an unknown or repeated one is an error.
pub(crate) async fn parse(body: Bytes, boundary: String) -> Result<Upload, ApiError> {
    let stream = futures_util::stream::once(std::future::ready(Ok::<Bytes, std::io::Error>(body)));
    let mut form = multer::Multipart::new(stream, boundary);
    let malformed = |e: multer::Error| {
        ApiError::invalid_field(
            "body",
            "a well-formed multipart/form-data body",
            e.to_string(),
        )
    };
    let (mut artifact, mut version, mut activate, mut force) = (None, None, None, None);
    while let Some(part) = form.next_field().await.map_err(malformed)? {
        let name = part.name().unwrap_or_default().to_owned();
        let slot_is_taken = match name.as_str() {
            n if FILE_PARTS.contains(&n) => artifact
                .replace(part.bytes().await.map_err(malformed)?)
                .is_some(),
            "version" => version
                .replace(part.text().await.map_err(malformed)?)
                .is_some(),
            "activate" => activate
                .replace(part.text().await.map_err(malformed)?)
                .is_some(),
            "force" => force
                .replace(part.text().await.map_err(malformed)?)
                .is_some(),
            _ => {
                return Err(ApiError::invalid_field(
                    &format!("form part `{name}`"),
                    "one of file (or model, artifact), version, activate, force",
                    "an unknown part",
                ));
            }
        };
        if slot_is_taken {
            return Err(ApiError::invalid_field(
                &format!("form part `{name}`"),
                "at most one",
                "two or more",
            ));
        }
    }
    match artifact {
        Some(artifact) if !artifact.is_empty() => Ok(Upload {
            artifact,
            version,
            activate,
            force,
        }),
        Some(_) => Err(ApiError::invalid_field(
            "form part `file`",
            "the artifact's bytes",
            "an empty file",
        )),
        None => Err(ApiError::invalid_field(
            "form part `file`",
            "the artifact (curl -F file=@model.tabship)",
            "nothing",
        )),
    }
}
