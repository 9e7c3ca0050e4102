//! Fuzz target for admin uploads (`POST /admin/models/{name}/versions` as `multipart/form-data`):
//! the boundary read from `Content-Type`, the form parsed by the server's own parser (one file part
//! named `file`, `model` or `artifact`, the text parts `version`, `activate`, `force`; unknown and
//! repeated parts refused; text parts of at most 4096 bytes; the file part spooled to a temporary
//! file under the upload limit and refused unless it starts with the artifact magic).
//!
//! Input: byte 0 picks the upload limit (low 3 bits) and where `Content-Type` comes from (bit 7:
//! from the input up to its first newline; else `multipart/form-data; boundary=XyZ`); byte 1 is
//! the size of the chunks the body arrives in (0: one chunk), so boundaries fall across chunks;
//! the rest is the body. Must hold: never a panic; a refusal is a 400 or 413; an accepted form has
//! a file part that starts with the magic, fits the limit and was sent whole in the body, and text
//! parts within their limit.

#![no_main]

#[path = "../common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use tabship::artifact::MAGIC;
use tabship_serve::fuzzing::parse_upload;

const LIMITS: [usize; 8] = [8, 16, 64, 256, 1024, 4096, 65536, 1 << 20];
const TEXT_PART_LIMIT: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let [control, chunk, rest @ ..] = data else {
        return;
    };
    let limit = LIMITS[usize::from(control & 7)];
    let (content_type, body): (&[u8], &[u8]) = if control & 0x80 != 0 {
        match rest.iter().position(|&b| b == b'\n') {
            Some(at) => (&rest[..at], &rest[at + 1..]),
            None => return,
        }
    } else {
        (b"multipart/form-data; boundary=XyZ", rest)
    };
    let chunks: Vec<Vec<u8>> = match usize::from(*chunk) {
        0 => vec![body.to_vec()],
        size => body.chunks(size).map(<[u8]>::to_vec).collect(),
    };
    let Some(parsed) = parse_upload(content_type, chunks, limit, Some(&common::SCRATCH)) else {
        return;
    };
    match parsed {
        Err(e) => {
            assert!(
                matches!(e.status.as_u16(), 400 | 413),
                "an upload refused with {}: {e:?}",
                e.status
            );
            assert!(!e.message.is_empty());
        }
        Ok(form) => {
            let artifact = &form.artifact[..];
            assert!(
                artifact.starts_with(&MAGIC),
                "accepted a file part without the magic"
            );
            assert!(
                artifact.len() <= limit,
                "{} bytes over the limit {limit}",
                artifact.len()
            );
            assert!(
                body.windows(artifact.len()).any(|w| w == artifact),
                "the file part is not a part of the body"
            );
            // The limit counts the bytes sent; bytes that are not UTF-8 read as U+FFFD (three
            // bytes each), so the bound on the text is in characters.
            for text in [&form.version, &form.activate, &form.force]
                .into_iter()
                .flatten()
            {
                assert!(
                    text.chars().count() <= TEXT_PART_LIMIT,
                    "a text part of {} characters",
                    text.chars().count()
                );
            }
        }
    }
});
