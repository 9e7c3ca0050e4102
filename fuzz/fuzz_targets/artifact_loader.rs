//! Fuzz target for the `.tabship` loader (`Pipeline::from_bytes`).
//!
//! Two paths per input:
//!
//! 1. Raw: the input is the whole artifact. Loading must never panic; a pipeline that loads must
//!    re-encode, load again to equal parts, and re-encode to the same bytes.
//! 2. Structure-aware: almost every raw mutation of the body dies at the SHA-256 check, so the
//!    input is also turned into a body and re-sealed (correct length and checksum) behind the
//!    header of the committed golden artifact `adult_logistic.tabship`:
//!    - an input that itself starts with the magic and a complete header (e.g. a mutated golden
//!      seed from the corpus) keeps its own body, re-sealed, so mutations reach the MessagePack
//!      decoder and the validator;
//!    - any other input of at least 4 bytes is spliced over the golden body: the first 4 bytes
//!      (u32 LE) pick the offset, the rest overwrites the body from there (extending it if needed).

#![no_main]

use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};
use tabship::Pipeline;
use tabship::artifact::MAGIC;

const GOLDEN: &[u8] = include_bytes!("../../testdata/golden/adult_logistic.tabship");

/// Offset of the body-length field: magic (8) + major (2) + minor (2) + library length (2) + L.
fn body_len_offset(artifact: &[u8]) -> Option<usize> {
    let l = u16::from_le_bytes([*artifact.get(12)?, *artifact.get(13)?]) as usize;
    Some(14 + l)
}

/// `header` (everything before the body-length field) + the body, with a correct length and
/// checksum.
fn seal(header: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(header.len() + 40 + body.len());
    out.extend_from_slice(header);
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&Sha256::digest(body));
    out.extend_from_slice(body);
    out
}

/// Floats compare bitwise-ish: `==` first, then the `Debug` text (shortest round-trip form), so a
/// NaN (allowed in `metrics`) equals itself while `0.0` and `-0.0` still differ.
fn same_parts(a: &tabship::PipelineParts, b: &tabship::PipelineParts) -> bool {
    a == b || format!("{a:?}") == format!("{b:?}")
}

fn check(bytes: &[u8]) {
    let Ok(pipeline) = Pipeline::from_bytes(bytes) else {
        return;
    };
    let parts = pipeline.to_parts();
    let encoded = pipeline
        .to_bytes()
        .expect("a pipeline that loaded must re-encode");
    let reloaded = Pipeline::from_bytes(&encoded).expect("re-encoded bytes must load again");
    let reparts = reloaded.to_parts();
    assert!(
        same_parts(&parts, &reparts),
        "re-encoded artifact loads to different parts:\n{parts:?}\nvs\n{reparts:?}"
    );
    let reencoded = reloaded
        .to_bytes()
        .expect("reloaded pipeline must re-encode");
    assert!(
        encoded == reencoded,
        "re-encoding is not deterministic ({} vs {} bytes)",
        encoded.len(),
        reencoded.len()
    );
}

fn structured(data: &[u8]) {
    let golden_body_at = body_len_offset(GOLDEN).expect("golden header") + 40;
    let golden_header = &GOLDEN[..golden_body_at - 40];
    let golden_body = &GOLDEN[golden_body_at..];

    // A (mutated) artifact: keep its body, fix its length and checksum.
    if data.starts_with(&MAGIC)
        && let Some(at) = body_len_offset(data).map(|o| o + 40)
        && at <= data.len()
    {
        check(&seal(golden_header, &data[at..]));
        return;
    }

    // Anything else: splice it over the golden body.
    if data.len() < 4 {
        return;
    }
    let (ctrl, patch) = data.split_at(4);
    let offset =
        u32::from_le_bytes([ctrl[0], ctrl[1], ctrl[2], ctrl[3]]) as usize % (golden_body.len() + 1);
    let mut body = golden_body.to_vec();
    let end = offset + patch.len();
    if end > body.len() {
        body.resize(end, 0);
    }
    body[offset..end].copy_from_slice(patch);
    check(&seal(golden_header, &body));
}

fuzz_target!(|data: &[u8]| {
    check(data);
    structured(data);
});
