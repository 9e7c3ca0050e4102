//! JWT bearer tokens in process: an Ed25519 JWKS file and an HS256 secret file, tokens minted
//! with `jsonwebtoken`; each refusal's status, code and RFC 6750 challenge; keys and JWT together;
//! a rotated JWKS picked up by a reload (what SIGHUP runs). And the rate limits.

use std::num::NonZeroU32;

use axum::http::{Method, StatusCode};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde_json::{Value, json};
use tabship_serve::Options;
use tabship_serve::jwt::{JwksSource, JwtConfig};
use tabship_serve::ratelimit::RateLimit;

use crate::common::*;

const ISSUER: &str = "https://idp.example.test/";
const AUDIENCE: &str = "tabship-api";
const SECRET: &str = "an-hs256-secret-of-at-least-32-bytes!";

/// An Ed25519 key pair: its signing key and its public JWK.
fn ed25519(kid: &str) -> (EncodingKey, Value) {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("key pair");
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("parse");
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
    (
        EncodingKey::from_ed_der(pkcs8.as_ref()),
        json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig"}),
    )
}

fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

fn claims(scope: &str) -> Value {
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "svc-scoring", "exp": now() + 600, "iat": now(), "scope": scope})
}

fn mint(key: &EncodingKey, alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).expect("token")
}

struct Served {
    _dir: tempfile::TempDir,
    jwks: std::path::PathBuf,
    state: std::sync::Arc<tabship_serve::AppState>,
    app: axum::Router,
}

async fn served(jwks: &[Value], options: Options) -> Served {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("jwks.json");
    std::fs::write(&path, json!({ "keys": jwks }).to_string()).expect("jwks");
    let secret = dir.path().join("hs256.secret");
    std::fs::write(&secret, format!("{SECRET}\n")).expect("secret");
    let mut config = JwtConfig::new(ISSUER, AUDIENCE);
    config.jwks = Some(JwksSource::File(path.clone()));
    config.hs256_secret_file = Some(secret);
    config.scope_prefix = "tabship:".to_owned();
    config.leeway = std::time::Duration::from_secs(5);
    let state = state_with(
        Some(keys()),
        Options {
            jwt: Some(config),
            ..options
        },
    );
    state.reload_jwt().await.expect("JWT settings load");
    let app = tabship_serve::router(state.clone());
    Served {
        _dir: dir,
        jwks: path,
        state,
        app,
    }
}

async fn predict(app: &axum::Router, token: &str) -> Answer {
    let auth = bearer(token);
    send(
        app,
        Method::POST,
        "/predict",
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        setosa().to_string(),
    )
    .await
}

/// Asserts an RFC 6750 refusal: status, JSON code and the `WWW-Authenticate` challenge.
fn refused(answer: &Answer, status: StatusCode, code: &str, why: &str) {
    let error = answer.error(status, code);
    let challenge = answer.headers["www-authenticate"].to_str().expect("ascii");
    assert!(
        challenge.starts_with("Bearer ") && challenge.contains(&format!("error=\"{code}\"")),
        "{challenge}"
    );
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains(why), "{message} lacks {why}");
}

#[tokio::test]
async fn tokens_verify_and_each_bad_one_is_refused_for_its_reason() {
    let (key, jwk) = ed25519("k1");
    let jwk_x = jwk["x"].as_str().expect("x").to_owned();
    let s = served(&[jwk], Options::default()).await;
    let good = mint(
        &key,
        Algorithm::EdDSA,
        Some("k1"),
        &claims("openid tabship:predict"),
    );
    let ok = predict(&s.app, &good).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.json()["username"], "svc-scoring");

    let mut expired = claims("tabship:predict");
    expired["exp"] = json!(now() - 60);
    let a = predict(&s.app, &mint(&key, Algorithm::EdDSA, Some("k1"), &expired)).await;
    refused(&a, StatusCode::UNAUTHORIZED, "invalid_token", "expired");

    let mut early = claims("tabship:predict");
    early["nbf"] = json!(now() + 600);
    let a = predict(&s.app, &mint(&key, Algorithm::EdDSA, Some("k1"), &early)).await;
    refused(
        &a,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "not valid yet",
    );

    let mut other_aud = claims("tabship:predict");
    other_aud["aud"] = json!("another-api");
    let a = predict(
        &s.app,
        &mint(&key, Algorithm::EdDSA, Some("k1"), &other_aud),
    )
    .await;
    refused(&a, StatusCode::UNAUTHORIZED, "invalid_token", "audience");

    let (stranger, _) = ed25519("k1");
    let a = predict(
        &s.app,
        &mint(
            &stranger,
            Algorithm::EdDSA,
            Some("k1"),
            &claims("tabship:predict"),
        ),
    )
    .await;
    refused(&a, StatusCode::UNAUTHORIZED, "invalid_token", "signature");

    // Unprefixed `predict` grants nothing with the `tabship:` prefix.
    let a = predict(
        &s.app,
        &mint(&key, Algorithm::EdDSA, Some("k1"), &claims("predict")),
    )
    .await;
    refused(
        &a,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        "`predict` scope",
    );

    // Unsigned, and HS256 keyed with what an attacker knows (the public key): refused.
    let unsigned = format!(
        "{}.{}.",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(claims("tabship:predict").to_string())
    );
    let a = predict(&s.app, &unsigned).await;
    refused(
        &a,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "`none` is not accepted",
    );
    let public = jwk_x.as_bytes();
    let confused = mint(
        &EncodingKey::from_secret(public),
        Algorithm::HS256,
        Some("k1"),
        &claims("tabship:predict"),
    );
    let a = predict(&s.app, &confused).await;
    refused(&a, StatusCode::UNAUTHORIZED, "invalid_token", "signature");

    let a = predict(&s.app, "not.a.jwt").await;
    refused(
        &a,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "not a valid JWT",
    );

    // The keys file still works beside JWT, with its own codes.
    assert_eq!(predict(&s.app, PREDICT_TOKEN).await.status, StatusCode::OK);
    get_with_token(&s.app, "/metrics", &bearer(PREDICT_TOKEN))
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");

    // HS256 with the configured secret; `scp` as a list.
    let mut listed = claims("");
    listed["scp"] = json!(["tabship:metrics"]);
    listed.as_object_mut().expect("object").remove("scope");
    let hs = mint(
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS256,
        None,
        &listed,
    );
    let a = get_with_token(&s.app, "/metrics", &bearer(&hs)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert!(
        a.text()
            .contains("tabship_jwt_reloads_total{result=\"ok\"} 1")
    );
}

#[tokio::test]
async fn a_rotated_jwks_is_picked_up_by_a_reload_and_a_broken_one_keeps_the_keys() {
    let (old, old_jwk) = ed25519("2026-11");
    let s = served(std::slice::from_ref(&old_jwk), Options::default()).await;
    let (new, new_jwk) = ed25519("2026-12");
    let token = mint(
        &new,
        Algorithm::EdDSA,
        Some("2026-12"),
        &claims("tabship:predict"),
    );
    let a = predict(&s.app, &token).await;
    refused(
        &a,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "unknown key id",
    );

    std::fs::write(&s.jwks, json!({"keys": [old_jwk, new_jwk]}).to_string()).expect("rotate");
    assert_eq!(s.state.reload_jwt().await.expect("reload"), 2);
    assert_eq!(predict(&s.app, &token).await.status, StatusCode::OK);

    std::fs::write(
        &s.jwks,
        "{\"keys\": [{\"kty\": \"oct\", \"k\": \"c2VjcmV0\"}]}",
    )
    .expect("break");
    let e = s
        .state
        .reload_jwt()
        .await
        .expect_err("a symmetric key is refused");
    assert!(e.to_string().contains("symmetric"), "{e}");
    let still = mint(
        &old,
        Algorithm::EdDSA,
        Some("2026-11"),
        &claims("tabship:predict"),
    );
    assert_eq!(predict(&s.app, &still).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_bounded_burst_passes_then_429_per_principal_health_and_others_unaffected() {
    let burst = 3;
    let limit = RateLimit::parse("1/h")
        .expect("rate")
        .with_burst(NonZeroU32::new(burst).expect("burst"));
    let (key, jwk) = ed25519("k1");
    let s = served(
        &[jwk],
        Options {
            rate_limit: Some(limit),
            ..Options::default()
        },
    )
    .await;
    let token = mint(
        &key,
        Algorithm::EdDSA,
        Some("k1"),
        &claims("tabship:predict"),
    );
    let mut statuses = Vec::new();
    for _ in 0..burst + 2 {
        statuses.push(predict(&s.app, &token).await.status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    let a = predict(&s.app, &token).await;
    a.error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let wait: u64 = a.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=3600).contains(&wait), "{wait}");
    for _ in 0..10 {
        assert_eq!(get(&s.app, "/health/live").await.status, StatusCode::OK);
        assert_eq!(get(&s.app, "/health/ready").await.status, StatusCode::OK);
    }
    assert_eq!(predict(&s.app, PREDICT_TOKEN).await.status, StatusCode::OK);
    let metrics = get_with_token(&s.app, "/metrics", &bearer(ALL_TOKEN))
        .await
        .text();
    assert!(
        metrics.contains("tabship_rate_limited_total{limit=\"principal\"} 3"),
        "{metrics}"
    );
}

#[tokio::test]
async fn the_openapi_document_names_the_jwt_scheme() {
    let (_, jwk) = ed25519("k1");
    let s = served(&[jwk], Options::default()).await;
    let doc = get_with_token(&s.app, "/openapi.json", &bearer(PREDICT_TOKEN))
        .await
        .json();
    let scheme = &doc["components"]["securitySchemes"]["jwt"];
    assert_eq!(scheme["bearerFormat"], "JWT");
    assert!(
        scheme["description"]
            .as_str()
            .is_some_and(|d| d.contains(ISSUER))
    );
    assert_eq!(
        doc["paths"]["/predict"]["post"]["security"],
        json!([{"bearer": []}, {"jwt": []}])
    );
    assert!(doc["paths"]["/health/live"]["get"]["security"] == json!([]));
}
