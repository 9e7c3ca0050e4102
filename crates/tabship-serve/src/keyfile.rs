//! Managing the keys file: list its keys (never a token: only a fingerprint of the stored hash),
//! remove a user's key, rotate a user's token, and check a token a user chose.
//!
//! Edits keep the rest of the file as written (comments, order, other entries): the file is cut
//! into its `[[keys]]` blocks and only the block of the user concerned is removed or changed.
//! Every write goes through the same atomic, mode-keeping write as `tabship keys add`.

use std::path::Path;

use serde::Serialize;

use crate::auth::{KeyEntry, KeyStore, KeysFile, Scope, generate_token, token_sha256};
use crate::error::{Error, Result};

/// Shortest token a user may choose: 32 characters (generated ones have 47).
pub const MIN_TOKEN_LEN: usize = 32;

/// What `tabship keys list` shows of one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    /// The key's user.
    pub username: String,
    /// What the key may do.
    pub scopes: Vec<Scope>,
    /// The first 12 hex digits of the stored SHA-256 hash: enough to tell keys apart and match
    /// a token (`sha256sum`), useless to an attacker.
    pub fingerprint: String,
}

/// Checks a token a user chose: at least [`MIN_TOKEN_LEN`] printable ASCII characters without
/// spaces (what an `Authorization: Bearer` header carries).
pub fn check_token(token: &str) -> std::result::Result<(), String> {
    if let Some(c) = token.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(format!(
            "the token holds {}; use printable ASCII without spaces",
            if c.is_whitespace() {
                "a space or line break".to_owned()
            } else {
                format!("the character `{}`", c.escape_default())
            }
        ));
    }
    let n = token.chars().count();
    if n < MIN_TOKEN_LEN {
        return Err(format!(
            "the token has {n} characters, fewer than {MIN_TOKEN_LEN}: a short token can be guessed; use a longer one or let `tabship keys add` generate one"
        ));
    }
    Ok(())
}

fn keys_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Keys {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// The file's text and entries, validated as the server would load them.
fn read(path: &Path) -> Result<(String, Vec<KeyEntry>)> {
    let text = std::fs::read_to_string(path).map_err(|e| keys_error(path, e.to_string()))?;
    KeyStore::parse(&text).map_err(|m| keys_error(path, m))?;
    let file: KeysFile =
        toml::from_str(&text).map_err(|e| keys_error(path, e.message().to_owned()))?;
    Ok((text, file.keys))
}

/// Every key of the file, in file order.
pub fn list_keys(path: &Path) -> Result<Vec<KeyInfo>> {
    let (_, keys) = read(path)?;
    Ok(keys
        .into_iter()
        .map(|k| KeyInfo {
            fingerprint: k
                .token_sha256
                .trim()
                .to_ascii_lowercase()
                .chars()
                .take(12)
                .collect(),
            username: k.username,
            scopes: k.scopes,
        })
        .collect())
}

/// The file cut into the text before the first `[[keys]]` header and one text per entry.
/// `None` when the blocks do not parse back into exactly `keys` (an inline `keys = [...]`
/// array, say): the caller then writes the file anew.
fn blocks(text: &str, keys: &[KeyEntry]) -> Option<(String, Vec<String>)> {
    let mut head = String::new();
    let mut blocks: Vec<String> = Vec::new();
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with("[[keys]]") {
            blocks.push(String::new());
        }
        match blocks.last_mut() {
            Some(block) => block.push_str(line),
            None => head.push_str(line),
        }
    }
    if blocks.len() != keys.len() {
        return None;
    }
    for (block, key) in blocks.iter().zip(keys) {
        let parsed: KeysFile = toml::from_str(block).ok()?;
        match parsed.keys.as_slice() {
            [one] if one.username == key.username && one.token_sha256 == key.token_sha256 => {}
            _ => return None,
        }
    }
    Some((head, blocks))
}

/// Rewrites the file with `change` applied to the entry of `username` (`None` removes it).
fn edit(path: &Path, username: &str, change: impl Fn(&KeyEntry) -> Option<KeyEntry>) -> Result<()> {
    let (text, keys) = read(path)?;
    let Some(at) = keys.iter().position(|k| k.username == username) else {
        let known: Vec<String> = keys.iter().map(|k| format!("`{}`", k.username)).collect();
        return Err(keys_error(
            path,
            format!(
                "no key for user `{username}`; the file has {}",
                if known.is_empty() {
                    "no keys".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        ));
    };
    let replacement = change(&keys[at]);
    let mut expected = keys.clone();
    match &replacement {
        Some(entry) => expected[at] = entry.clone(),
        None => {
            expected.remove(at);
        }
    }
    // The edited text is kept only when it reads back to exactly the intended keys: the old hash
    // may also stand in a comment, or be written with escapes that a text search cannot find.
    let reads_back = |text: &str| {
        KeyStore::parse(text).is_ok()
            && toml::from_str::<KeysFile>(text).is_ok_and(|file| file.keys == expected)
    };
    let edited = blocks(&text, &keys).and_then(|(head, mut blocks)| {
        let Some(entry) = &replacement else {
            blocks.remove(at);
            return Some(head + &blocks.concat());
        };
        // The hash is the one value that changes: replace it on its own line, keeping the
        // entry's comments and layout; failing that, write this entry's block anew.
        let old_block = std::mem::take(&mut blocks[at]);
        blocks[at] = replace_hash(&old_block, &keys[at].token_sha256, &entry.token_sha256);
        let in_place = head.clone() + &blocks.concat();
        if reads_back(&in_place) {
            return Some(in_place);
        }
        let fresh = toml::to_string(&KeysFile {
            keys: vec![entry.clone()],
        })
        .ok()?;
        blocks[at] = if at + 1 < blocks.len() {
            fresh + "\n"
        } else {
            fresh
        };
        Some(head + &blocks.concat())
    });
    let new_text = match edited.filter(|t| reads_back(t)) {
        Some(text) => text,
        None => toml::to_string(&KeysFile { keys: expected })
            .map_err(|e| keys_error(path, e.to_string()))?,
    };
    KeyStore::parse(&new_text).map_err(|m| keys_error(path, m))?;
    crate::auth::write_private(path, &new_text)
}

/// `block` with `old` replaced by `new` on the `token_sha256 = ...` line only (not in a comment
/// or another value before it).
fn replace_hash(block: &str, old: &str, new: &str) -> String {
    let mut done = false;
    block
        .split_inclusive('\n')
        .map(|line| {
            if !done && line.trim_start().starts_with("token_sha256") && line.contains(old) {
                done = true;
                line.replacen(old, new, 1)
            } else {
                line.to_owned()
            }
        })
        .collect()
}

/// Removes the key of `username` (an error naming it, and the users there are, when absent).
pub fn remove_key(path: &Path, username: &str) -> Result<()> {
    edit(path, username, |_| None)
}

/// Gives `username` a new generated token with the same scopes and returns it: it is shown
/// nowhere else, and the old token stops working once the server re-reads the file.
pub fn rotate_key(path: &Path, username: &str) -> Result<String> {
    let token = generate_token()?;
    let hash = token_sha256(&token);
    edit(path, username, |old| {
        Some(KeyEntry {
            token_sha256: hash.clone(),
            ..old.clone()
        })
    })?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{add_key, add_key_with_token};

    #[test]
    fn chosen_tokens_must_be_long_and_printable() {
        assert!(check_token(&"a".repeat(32)).is_ok());
        assert!(
            check_token("short")
                .expect_err("short")
                .contains("5 characters")
        );
        let e = check_token(&format!("{} x", "a".repeat(40))).expect_err("space");
        assert!(e.contains("space"), "{e}");
    }

    #[test]
    fn edits_keep_comments_and_other_entries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys.toml");
        add_key(&path, "ana", &[Scope::Predict]).expect("ana");
        add_key(&path, "bo", &[Scope::Admin]).expect("bo");
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, format!("# who may call us\n{text}")).expect("comment");
        let before = list_keys(&path).expect("list");
        let token = rotate_key(&path, "bo").expect("rotate");
        let after = list_keys(&path).expect("list");
        assert_eq!(before[0], after[0]);
        assert_eq!(after[1].scopes, [Scope::Admin]);
        assert_ne!(before[1].fingerprint, after[1].fingerprint);
        assert_eq!(after[1].fingerprint, token_sha256(&token)[..12]);
        remove_key(&path, "ana").expect("remove");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with("# who may call us\n"), "{text}");
        assert_eq!(list_keys(&path).expect("list").len(), 1);
        let e = remove_key(&path, "carla").expect_err("unknown");
        assert!(e.to_string().contains("no key for user `carla`"), "{e}");
        assert!(e.to_string().contains("`bo`"), "{e}");
    }

    /// Found by the fuzz target `keys_toml`: a rotation replaced the first copy of the old hash in
    /// the entry's text, which may be a comment before the value (or the value may be written
    /// with escapes and not be found at all): the rotation reported a new token while the file
    /// kept the old hash, so the old token kept working and the new one did not.
    #[test]
    fn rotation_replaces_the_stored_hash_wherever_it_is_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys.toml");
        let old = token_sha256(&"a".repeat(32));
        let escaped: String = old
            .chars()
            .map(|c| format!("\\u{:04X}", c as u32))
            .collect();
        for text in [
            format!(
                "[[keys]]\nusername = 'ana' # was '{old}'\ntoken_sha256 = '{old}'\nscopes = ['predict']\n"
            ),
            format!(
                "[[keys]]\nusername = \"ana\"\ntoken_sha256 = \"{escaped}\"\nscopes = [\"predict\"]\n"
            ),
        ] {
            std::fs::write(&path, &text).expect("write");
            assert_eq!(list_keys(&path).expect("list")[0].fingerprint, old[..12]);
            let token = rotate_key(&path, "ana").expect("rotate");
            let after = list_keys(&path).expect("list");
            assert_eq!(after.len(), 1);
            assert_eq!(
                after[0].fingerprint,
                token_sha256(&token)[..12],
                "{}",
                std::fs::read_to_string(&path).unwrap_or_default()
            );
            assert_eq!(after[0].scopes, [Scope::Predict]);
        }
    }

    #[test]
    fn an_inline_keys_array_is_rewritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys.toml");
        let text = format!(
            "keys = [{{ username = \"ana\", token_sha256 = \"{}\", scopes = [\"predict\"] }}, {{ username = \"bo\", token_sha256 = \"{}\", scopes = [\"admin\"] }}]\n",
            token_sha256(&"a".repeat(32)),
            token_sha256(&"b".repeat(32))
        );
        std::fs::write(&path, text).expect("write");
        remove_key(&path, "ana").expect("remove");
        let keys = list_keys(&path).expect("list");
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].username, "bo");
    }

    #[test]
    fn a_chosen_token_is_stored_as_its_hash_and_duplicates_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys.toml");
        let token = "my-own-token-of-thirty-two-chars!";
        add_key_with_token(&path, "ana", &[Scope::Predict], token).expect("add");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(!text.contains(token));
        assert!(text.contains(&token_sha256(token)));
        let e = add_key_with_token(&path, "ana", &[Scope::Predict], &"z".repeat(40))
            .expect_err("same user");
        assert!(e.to_string().contains("rotate"), "{e}");
        let e = add_key_with_token(&path, "bo", &[Scope::Predict], token).expect_err("same token");
        assert!(e.to_string().contains("already in the file"), "{e}");
        let e = add_key_with_token(&path, "bo", &[Scope::Predict], "tiny").expect_err("short");
        assert!(e.to_string().contains("fewer than 32"), "{e}");
    }
}
