//! `tabship serve`'s JWT and rate-limit flags, turned into the server's
//! [`JwtConfig`] and [`RateLimit`]s.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use tabship_serve::jwt::{JwksSource, JwtConfig};
use tabship_serve::ratelimit::RateLimit;

use crate::error::{Error, Result};

fn duration(text: &str) -> std::result::Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("expected a duration such as `30s` or `5m`, got `{text}`: {e}"))
}

/// JWT bearer tokens from an identity provider, and rate limits.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "JWT bearer tokens and rate limits")]
pub struct AuthArgs {
    /// Accept JWT access tokens from this issuer (the required `iss`), beside or instead of
    /// --keys: a token that is no key is verified as a JWT. Needs --jwt-audience and --jwks or
    /// --jwt-hs256-secret-file.
    #[arg(
        long,
        env = "TABSHIP_JWT_ISSUER",
        requires = "jwt_audience",
        value_name = "ISS"
    )]
    pub jwt_issuer: Option<String>,
    /// The audience a token must name in `aud` (this API's identifier at the provider).
    #[arg(
        long,
        env = "TABSHIP_JWT_AUDIENCE",
        requires = "jwt_issuer",
        value_name = "AUD"
    )]
    pub jwt_audience: Option<String>,
    /// The provider's public keys (RS256, ES256, EdDSA...): a JWKS file (offline; re-read on
    /// SIGHUP) or an https:// URL (refetched every --jwks-refresh and on an unknown `kid`).
    #[arg(
        long,
        env = "TABSHIP_JWKS",
        requires = "jwt_issuer",
        value_name = "FILE|URL"
    )]
    pub jwks: Option<String>,
    /// A file holding an HS256 shared secret (at least 32 bytes), for providers that sign with
    /// one; re-read on SIGHUP.
    #[arg(
        long,
        env = "TABSHIP_JWT_HS256_SECRET_FILE",
        requires = "jwt_issuer",
        value_name = "FILE"
    )]
    pub jwt_hs256_secret_file: Option<PathBuf>,
    /// Clock skew tolerated on `exp` and `nbf`.
    #[arg(long, value_parser = duration, default_value = "60s", value_name = "DURATION")]
    pub jwt_leeway: Duration,
    /// The claim holding the token's scopes [default: `scope` (space separated), else `scp`
    /// (a list)].
    #[arg(long, value_name = "CLAIM")]
    pub jwt_scope_claim: Option<String>,
    /// Token scopes `PREFIX<name>` grant tabship's scope `<name>` (predict, feedback, metrics,
    /// admin), e.g. `tabship:` for `tabship:predict`; other scopes are ignored.
    #[arg(long, default_value = "", value_name = "PREFIX")]
    pub jwt_scope_prefix: String,
    /// The claim naming the user (logs, answers, the prediction log).
    #[arg(long, default_value = "sub", value_name = "CLAIM")]
    pub jwt_username_claim: String,
    /// A URL JWKS older than this is refetched.
    #[arg(long, value_parser = duration, default_value = "5m", value_name = "DURATION")]
    pub jwks_refresh: Duration,
    /// The least time between two fetches of a URL JWKS (a token with an unknown `kid`
    /// triggers one), so made-up `kid`s cannot flood the provider.
    #[arg(long, value_parser = duration, default_value = "10s", value_name = "DURATION")]
    pub jwks_min_refetch: Duration,
    /// Requests per principal (key or token username; everyone is `anonymous` without auth) on
    /// the scoped routes: `200/s`, `50/m`, `1000/h`. Past it: 429 with Retry-After. Health
    /// probes are never limited.
    #[arg(long, env = "TABSHIP_RATE_LIMIT", value_parser = RateLimit::parse, value_name = "RATE")]
    pub rate_limit: Option<RateLimit>,
    /// Requests a principal may send at once after a quiet time [default: the rate's count].
    #[arg(long, requires = "rate_limit", value_name = "N")]
    pub rate_limit_burst: Option<NonZeroU32>,
    /// Requests over all principals on the scoped routes, as --rate-limit.
    #[arg(long, env = "TABSHIP_GLOBAL_RATE_LIMIT", value_parser = RateLimit::parse, value_name = "RATE")]
    pub global_rate_limit: Option<RateLimit>,
    /// The global limit's burst [default: its count].
    #[arg(long, requires = "global_rate_limit", value_name = "N")]
    pub global_rate_limit_burst: Option<NonZeroU32>,
}

impl AuthArgs {
    /// The JWT settings, `None` without --jwt-issuer.
    pub fn jwt(&self) -> Result<Option<JwtConfig>> {
        let (Some(issuer), Some(audience)) = (&self.jwt_issuer, &self.jwt_audience) else {
            return Ok(None);
        };
        if self.jwks.is_none() && self.jwt_hs256_secret_file.is_none() {
            return Err(Error::Usage(
                "--jwt-issuer needs --jwks FILE|URL or --jwt-hs256-secret-file to verify signatures"
                    .to_owned(),
            ));
        }
        let mut config = JwtConfig::new(issuer.clone(), audience.clone());
        config.jwks = self.jwks.as_deref().map(JwksSource::parse);
        config.hs256_secret_file = self.jwt_hs256_secret_file.clone();
        config.leeway = self.jwt_leeway;
        config.scope_claim = self.jwt_scope_claim.clone();
        config.scope_prefix = self.jwt_scope_prefix.clone();
        config.username_claim = self.jwt_username_claim.clone();
        config.jwks_refresh = self.jwks_refresh;
        config.jwks_min_refetch = self.jwks_min_refetch;
        Ok(Some(config))
    }

    /// The per-principal limit with its burst.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.rate_limit
            .map(|r| self.rate_limit_burst.map_or(r, |b| r.with_burst(b)))
    }

    /// The global limit with its burst.
    pub fn global_rate_limit(&self) -> Option<RateLimit> {
        self.global_rate_limit
            .map(|r| self.global_rate_limit_burst.map_or(r, |b| r.with_burst(b)))
    }
}
