//! Browser-facing defences that run before any handler: the allowed `Host` names (DNS
//! rebinding), same-origin state-changing requests (cross-site request forgery) and the content
//! types admin routes accept. Without keys (the loopback default, `tabship demo`) these are what
//! stops a web page the operator visits from uploading or activating a model.

use std::sync::Arc;

use axum::body::HttpBody;
use axum::extract::{Request, State};
use axum::http::uri::Authority;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::server::is_loopback;
use crate::state::AppState;

/// Content types a state-changing admin request may carry. Unlike `text/plain` and
/// `application/x-www-form-urlencoded`, JSON and octet-stream cannot be sent cross-site by a
/// plain form or a "simple" `fetch` without a CORS preflight, which this server never grants.
/// `multipart/form-data` is the documented `curl -F` upload; its cross-site use is refused by the
/// `Origin` check.
const ADMIN_CONTENT_TYPES: [&str; 3] = [
    "application/json",
    "application/octet-stream",
    "multipart/form-data",
];

/// The middleware: answers 421 `host_not_allowed`, 403 `cross_origin` or 415
/// `unsupported_media_type` before the request reaches a handler (and before its body is read).
pub(crate) async fn guard(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    match check(&state, &req) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

fn check(state: &AppState, req: &Request) -> Result<(), ApiError> {
    let host = request_host(req.uri(), req.headers());
    if let Some(allowed) = &state.options.allowed_hosts {
        check_host(host.as_deref(), allowed)?;
    }
    if is_state_changing(req.method()) {
        check_origin(req.headers(), host.as_deref())?;
        if req.uri().path().starts_with("/admin/") {
            check_admin_content_type(req)?;
        }
    }
    Ok(())
}

/// GET, HEAD and OPTIONS change nothing here; everything else may.
fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The authority the client addressed: the request target's (HTTP/2 `:authority`, absolute
/// form), else the `Host` header.
fn request_host(uri: &Uri, headers: &HeaderMap) -> Option<String> {
    uri.authority().map(|a| a.as_str().to_owned()).or_else(|| {
        headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    })
}

/// A request without any host (HTTP/1.0) is let through: browsers always send one, so a DNS
/// rebinding page cannot leave it out.
fn check_host(host: Option<&str>, allowed: &[String]) -> Result<(), ApiError> {
    let Some(host) = host else { return Ok(()) };
    let name = host
        .parse::<Authority>()
        .map(|a| a.host().to_owned())
        .unwrap_or_default();
    if is_loopback(&name) || allowed.iter().any(|a| a.eq_ignore_ascii_case(&name)) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::MISDIRECTED_REQUEST,
        "host_not_allowed",
        format!(
            "this server answers only loopback host names, not `{}`; a proxy in front must pass \
             a loopback `Host`, or start the server with --allowed-host NAME",
            cut(host)
        ),
    ))
}

/// With an `Origin` header (browsers send one on every cross-site state-changing request), its
/// `host[:port]` must be the one the request was sent to (`Host`, or `X-Forwarded-Host` from a
/// proxy that rewrites `Host`: a page cannot set that header cross-site without a preflight).
fn check_origin(headers: &HeaderMap, host: Option<&str>) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("");
    let origin_authority = origin
        .parse::<Uri>()
        .ok()
        .and_then(|u| u.authority().map(|a| a.as_str().to_owned()));
    let forwarded = headers
        .get("x-forwarded-host")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(',').next().unwrap_or("").trim());
    let same = origin_authority.as_deref().is_some_and(|o| {
        [host, forwarded]
            .into_iter()
            .flatten()
            .any(|h| h.eq_ignore_ascii_case(o))
    });
    if same {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "cross_origin",
        format!(
            "a request from origin `{}` may not change anything on `{}`: state-changing requests \
             must come from the server's own origin (or from a client that sends no `Origin`)",
            cut(origin),
            cut(host.unwrap_or("")),
        ),
    ))
}

/// A state-changing admin request with a body must say it is JSON, an artifact
/// (`application/octet-stream`) or a multipart form. A bodiless one (rollback, delete) may omit
/// the content type.
fn check_admin_content_type(req: &Request) -> Result<(), ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or(""));
    let essence = content_type.map(|t| {
        t.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    match essence {
        Some(t) if ADMIN_CONTENT_TYPES.contains(&t.as_str()) => Ok(()),
        None if req.body().size_hint().exact() == Some(0) => Ok(()),
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "admin requests with a body need Content-Type `application/json`, \
                 `application/octet-stream` or `multipart/form-data`, got {}",
                match other {
                    Some(_) => format!("`{}`", cut(content_type.unwrap_or(""))),
                    None => "none".to_owned(),
                }
            ),
        )),
    }
}

/// Client-chosen text echoed in a message is cut, so a huge header cannot bloat the answer.
fn cut(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_compared_without_port() {
        let none: Vec<String> = Vec::new();
        for ok in [
            "localhost",
            "LOCALHOST:8900",
            "127.0.0.1:1",
            "[::1]:8900",
            "[::1]",
        ] {
            assert!(check_host(Some(ok), &none).is_ok(), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8900",
            "127.0.0.1.evil.example",
            "",
        ] {
            assert!(check_host(Some(bad), &none).is_err(), "{bad}");
        }
        let proxy = vec!["models.example".to_owned()];
        assert!(check_host(Some("models.example:443"), &proxy).is_ok());
        assert!(check_host(None, &none).is_ok());
    }

    #[test]
    fn origin_must_match_host_or_forwarded_host() {
        let mut h = HeaderMap::new();
        assert!(
            check_origin(&h, Some("localhost:8900")).is_ok(),
            "no Origin"
        );
        h.insert(header::ORIGIN, "http://localhost:8900".parse().unwrap());
        assert!(check_origin(&h, Some("localhost:8900")).is_ok());
        assert!(check_origin(&h, Some("127.0.0.1:8900")).is_err());
        assert!(check_origin(&h, None).is_err());
        h.insert(header::ORIGIN, "null".parse().unwrap());
        assert!(check_origin(&h, Some("localhost:8900")).is_err());
        h.insert(header::ORIGIN, "https://models.example".parse().unwrap());
        h.insert("x-forwarded-host", "models.example".parse().unwrap());
        assert!(check_origin(&h, Some("127.0.0.1:8900")).is_ok());
    }

    #[test]
    fn long_values_are_cut() {
        assert_eq!(cut(&"x".repeat(500)).chars().count(), 81);
        assert_eq!(cut("short"), "short");
    }
}
