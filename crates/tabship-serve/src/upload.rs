//! `multipart/form-data` uploads to the admin API, as `curl -F file=@model.tabship -F version=2`
//! or an HTML form sends them: one file part (named `file`, `model` or `artifact`) and the
//! optional text parts `version`, `activate` and `force`; and the spooling of any artifact body
//! (form or raw) through a temporary file under the upload limit.

use std::path::Path;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use futures_util::{Stream, StreamExt};
use tabship::artifact::MAGIC;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

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

/// The largest text part (`version`, `activate`, `force`).
const TEXT_PART_LIMIT: u64 = 4096;

/// 413 `payload_too_large` for an upload over `limit` bytes.
pub(crate) fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the upload is larger than the limit of {limit} bytes"),
    )
}

/// A body stream that failed (the client went away, a malformed chunked encoding).
pub(crate) fn unreadable() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "bad_request",
        "could not read the request body",
    )
}

/// Reads an artifact body (or a form's file part) of at most `limit` bytes through an unnamed
/// temporary file in `dir` (the state directory; else the system temporary directory, which
/// may be a RAM-backed tmpfs), so a slow upload holds no memory while it arrives; the bytes are
/// read back once complete. The file is unlinked from the start (`O_TMPFILE` on Linux), so an
/// interrupted upload, even by `kill -9`, leaves nothing behind.
pub(crate) async fn spool<S>(chunks: S, limit: usize, dir: Option<&Path>) -> Result<Bytes, ApiError>
where
    S: Stream<Item = Result<Bytes, ApiError>>,
{
    let mut chunks = std::pin::pin!(chunks);
    let limit = u64::try_from(limit).unwrap_or(u64::MAX);
    let dir = dir.map(Path::to_path_buf);
    let file = tokio::task::spawn_blocking(move || match dir {
        Some(dir) => tempfile::tempfile_in(dir),
        None => tempfile::tempfile(),
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    let mut file = tokio::fs::File::from_std(file);
    let mut size: u64 = 0;
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        size = size.saturating_add(chunk.len() as u64);
        if size > limit {
            return Err(too_large(limit));
        }
        file.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    file.rewind().await.map_err(ApiError::internal)?;
    let mut bytes = Vec::new();
    // The magic bytes first: a body that is not an artifact is refused without reading it back.
    (&mut file)
        .take(MAGIC.len() as u64)
        .read_to_end(&mut bytes)
        .await
        .map_err(ApiError::internal)?;
    if !bytes.is_empty() && bytes != MAGIC {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_artifact",
            format!(
                "artifact refused, nothing changed: {}",
                tabship::Error::BadMagic
            ),
        ));
    }
    bytes.reserve(usize::try_from(size).unwrap_or(0));
    file.read_to_end(&mut bytes)
        .await
        .map_err(ApiError::internal)?;
    Ok(Bytes::from(bytes))
}

/// Reads the form of at most `limit` bytes; every part is checked, an unknown or repeated one is
/// an error. The file part is spooled to a temporary file as it arrives (see [`spool`]).
pub(crate) async fn parse(
    body: Body,
    boundary: String,
    limit: usize,
    dir: Option<&Path>,
) -> Result<Upload, ApiError> {
    let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream(limit_u64)
            .for_field("version", TEXT_PART_LIMIT)
            .for_field("activate", TEXT_PART_LIMIT)
            .for_field("force", TEXT_PART_LIMIT),
    );
    let mut form =
        multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    let malformed = |e: multer::Error| match e {
        multer::Error::StreamSizeExceeded { limit } => too_large(limit),
        multer::Error::FieldSizeExceeded { limit, field_name } => ApiError::invalid_field(
            &format!("form part `{}`", field_name.unwrap_or_default()),
            format!("at most {limit} bytes"),
            "more",
        ),
        multer::Error::StreamReadFailed(_) => unreadable(),
        other => ApiError::invalid_field(
            "body",
            "a well-formed multipart/form-data body",
            other.to_string(),
        ),
    };
    let (mut artifact, mut version, mut activate, mut force) = (None, None, None, None);
    while let Some(part) = form.next_field().await.map_err(malformed)? {
        let name = part.name().unwrap_or_default().to_owned();
        let slot_is_taken = match name.as_str() {
            n if FILE_PARTS.contains(&n) => {
                let bytes = spool(part.map(|c| c.map_err(malformed)), limit, dir).await?;
                artifact.replace(bytes).is_some()
            }
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
