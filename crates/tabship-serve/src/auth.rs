//! Bearer-token authentication from a TOML keys file.
//!
//! The file stores only SHA-256 hashes of tokens. A request's token is hashed and compared with
//! every key in constant time (no early exit), so neither a match nor its position leaks by timing.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode, header};
use rand::TryRngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{ApiError, Error, Result};

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Predict, and read model schemas.
    Predict,
    /// Send true labels to `/feedback`.
    Feedback,
    /// Load versions, point aliases, roll back, split traffic, shadow.
    Admin,
    /// Read `/metrics` and drift.
    Metrics,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 4] = [
        Scope::Predict,
        Scope::Feedback,
        Scope::Admin,
        Scope::Metrics,
    ];

    /// The scope's name in the keys file.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Predict => "predict",
            Scope::Feedback => "feedback",
            Scope::Admin => "admin",
            Scope::Metrics => "metrics",
        }
    }

    /// Parses a scope name.
    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.name() == text.trim())
    }
}

/// One entry of the keys file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEntry {
    /// Who uses the token; echoed as `username` in predictions.
    pub username: String,
    /// Lowercase hex SHA-256 of the token.
    pub token_sha256: String,
    /// What the token may do.
    pub scopes: Vec<Scope>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeysFile {
    #[serde(default)]
    pub(crate) keys: Vec<KeyEntry>,
}

#[derive(Debug)]
struct Key {
    username: Arc<str>,
    hash: [u8; 32],
    scopes: Vec<Scope>,
}

/// The loaded keys.
#[derive(Debug)]
pub struct KeyStore {
    keys: Vec<Key>,
}

/// Who made a request.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The key's username; `None` when the server runs without keys.
    pub username: Option<Arc<str>>,
}

impl KeyStore {
    /// Reads and validates a keys file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Keys {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Self::parse(&text).map_err(|message| Error::Keys {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses keys-file text.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let file: KeysFile = toml::from_str(text).map_err(|e| e.message().to_owned())?;
        let mut keys = Vec::with_capacity(file.keys.len());
        for (i, entry) in file.keys.into_iter().enumerate() {
            let hash = parse_hash(&entry.token_sha256).ok_or_else(|| {
                format!(
                    "keys[{i}] (`{}`): token_sha256 must be 64 hex digits, got `{}`",
                    entry.username, entry.token_sha256
                )
            })?;
            if entry.username.is_empty() {
                return Err(format!("keys[{i}]: username must not be empty"));
            }
            keys.push(Key {
                username: entry.username.into(),
                hash,
                scopes: entry.scopes,
            });
        }
        Ok(KeyStore { keys })
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when the file has no keys (every protected request is then refused).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Checks the `Authorization: Bearer` header for `scope`: 401 when missing or unknown, 403
    /// when the key lacks the scope.
    pub fn authorize(&self, headers: &HeaderMap, scope: Scope) -> Result<Identity, ApiError> {
        let token = bearer_token(headers).ok_or_else(missing_token)?;
        self.authorize_token(token, scope)
            .unwrap_or_else(|| Err(unknown_token()))
    }

    /// `None` when `token` is no key of the file; else the key's identity, or 403 when the key
    /// lacks `scope`.
    pub(crate) fn authorize_token(
        &self,
        token: &str,
        scope: Scope,
    ) -> Option<Result<Identity, ApiError>> {
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found: Option<&Key> = None;
        for key in &self.keys {
            let equal = bool::from(key.hash.ct_eq(&hash));
            if equal && found.is_none() {
                found = Some(key);
            }
        }
        let key = found?;
        if !key.scopes.contains(&scope) {
            return Some(Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("user `{}` lacks the `{}` scope", key.username, scope.name()),
            )));
        }
        Some(Ok(Identity {
            username: Some(key.username.clone()),
        }))
    }
}

/// 401: no `Authorization: Bearer` header.
pub(crate) fn missing_token() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "missing bearer token: send `Authorization: Bearer <token>`",
    )
}

/// 401: a token that is no key (and no JWT is configured).
pub(crate) fn unknown_token() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "invalid bearer token",
    )
}

/// Checks the bearer token against the run's admin token (`Options::admin_token`, used when
/// there is no keys file), comparing hashes in constant time: 401 when missing or different.
pub(crate) fn check_admin_token(headers: &HeaderMap, expected: &str) -> Result<Identity, ApiError> {
    let refused = |why: &str| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            format!(
                "{why}: without a keys file the admin routes need the token `tabship serve` \
                 printed at start (`Authorization: Bearer <token>`)"
            ),
        )
    };
    let token = bearer_token(headers).ok_or_else(|| refused("missing bearer token"))?;
    let given: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    let expected: [u8; 32] = Sha256::digest(expected.as_bytes()).into();
    if bool::from(given.ct_eq(&expected)) {
        Ok(Identity { username: None })
    } else {
        Err(refused("invalid bearer token"))
    }
}

pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

pub(crate) fn parse_hash(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Lowercase hex SHA-256 of a token, as stored in the keys file.
pub fn token_sha256(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A new random token: `tsk_` and 43 URL-safe characters (256 bits from the OS generator).
pub fn generate_token() -> Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bytes = [0u8; 43];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| Error::Io {
            what: "reading the OS random generator".to_owned(),
            source: std::io::Error::other(e.to_string()),
        })?;
    let mut token = String::from("tsk_");
    token.extend(bytes.iter().map(|b| ALPHABET[usize::from(b & 63)] as char));
    Ok(token)
}

/// Generates a token for `username` with `scopes`, appends its hash to the keys file (creating it
/// owner-only on Unix; an existing file keeps its mode) and returns the token, which is shown
/// nowhere else.
pub fn add_key(path: &Path, username: &str, scopes: &[Scope]) -> Result<String> {
    let token = generate_token()?;
    add_key_with_token(path, username, scopes, &token)?;
    Ok(token)
}

/// Appends the hash of a token the user chose (see [`crate::keyfile::check_token`]) for
/// `username` with `scopes`, as [`add_key`] does. A username or token already in the file is
/// refused (`tabship keys rotate` replaces a token).
pub fn add_key_with_token(
    path: &Path,
    username: &str,
    scopes: &[Scope],
    token: &str,
) -> Result<()> {
    crate::keyfile::check_token(token).map_err(|message| Error::Keys {
        path: path.to_path_buf(),
        message,
    })?;
    if username.trim().is_empty() || username.contains(['"', '\n', '\\']) {
        return Err(Error::Keys {
            path: path.to_path_buf(),
            message: format!("invalid username `{username}`"),
        });
    }
    if scopes.is_empty() {
        return Err(Error::Keys {
            path: path.to_path_buf(),
            message: "give at least one scope (predict, feedback, admin, metrics)".to_owned(),
        });
    }
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => {
            KeyStore::parse(&text).map_err(|message| Error::Keys {
                path: path.to_path_buf(),
                message,
            })?;
            let refused = |message: String| Error::Keys {
                path: path.to_path_buf(),
                message,
            };
            let file: KeysFile =
                toml::from_str(&text).map_err(|e| refused(e.message().to_owned()))?;
            if file.keys.iter().any(|k| k.username == username) {
                return Err(refused(format!(
                    "user `{username}` already has a key; `tabship keys rotate --username {username}` replaces its token"
                )));
            }
            let hash = parse_hash(&token_sha256(token));
            if file
                .keys
                .iter()
                .any(|k| parse_hash(&k.token_sha256) == hash)
            {
                return Err(refused(
                    "this token is already in the file (for another user); choose another"
                        .to_owned(),
                ));
            }
            text
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(Error::Keys {
                path: path.to_path_buf(),
                message: e.to_string(),
            });
        }
    };
    let entry = KeysFile {
        keys: vec![KeyEntry {
            username: username.to_owned(),
            token_sha256: token_sha256(token),
            scopes: scopes.to_vec(),
        }],
    };
    let block = toml::to_string(&entry).map_err(|e| Error::Keys {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(&block);
    write_private(path, &text)
}

/// A new keys file is owner-only; an existing one keeps its mode (e.g. 0644 so that a service
/// user can re-read it on SIGHUP: it holds only hashes of 256-bit random tokens).
pub(crate) fn write_private(path: &Path, text: &str) -> Result<()> {
    tabship::fs::write_atomic(path, text.as_bytes(), tabship::fs::PRIVATE_MODE).map_err(|e| {
        Error::Write {
            path: path.to_path_buf(),
            source: e,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, value.parse().expect("header"));
        h
    }

    #[test]
    fn tokens_hash_and_authorize() {
        let token = generate_token().expect("token");
        assert!(token.starts_with("tsk_") && token.len() == 47);
        let text = format!(
            "[[keys]]\nusername = \"pedro1\"\ntoken_sha256 = \"{}\"\nscopes = [\"predict\"]\n",
            token_sha256(&token)
        );
        let store = KeyStore::parse(&text).expect("parse");
        let id = store
            .authorize(&headers(&format!("Bearer {token}")), Scope::Predict)
            .expect("authorized");
        assert_eq!(id.username.as_deref(), Some("pedro1"));
        let e = store
            .authorize(&headers(&format!("Bearer {token}")), Scope::Admin)
            .expect_err("no admin");
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        let e = store
            .authorize(&headers("Bearer nope"), Scope::Predict)
            .expect_err("bad token");
        assert_eq!(e.status, StatusCode::UNAUTHORIZED);
        let e = store
            .authorize(&HeaderMap::new(), Scope::Predict)
            .expect_err("no token");
        assert_eq!(e.status, StatusCode::UNAUTHORIZED);
        let e = store
            .authorize(&headers(&format!("Basic {token}")), Scope::Predict)
            .expect_err("wrong scheme");
        assert_eq!(e.status, StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn bad_files_name_the_problem() {
        let e =
            KeyStore::parse("[[keys]]\nusername = \"a\"\ntoken_sha256 = \"xyz\"\nscopes = []\n")
                .expect_err("bad hash");
        assert!(e.contains("`xyz`"), "{e}");
        let e = KeyStore::parse(
            "[[keys]]\nusername = \"a\"\ntoken_sha256 = \"00\"\nscopes = [\"root\"]\n",
        )
        .expect_err("bad scope");
        assert!(e.contains("root"), "{e}");
    }

    #[test]
    fn add_key_appends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys.toml");
        let t1 = add_key(&path, "ana", &[Scope::Predict]).expect("first");
        let t2 = add_key(&path, "bo", &[Scope::Admin, Scope::Metrics]).expect("second");
        let store = KeyStore::load(&path).expect("load");
        assert_eq!(store.len(), 2);
        assert!(
            store
                .authorize(&headers(&format!("Bearer {t1}")), Scope::Predict)
                .is_ok()
        );
        assert!(
            store
                .authorize(&headers(&format!("Bearer {t2}")), Scope::Metrics)
                .is_ok()
        );
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(!text.contains(&t1), "the token itself is never stored");
    }

    #[cfg(unix)]
    #[test]
    fn add_key_keeps_the_mode_of_an_existing_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys.toml");
        add_key(&path, "ana", &[Scope::Predict]).expect("first");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600, "a new file is owner-only");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        add_key(&path, "bo", &[Scope::Predict]).expect("second");
        assert_eq!(mode(&path), 0o644, "an existing file keeps its mode");
    }

    #[cfg(unix)]
    #[test]
    fn add_key_writes_through_a_symlinked_keys_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = dir.path().join("secrets-keys.toml");
        add_key(&real, "ana", &[Scope::Predict]).expect("first");
        let link = dir.path().join("keys.toml");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        add_key(&link, "bo", &[Scope::Predict]).expect("second");
        assert!(
            std::fs::symlink_metadata(&link)
                .expect("meta")
                .file_type()
                .is_symlink()
        );
        let store = KeyStore::load(&real).expect("loads");
        assert_eq!(store.len(), 2, "both keys are in the real file");
    }
}
