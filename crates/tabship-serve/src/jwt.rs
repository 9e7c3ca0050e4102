//! JWT bearer tokens from an identity provider, beside the keys file.
//!
//! A token that is not a known key is verified here with `jsonwebtoken` (no crypto of our own):
//! the signature against a JWKS (a file, or a URL fetched with reqwest) or an HS256 secret file,
//! then `iss`, `aud`, `exp` and `nbf` (with a leeway). The key is chosen by the token's `kid` and
//! must have been published for the token's `alg`, so `alg: none` and a token HS256-signed with
//! an RSA public key (algorithm confusion) are refused. Scopes come from `scope` (space
//! separated), `scp` (a list) or a configured claim; those starting with the configured prefix
//! map onto tabship's scopes (`{prefix}predict` → `predict`), others are ignored. The username is
//! `sub` or a configured claim.
//!
//! A URL JWKS is refetched when it is older than the refresh interval (in the background) and
//! when a token names an unknown `kid` (key rotation), at most once per minimum interval, so
//! tokens with made-up `kid`s cannot make the server hammer the provider.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
#[cfg(test)]
use serde_json::json;
use serde_json::{Map, Value};

use crate::auth::Scope;
use crate::error::{ApiError, Error, Result};

/// Where the JWKS comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// A local file (works offline), re-read on SIGHUP.
    File(PathBuf),
    /// An `http(s)://` URL, refetched on an interval and on an unknown `kid`.
    Url(String),
}

impl JwksSource {
    /// A URL when `text` starts with `http://` or `https://`, else a file path.
    pub fn parse(text: &str) -> Self {
        if text.starts_with("https://") || text.starts_with("http://") {
            JwksSource::Url(text.to_owned())
        } else {
            JwksSource::File(PathBuf::from(text))
        }
    }
}

/// The JWT settings (`tabship serve --jwt-*`, `--jwks`).
#[derive(Debug, Clone)]
pub struct JwtConfig {
    /// The required `iss`.
    pub issuer: String,
    /// The required `aud` (one of the token's audiences).
    pub audience: String,
    /// The public keys (RS256/384/512, PS256/384/512, ES256/384, EdDSA).
    pub jwks: Option<JwksSource>,
    /// A file holding the HS256 shared secret (trailing line breaks ignored).
    pub hs256_secret_file: Option<PathBuf>,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
    /// The claim holding the scopes; `None`: `scope` (space separated), else `scp`.
    pub scope_claim: Option<String>,
    /// Token scopes `{prefix}{name}` grant tabship's scope `name` (e.g. `tabship:` for
    /// `tabship:predict`); empty: the names themselves.
    pub scope_prefix: String,
    /// The claim naming the user (logs, answers, the prediction log).
    pub username_claim: String,
    /// A URL JWKS older than this is refetched in the background.
    pub jwks_refresh: Duration,
    /// The least time between two fetches of a URL JWKS (unknown `kid`s included).
    pub jwks_min_refetch: Duration,
}

impl JwtConfig {
    /// Settings with the defaults: `sub`, `scope`/`scp`, no prefix, 60 s leeway, refresh every
    /// 5 minutes, refetch at most every 10 seconds.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        JwtConfig {
            issuer: issuer.into(),
            audience: audience.into(),
            jwks: None,
            hs256_secret_file: None,
            leeway: Duration::from_secs(60),
            scope_claim: None,
            scope_prefix: String::new(),
            username_claim: "sub".to_owned(),
            jwks_refresh: Duration::from_secs(300),
            jwks_min_refetch: Duration::from_secs(10),
        }
    }
}

/// A verified token's principal.
#[derive(Debug, Clone)]
pub struct JwtPrincipal {
    /// The username claim.
    pub username: Arc<str>,
    /// The tabship scopes granted.
    pub scopes: Vec<Scope>,
}

/// One usable public key of the JWKS.
struct PublicKey {
    kid: Option<String>,
    alg: Algorithm,
    key: DecodingKey,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

struct KeySet {
    keys: Vec<PublicKey>,
    fetched: Instant,
}

/// Verifies JWTs; built by [`JwtVerifier::load`], replaced whole on SIGHUP.
pub struct JwtVerifier {
    config: JwtConfig,
    hs256: Option<DecodingKey>,
    keys: RwLock<Arc<KeySet>>,
    /// Serializes fetches and remembers the last one (for the minimum interval).
    last_fetch: tokio::sync::Mutex<Instant>,
    refreshing: AtomicBool,
    client: reqwest::Client,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("config", &self.config)
            .field("keys", &self.key_count())
            .finish_non_exhaustive()
    }
}

/// Why a token was refused before its key was known.
enum Lookup {
    Found(Vec<(Algorithm, DecodingKey)>),
    UnknownKid(String),
}

fn config_error(message: impl Into<String>) -> Error {
    Error::Config(message.into())
}

/// A 401 `invalid_token` (RFC 6750).
pub(crate) fn invalid_token(description: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", description)
}

/// The `WWW-Authenticate` challenge of an authentication refusal (RFC 6750 §3), `None` for other
/// errors.
pub(crate) fn challenge(error: &ApiError) -> Option<HeaderValue> {
    let kind = match (error.status, error.code) {
        (StatusCode::UNAUTHORIZED, "invalid_token") => "invalid_token",
        (StatusCode::FORBIDDEN, "insufficient_scope") => "insufficient_scope",
        _ => return None,
    };
    // The description must be a quoted-string of visible ASCII: anything else becomes `?`.
    let description: String = error
        .message
        .chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            ' '..='~' => c,
            _ => '?',
        })
        .collect();
    HeaderValue::from_str(&format!(
        "Bearer realm=\"tabship\", error=\"{kind}\", error_description=\"{description}\""
    ))
    .ok()
}

impl JwtVerifier {
    /// Reads the HS256 secret and the JWKS (fetching a URL): any problem is an error naming the
    /// file or URL, so a start or a reload never runs with half the keys.
    pub async fn load(config: JwtConfig) -> Result<Self> {
        if config.jwks.is_none() && config.hs256_secret_file.is_none() {
            return Err(config_error(
                "JWT: give --jwks FILE|URL or --jwt-hs256-secret-file (or both)",
            ));
        }
        let hs256 = match &config.hs256_secret_file {
            Some(path) => {
                let bytes = std::fs::read(path).map_err(|e| {
                    config_error(format!("--jwt-hs256-secret-file `{}`: {e}", path.display()))
                })?;
                let secret = bytes.trim_ascii_end();
                if secret.len() < 32 {
                    return Err(config_error(format!(
                        "--jwt-hs256-secret-file `{}`: the secret has {} bytes; HS256 needs at least 32",
                        path.display(),
                        secret.len()
                    )));
                }
                Some(DecodingKey::from_secret(secret))
            }
            None => None,
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| config_error(format!("JWKS client: {e}")))?;
        if let Some(JwksSource::Url(url)) = &config.jwks
            && url.starts_with("http://")
        {
            // Whoever can alter the answer can mint tokens: fine on loopback, not across a network.
            tracing::warn!(url = %url, "the JWKS is fetched over plain HTTP; use https:// outside tests");
        }
        let keys = match &config.jwks {
            Some(source) => fetch_jwks(&client, source).await?,
            None => Vec::new(),
        };
        Ok(JwtVerifier {
            hs256,
            keys: RwLock::new(Arc::new(KeySet {
                keys,
                fetched: Instant::now(),
            })),
            last_fetch: tokio::sync::Mutex::new(Instant::now()),
            refreshing: AtomicBool::new(false),
            client,
            config,
        })
    }

    /// Public keys in force (the HS256 secret aside).
    pub fn key_count(&self) -> usize {
        self.key_set().keys.len()
    }

    fn key_set(&self) -> Arc<KeySet> {
        match self.keys.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Verifies `token` with the keys in force, refetching a URL JWKS once (rate-bounded) when
    /// the token names an unknown `kid`, and in the background when the keys are old.
    pub(crate) async fn verify(self: &Arc<Self>, token: &str) -> Result<JwtPrincipal, ApiError> {
        self.refresh_if_old();
        match self.verify_cached(token) {
            Err(Retry::UnknownKid(kid)) => {
                if self.refetch().await {
                    self.verify_cached(token).map_err(Retry::into_error)
                } else {
                    Err(Retry::UnknownKid(kid).into_error())
                }
            }
            other => other.map_err(Retry::into_error),
        }
    }

    /// Verifies `token` with the keys in force only (no fetch).
    pub(crate) fn verify_now(&self, token: &str) -> Result<JwtPrincipal, ApiError> {
        self.verify_cached(token).map_err(Retry::into_error)
    }

    fn verify_cached(&self, token: &str) -> Result<JwtPrincipal, Retry> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| {
            Retry::Invalid(match declared_alg(token) {
                // `none` (an unsigned token) and any other name jsonwebtoken does not know.
                Some(alg) => format!("the algorithm `{alg}` is not accepted"),
                None => format!("the token is not a valid JWT: {e}"),
            })
        })?;
        let candidates = match self.lookup(&header) {
            Ok(Lookup::Found(keys)) => keys,
            Ok(Lookup::UnknownKid(kid)) => return Err(Retry::UnknownKid(kid)),
            Err(message) => return Err(Retry::Invalid(message)),
        };
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = self.config.leeway.as_secs();
        validation.validate_nbf = true;
        let mut last = None;
        for (alg, key) in &candidates {
            validation.algorithms = vec![*alg];
            match jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation) {
                Ok(data) => return principal(&self.config, &data.claims).map_err(Retry::Invalid),
                Err(e) => last = Some(e),
            }
        }
        Err(Retry::Invalid(match last {
            Some(e) => self.describe(&e),
            None => "no key verifies this token".to_owned(),
        }))
    }

    fn lookup(&self, header: &jsonwebtoken::Header) -> std::result::Result<Lookup, String> {
        let alg = header.alg;
        if matches!(alg, Algorithm::HS384 | Algorithm::HS512) {
            return Err(format!("the algorithm `{alg:?}` is not accepted"));
        }
        if alg == Algorithm::HS256 {
            return match &self.hs256 {
                Some(key) => Ok(Lookup::Found(vec![(alg, key.clone())])),
                None => Err("the algorithm `HS256` is not accepted: this server verifies tokens with public keys (no --jwt-hs256-secret-file)".to_owned()),
            };
        }
        let set = self.key_set();
        let matching: Vec<&PublicKey> = set
            .keys
            .iter()
            .filter(|k| header.kid.is_none() || k.kid == header.kid)
            .collect();
        if matching.is_empty() {
            return match &header.kid {
                Some(kid) => Ok(Lookup::UnknownKid(kid.clone())),
                None => Err("no public key is configured (--jwks)".to_owned()),
            };
        }
        let found: Vec<(Algorithm, DecodingKey)> = matching
            .into_iter()
            .filter(|k| k.alg == alg)
            .map(|k| (k.alg, k.key.clone()))
            .collect();
        if found.is_empty() {
            return Err(format!(
                "the token's algorithm `{alg:?}` does not match its key's"
            ));
        }
        Ok(Lookup::Found(found))
    }

    fn describe(&self, error: &jsonwebtoken::errors::Error) -> String {
        use jsonwebtoken::errors::ErrorKind as K;
        match error.kind() {
            K::ExpiredSignature => "the token has expired".to_owned(),
            K::ImmatureSignature => "the token is not valid yet (`nbf`)".to_owned(),
            K::InvalidIssuer => format!("the token's issuer is not `{}`", self.config.issuer),
            K::InvalidAudience => format!("the token's audience is not `{}`", self.config.audience),
            K::InvalidSignature => "the token's signature does not verify".to_owned(),
            K::MissingRequiredClaim(claim) => format!("the token has no `{claim}` claim"),
            K::InvalidAlgorithm => "the token's algorithm does not match its key's".to_owned(),
            _ => format!("the token is not valid: {error}"),
        }
    }

    /// Fetches a URL JWKS again unless one was fetched less than the minimum interval ago;
    /// true when the keys were replaced.
    async fn refetch(&self) -> bool {
        let Some(source @ JwksSource::Url(url)) = &self.config.jwks else {
            return false;
        };
        let mut last = self.last_fetch.lock().await;
        if last.elapsed() < self.config.jwks_min_refetch {
            return false;
        }
        *last = Instant::now();
        match fetch_jwks(&self.client, source).await {
            Ok(keys) => {
                tracing::info!(url = %url, keys = keys.len(), "JWKS refetched");
                let fresh = Arc::new(KeySet {
                    keys,
                    fetched: Instant::now(),
                });
                match self.keys.write() {
                    Ok(mut guard) => *guard = fresh,
                    Err(poisoned) => *poisoned.into_inner() = fresh,
                }
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "JWKS refetch failed; the previous keys stay in force");
                false
            }
        }
    }

    fn refresh_if_old(self: &Arc<Self>) {
        if !matches!(self.config.jwks, Some(JwksSource::Url(_)))
            || self.key_set().fetched.elapsed() < self.config.jwks_refresh
            || self.refreshing.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            this.refetch().await;
            this.refreshing.store(false, Ordering::Release);
        });
    }
}

/// The `alg` a token's header names, when the header is readable JSON.
fn declared_alg(token: &str) -> Option<String> {
    use base64::Engine as _;
    let header = token.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    Some(value.get("alg")?.as_str()?.chars().take(32).collect())
}

/// The username and tabship scopes of verified claims.
fn principal(
    config: &JwtConfig,
    claims: &Map<String, Value>,
) -> std::result::Result<JwtPrincipal, String> {
    let name = &config.username_claim;
    let username = match claims.get(name) {
        Some(Value::String(s)) if !s.is_empty() => s.as_str(),
        Some(other) => {
            return Err(format!(
                "the token's `{name}` claim must be a non-empty string, got `{other}`"
            ));
        }
        None => return Err(format!("the token has no `{name}` claim (the username)")),
    };
    let raw = match &config.scope_claim {
        Some(claim) => claims.get(claim),
        None => claims.get("scope").or_else(|| claims.get("scp")),
    };
    let words: Vec<&str> = match raw {
        Some(Value::String(s)) => s.split_ascii_whitespace().collect(),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let mut scopes = Vec::new();
    for word in words {
        if let Some(scope) = word
            .strip_prefix(config.scope_prefix.as_str())
            .and_then(Scope::parse)
            && !scopes.contains(&scope)
        {
            scopes.push(scope);
        }
    }
    Ok(JwtPrincipal {
        username: username.into(),
        scopes,
    })
}

/// A refusal, or a `kid` worth a refetch.
enum Retry {
    Invalid(String),
    UnknownKid(String),
}

impl Retry {
    fn into_error(self) -> ApiError {
        match self {
            Retry::Invalid(message) => invalid_token(message),
            Retry::UnknownKid(kid) => invalid_token(format!("unknown key id (`kid`) `{kid}`")),
        }
    }
}

/// Reads or fetches a JWKS and keeps its usable signing keys.
async fn fetch_jwks(client: &reqwest::Client, source: &JwksSource) -> Result<Vec<PublicKey>> {
    let (what, bytes) = match source {
        JwksSource::File(path) => (
            format!("--jwks `{}`", path.display()),
            std::fs::read(path)
                .map_err(|e| config_error(format!("--jwks `{}`: {e}", path.display())))?,
        ),
        JwksSource::Url(url) => {
            let what = format!("--jwks `{url}`");
            let response = client
                .get(url)
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .map_err(|e| config_error(format!("{what}: {e}")))?;
            let bytes = response
                .bytes()
                .await
                .map_err(|e| config_error(format!("{what}: {e}")))?;
            (what, bytes.to_vec())
        }
    };
    parse_jwks(&bytes).map_err(|m| config_error(format!("{what}: {m}")))
}

#[derive(serde::Deserialize)]
struct RawSet {
    keys: Vec<Value>,
}

/// The signing keys of a JWKS document; keys of other types or uses are skipped with a warning,
/// symmetric (`oct`) keys refused (an HS256 secret belongs in its own file).
fn parse_jwks(bytes: &[u8]) -> std::result::Result<Vec<PublicKey>, String> {
    let raw: RawSet = serde_json::from_slice(bytes)
        .map_err(|e| format!("expected a JWKS (`{{\"keys\": [...]}}`): {e}"))?;
    let mut keys = Vec::new();
    let mut kids = HashSet::new();
    for (i, value) in raw.keys.into_iter().enumerate() {
        let jwk: Jwk = match serde_json::from_value(value) {
            Ok(jwk) => jwk,
            Err(e) => {
                tracing::warn!(index = i, error = %e, "JWKS key skipped: unsupported");
                continue;
            }
        };
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            continue;
        }
        let alg = match (&jwk.algorithm, jwk.common.key_algorithm) {
            (AlgorithmParameters::OctetKey(_), _) => {
                return Err(format!(
                    "keys[{i}] is a symmetric (`oct`) key; give an HS256 secret with --jwt-hs256-secret-file instead"
                ));
            }
            (_, Some(declared)) => match signing_algorithm(declared) {
                Some(alg) => alg,
                None => {
                    tracing::warn!(index = i, alg = %declared, "JWKS key skipped: not a signing algorithm tabship accepts");
                    continue;
                }
            },
            (AlgorithmParameters::RSA(_), None) => Algorithm::RS256,
            (AlgorithmParameters::EllipticCurve(ec), None) => match ec.curve {
                EllipticCurve::P256 => Algorithm::ES256,
                EllipticCurve::P384 => Algorithm::ES384,
                _ => continue,
            },
            (AlgorithmParameters::OctetKeyPair(_), None) => Algorithm::EdDSA,
        };
        let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("keys[{i}]: {e}"))?;
        if let Some(kid) = &jwk.common.key_id
            && !kids.insert(kid.clone())
        {
            return Err(format!("keys[{i}]: the key id `{kid}` appears twice"));
        }
        keys.push(PublicKey {
            kid: jwk.common.key_id.clone(),
            alg,
            key,
        });
    }
    Ok(keys)
}

fn signing_algorithm(declared: KeyAlgorithm) -> Option<Algorithm> {
    Some(match declared {
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn scopes_map_through_the_prefix_from_scope_scp_or_a_named_claim() {
        let mut config = JwtConfig::new("iss", "aud");
        config.scope_prefix = "tabship:".to_owned();
        let p = principal(
            &config,
            &claims(json!({"sub": "a", "scope": "openid tabship:predict predict tabship:admin"})),
        )
        .expect("principal");
        assert_eq!(p.scopes, [Scope::Predict, Scope::Admin]);
        let p = principal(
            &config,
            &claims(json!({"sub": "a", "scp": ["tabship:metrics"]})),
        )
        .expect("principal");
        assert_eq!(p.scopes, [Scope::Metrics]);
        config.scope_claim = Some("roles".to_owned());
        config.username_claim = "azp".to_owned();
        let p = principal(
            &config,
            &claims(json!({"azp": "svc", "scope": "tabship:admin", "roles": ["tabship:feedback"]})),
        )
        .expect("principal");
        assert_eq!(
            (&*p.username, p.scopes.as_slice()),
            ("svc", &[Scope::Feedback][..])
        );
        let e = principal(&config, &claims(json!({"sub": "a"}))).expect_err("no azp");
        assert!(e.contains("`azp`"), "{e}");
    }

    #[test]
    fn jwks_documents_keep_signing_keys_and_refuse_secrets_and_duplicates() {
        let ed = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "a"});
        let mut enc = ed.clone();
        enc["kid"] = json!("b");
        enc["use"] = json!("enc");
        let keys = parse_jwks(
            json!({"keys": [ed, enc, {"kty": "unknown"}]})
                .to_string()
                .as_bytes(),
        )
        .expect("parses");
        assert_eq!(keys.len(), 1);
        assert_eq!(
            (keys[0].kid.as_deref(), keys[0].alg),
            (Some("a"), Algorithm::EdDSA)
        );
        let e = parse_jwks(br#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#).expect_err("oct");
        assert!(e.contains("symmetric"), "{e}");
        let twice = json!({"keys": [ed, ed]}).to_string();
        assert!(
            parse_jwks(twice.as_bytes())
                .expect_err("twice")
                .contains("twice")
        );
        assert!(parse_jwks(b"[]").expect_err("not a set").contains("JWKS"));
    }

    #[test]
    fn declared_algorithms_are_read_for_the_message() {
        use base64::Engine as _;
        let head = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#);
        assert_eq!(
            declared_alg(&format!("{head}.e30.")).as_deref(),
            Some("none")
        );
        assert_eq!(declared_alg("garbage"), None);
    }
}
