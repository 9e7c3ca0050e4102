//! Request ids: 128 random bits made by the server, or the client's own `X-Request-Id`, checked.
//!
//! An id is what `/feedback` joins a label to, so it must not be guessable (a counter would let
//! anyone label others' predictions) and must not be reused while the feedback store remembers
//! it (see [`crate::feedback::FeedbackStore`]).

use std::sync::Arc;

use axum::http::HeaderMap;
use rand::{RngCore, TryRngCore};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, FieldError};
use crate::feedback::Taken;

/// The header carrying a request id, both ways.
pub const HEADER: &str = "x-request-id";

/// The longest id a client may choose.
pub const MAX_LEN: usize = 64;

/// The characters a client-chosen id may use besides ASCII letters and digits: enough for UUIDs,
/// ULIDs, hex, base64 and base64url, W3C and AWS trace ids, and `order-123` (nothing that needs
/// escaping in a log line, a header or HTML).
pub const PUNCTUATION: &str = "-_.:;=+/@~";

/// A new id: 32 lowercase hex digits holding 128 bits from the OS random generator.
pub(crate) fn generate() -> String {
    let mut bytes = [0u8; 16];
    if rand::rngs::OsRng.try_fill_bytes(&mut bytes).is_err() {
        // Only when the OS generator fails (it does not on supported systems): the thread
        // generator is a CSPRNG seeded from the OS, so the id stays unpredictable.
        rand::rng().fill_bytes(&mut bytes);
    }
    format!("{:032x}", u128::from_be_bytes(bytes))
}

/// The client's own id, if it sent one: 400 naming the header when it is malformed (empty, too
/// long, sent twice, or with other characters than [`PUNCTUATION`], letters and digits).
pub(crate) fn from_client(headers: &HeaderMap) -> Result<Option<Arc<str>>, ApiError> {
    let mut values = headers.get_all(HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let expected = format!(
        "one id of 1 to {MAX_LEN} ASCII letters, digits or `{PUNCTUATION}` (or no header: the server makes one)"
    );
    if values.next().is_some() {
        return Err(ApiError::invalid_field(
            "X-Request-Id",
            expected,
            "the header more than once",
        ));
    }
    let bytes = value.as_bytes();
    let valid = !bytes.is_empty()
        && bytes.len() <= MAX_LEN
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || PUNCTUATION.as_bytes().contains(b));
    if valid {
        // Every byte is ASCII, so this never replaces anything.
        return Ok(Some(String::from_utf8_lossy(bytes).into()));
    }
    let received = match std::str::from_utf8(bytes) {
        Ok("") => "an empty value".to_owned(),
        Ok(text) if text.len() > MAX_LEN => format!(
            "{} characters (`{}`...)",
            text.chars().count(),
            text.chars().take(MAX_LEN).collect::<String>()
        ),
        Ok(text) => format!("`{text}`"),
        Err(_) => "bytes that are not UTF-8".to_owned(),
    };
    Err(ApiError::invalid_field("X-Request-Id", expected, received))
}

/// True when the client chose the request's id (the middleware has checked it).
pub(crate) fn chosen_by_client(headers: &HeaderMap) -> bool {
    headers.contains_key(HEADER)
}

/// What identifies a request apart from its id: SHA-256 of its path, query and body. A resend
/// (same id, principal and fingerprint) is a retry; anything else under a used id is refused.
pub(crate) fn fingerprint(path: &str, query: Option<&str>, body: &[u8]) -> [u8; 32] {
    let mut hash = Sha256::new();
    // Lengths first, so no two (path, query, body) triples hash the same bytes.
    for part in [path.as_bytes(), query.unwrap_or("").as_bytes(), body] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    hash.finalize().into()
}

/// 409 `duplicate_request_id`: a prediction may not take an id the feedback store still
/// remembers for another request (its feedback would join the wrong prediction).
pub(crate) fn in_use(id: &str, taken: Taken) -> ApiError {
    let message = match taken {
        Taken::Used => format!(
            "request id `{id}` is already used by an earlier prediction that /feedback still remembers; send a new X-Request-Id (or none: the server makes one)"
        ),
        Taken::Labelled => format!(
            "request id `{id}` already has feedback; send a new X-Request-Id to predict again"
        ),
    };
    let mut error = ApiError::new(
        axum::http::StatusCode::CONFLICT,
        "duplicate_request_id",
        message,
    );
    error.fields.push(FieldError::new(
        "X-Request-Id",
        "an id no remembered prediction uses",
        format!("`{id}`"),
        None,
    ));
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(
                HEADER,
                axum::http::HeaderValue::from_bytes(v).expect("header value"),
            );
        }
        h
    }

    #[test]
    fn generated_ids_are_128_bit_hex() {
        let a = generate();
        assert_eq!(a.len(), 32);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_ne!(a, generate());
    }

    #[test]
    fn client_ids_are_checked() {
        assert_eq!(from_client(&HeaderMap::new()).expect("none"), None);
        for good in [
            &b"order-123"[..],
            b"3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b",
            b"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f",
            b"aGVsbG8gd29ybGQ=/+_~@.:",
            &[b'a'; MAX_LEN],
        ] {
            let id = from_client(&headers(&[good]))
                .expect("valid")
                .expect("kept");
            assert_eq!(id.as_bytes(), good);
        }
        for (bad, received) in [
            (&b""[..], "an empty value".to_owned()),
            (b"a b", "`a b`".to_owned()),
            (b"<script>", "`<script>`".to_owned()),
            (b"quote\"d", "`quote\"d`".to_owned()),
            (b"caf\xc3\xa9", "`caf\u{e9}`".to_owned()),
            (b"\xff", "bytes that are not UTF-8".to_owned()),
            (
                &[b'a'; MAX_LEN + 1],
                format!("65 characters (`{}`...)", "a".repeat(MAX_LEN)),
            ),
        ] {
            let e = from_client(&headers(&[bad])).expect_err("invalid");
            assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
            assert_eq!(e.fields[0].field, "X-Request-Id");
            assert_eq!(e.fields[0].received, received);
            assert!(e.message.contains("X-Request-Id"), "{}", e.message);
        }
        let e = from_client(&headers(&[b"a", b"b"])).expect_err("twice");
        assert_eq!(e.fields[0].received, "the header more than once");
    }

    #[test]
    fn fingerprints_separate_their_parts() {
        let f = fingerprint("/predict", None, b"{}");
        assert_eq!(f, fingerprint("/predict", Some(""), b"{}"));
        assert_ne!(f, fingerprint("/predict", None, b"{ }"));
        assert_ne!(f, fingerprint("/models/iris/predict", None, b"{}"));
        assert_ne!(
            fingerprint("/p", Some("ab"), b"c"),
            fingerprint("/p", Some("a"), b"bc")
        );
    }
}
