//! Entry points for the fuzz targets in `fuzz/` (a crate outside the workspace): the parsers of
//! untrusted input that are private to this crate, re-exported as they are (no copies), plus
//! synchronous wrappers where the parser is async. Not a stable API: hidden from the docs.

use std::path::Path;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, header};

pub use crate::input::{JsonRow, ParseOptions, Rows, parse as parse_rows};
pub use tabship::Scores;

/// Scores rows as every predict endpoint does: the core's record path,
/// [`Pipeline::score_records`](tabship::Pipeline::score_records).
pub fn score<R: tabship::Record>(
    pipeline: &tabship::Pipeline,
    rows: &[R],
) -> Result<Scores, (usize, tabship::Error)> {
    pipeline.score_records(rows)
}

use crate::error::ApiError;

/// The server's JSON body parser (`malformed JSON at line L, column C: ...` on error).
pub fn parse_json(bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    crate::predict::parse_json(bytes)
}

/// The V2 body as `/v2/models/{name}/infer` reads it: bare `NaN` tokens outside strings become
/// `null`, then the JSON is parsed.
pub fn parse_v2_json(bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    crate::predict::parse_json(&crate::v2::nan_to_null(bytes))
}

/// The V2 `inputs` tensors turned into a `{"features": [...]}` body for [`parse_rows`], with its
/// number of rows.
pub fn decode_v2_inputs(
    request: &serde_json::Value,
    schema: &tabship::Schema,
) -> Result<(serde_json::Value, usize), ApiError> {
    crate::v2::decode_inputs(request, schema)
}

/// What an upload form held.
#[derive(Debug)]
pub struct UploadForm {
    /// The file part's bytes.
    pub artifact: Bytes,
    /// The `version` part.
    pub version: Option<String>,
    /// The `activate` part.
    pub activate: Option<String>,
    /// The `force` part.
    pub force: Option<String>,
}

/// Reads an admin upload as the server does: `content_type` is the request's header (the
/// boundary comes from it, as in the handler), `chunks` the body as it arrives, `limit` the
/// upload limit, `dir` where the file part is spooled. `None` when the content type is not
/// `multipart/form-data` (the handler then reads a raw artifact body). Runs on a current-thread
/// runtime kept per thread.
pub fn parse_upload(
    content_type: &[u8],
    chunks: Vec<Vec<u8>>,
    limit: usize,
    dir: Option<&Path>,
) -> Option<Result<UploadForm, ApiError>> {
    thread_local! {
        static RUNTIME: Option<tokio::runtime::Runtime> = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok();
    }
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_bytes(content_type).ok()?,
    );
    let boundary = match crate::upload::boundary(&headers)? {
        Ok(b) => b,
        Err(e) => return Some(Err(e)),
    };
    let stream = futures_util::stream::iter(
        chunks
            .into_iter()
            .map(|c| Ok::<_, std::io::Error>(Bytes::from(c))),
    );
    let body = Body::from_stream(stream);
    RUNTIME.with(|runtime| {
        let runtime = runtime.as_ref()?;
        let parsed = runtime.block_on(crate::upload::parse(body, boundary, limit, dir));
        Some(parsed.map(|u| UploadForm {
            artifact: u.artifact,
            version: u.version,
            activate: u.activate,
            force: u.force,
        }))
    })
}

/// `state.json` read as at start-up and written back as after the next admin change, with the
/// problems found (the invalid fields are dropped); `Err` when the file is refused as a whole.
pub fn reread_state(bytes: &[u8]) -> Result<(String, Vec<String>), String> {
    crate::persist::reread(bytes)
}
