//! Shared bits of the self-contained HTML pages (no external scripts, styles or fonts).

use axum::http::{HeaderValue, header};

use crate::page_cache::Rendered;

/// Escapes text for HTML element content and attribute values (also used by the CLI's drift
/// report, so every page tabship writes escapes the same way).
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The stylesheet both pages share.
pub(crate) const STYLE: &str = r#"
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24;background:#fafbfc}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:1.5rem}
label{display:block;font-weight:600;margin-top:.6rem}
input,select,textarea{font:inherit;padding:.35rem .5rem;border:1px solid #c9d1d9;border-radius:6px;box-sizing:border-box}
input[type=text],input[type=password],select{width:100%}
textarea{width:100%;min-height:8rem;font-family:ui-monospace,monospace;font-size:.85rem}
button{font:inherit;margin-top:1rem;padding:.5rem 1.2rem;border:0;border-radius:6px;background:#1f6feb;color:#fff;cursor:pointer}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:0 1rem}
.card{background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:1rem;margin:1rem 0}
.error{color:#b42318}.muted{color:#57606a;font-size:.9rem}
.bar{background:#1f6feb;height:.8rem;border-radius:3px}
table{border-collapse:collapse;width:100%}td{padding:.25rem .4rem;border-bottom:1px solid #eaeef2}
pre{background:#f6f8fa;padding:.6rem;border-radius:6px;overflow:auto;font-size:.85rem}
.method{display:inline-block;min-width:4rem;font-weight:700;font-family:ui-monospace,monospace}
code{font-family:ui-monospace,monospace}
"#;

/// An HTML page that may not load anything from elsewhere, run any script but its own, or
/// be framed (clickjacking): the policy lists the SHA-256 of each of the page's inline
/// `<script>` blocks instead of allowing every inline script. Styles stay `'unsafe-inline'`: the
/// pages set `style` attributes (result bars), and a style cannot run code.
pub(crate) fn page(html: String) -> Rendered {
    let policy = format!(
        "default-src 'self'; script-src {}; style-src 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; \
         frame-ancestors 'none'",
        script_hashes(&html)
    );
    // Base64 hashes and fixed text: always a valid header value.
    let policy =
        HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("default-src 'none'"));
    Rendered {
        content_type: "text/html; charset=utf-8",
        headers: vec![
            (header::CONTENT_SECURITY_POLICY, policy),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        body: html.into(),
    }
}

/// `'sha256-…'` sources for every inline `<script>` block of `html` (`'none'` without one).
fn script_hashes(html: &str) -> String {
    use base64::Engine as _;
    use sha2::{Digest, Sha256};
    const OPEN: &str = "<script>";
    const CLOSE: &str = "</script>";
    let mut sources = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(OPEN) {
        let body = &rest[start + OPEN.len()..];
        let Some(end) = body.find(CLOSE) else { break };
        let digest = Sha256::digest(&body.as_bytes()[..end]);
        sources.push(format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(digest)
        ));
        rest = &body[end + CLOSE.len()..];
    }
    if sources.is_empty() {
        "'none'".to_owned()
    } else {
        sources.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_inline_script_is_hashed() {
        // The digest of `alert(1)` as browsers compute it (and as CSP level 3 documents it).
        let html = "<p>x</p><script>alert(1)</script><script></script>";
        assert_eq!(
            script_hashes(html),
            "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI=' \
             'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
        );
        assert_eq!(script_hashes("<p>no script</p>"), "'none'");
    }
}
