//! Fuzz target for the keys file (`--keys`, `tabship keys ...`): TOML with `[[keys]]` entries of
//! `username`, `token_sha256` (64 hex digits) and `scopes`, and the edits that keep the rest of the
//! file as written (comments, order, other entries) by cutting it into its `[[keys]]` blocks.
//!
//! Must hold: never a panic; a file the server accepts lists the same number of keys; rotating the
//! first user's token changes exactly that key (its fingerprint becomes the new token's) and the
//! file stays valid; removing that user's key then leaves the others exactly as they were.

#![no_main]

#[path = "../common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use tabship_serve::auth::{KeyStore, token_sha256};
use tabship_serve::keyfile::{list_keys, remove_key, rotate_key};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(store) = KeyStore::parse(text) else {
        return;
    };
    let path = common::SCRATCH.join("keys.toml");
    std::fs::write(&path, text).expect("write the keys file");
    let before = list_keys(&path).expect("a file the server accepts lists its keys");
    assert_eq!(before.len(), store.len());
    let Some(first) = before.first() else {
        return;
    };
    let user = first.username.clone();
    let token = rotate_key(&path, &user).expect("rotating an existing user's key");
    let rotated = list_keys(&path).expect("the file stays valid after a rotation");
    assert_eq!(
        rotated.len(),
        before.len(),
        "rotation changed the number of keys"
    );
    assert_eq!(rotated[0].username, user);
    assert_eq!(rotated[0].scopes, first.scopes);
    assert_eq!(
        rotated[0].fingerprint,
        token_sha256(&token)[..12],
        "the file does not hold the new token's hash after a rotation:\n{}",
        std::fs::read_to_string(&path).unwrap_or_default()
    );
    assert_eq!(rotated[1..], before[1..], "rotation changed another key");
    remove_key(&path, &user).expect("removing an existing user's key");
    let removed = list_keys(&path).expect("the file stays valid after a removal");
    assert_eq!(removed[..], rotated[1..], "removal changed another key");
});
