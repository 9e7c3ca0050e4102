//! Rate limits per principal and over the whole server (`--rate-limit`, `--global-rate-limit`),
//! with `governor`'s GCRA limiters. Checked by the scoped routes' gate after authentication (see
//! [`crate::access`]), so health probes and open pages are never limited and an unauthenticated
//! request cannot spend a principal's budget. A refused request is answered 429 `rate_limited`
//! with `Retry-After` and counted in `tabship_rate_limited_total{limit}`.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};

use crate::error::ApiError;

/// A rate such as `200/s`, `50/m` or `1000/h`, with a burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests per `per`.
    pub count: NonZeroU32,
    /// The period of `count`.
    pub per: Duration,
    /// Requests that may arrive at once after a quiet time (default: `count`).
    pub burst: NonZeroU32,
}

impl RateLimit {
    /// Parses `N/s`, `N/m` or `N/h` (also `N/second`, `N/minute`, `N/hour`), burst `N`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("expected a rate such as `200/s`, `50/m` or `1000/h`, got `{text}`");
        let (count, unit) = text.trim().split_once('/').ok_or_else(bad)?;
        let count: NonZeroU32 = count.trim().parse().map_err(|_| bad())?;
        let per = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        Ok(RateLimit {
            count,
            per,
            burst: count,
        })
    }

    /// The same rate with another burst.
    pub fn with_burst(self, burst: NonZeroU32) -> Self {
        RateLimit { burst, ..self }
    }

    fn quota(self) -> Quota {
        let period = (self.per / self.count.get()).max(Duration::from_nanos(1));
        #[allow(clippy::expect_used)]
        Quota::with_period(period)
            .expect("a period of at least 1 ns")
            .allow_burst(self.burst)
    }
}

/// Principals remembered before idle ones are forgotten (their bucket is full again anyway).
const MAX_PRINCIPALS: usize = 10_000;

/// The limiters of a server.
#[derive(Debug, Default)]
pub(crate) struct Limits {
    per_principal: Option<DefaultKeyedRateLimiter<Arc<str>>>,
    global: Option<DefaultDirectRateLimiter>,
}

/// The principal of requests without a username (a server without keys or JWT).
const ANONYMOUS: &str = "anonymous";

impl Limits {
    pub(crate) fn new(per_principal: Option<RateLimit>, global: Option<RateLimit>) -> Self {
        Limits {
            per_principal: per_principal.map(|r| governor::RateLimiter::keyed(r.quota())),
            global: global.map(|r| governor::RateLimiter::direct(r.quota())),
        }
    }

    /// True when any limit is set.
    pub(crate) fn enabled(&self) -> bool {
        self.per_principal.is_some() || self.global.is_some()
    }

    /// Takes one request of `username`'s budget, then of the global one: `Err` with the limit
    /// name (`principal`, `global`) and the seconds to wait when either is spent. A request the
    /// principal's limit refuses takes nothing from the global budget.
    pub(crate) fn check(&self, username: Option<&Arc<str>>) -> Result<(), (&'static str, u64)> {
        let clock = DefaultClock::default();
        if let Some(limiter) = &self.per_principal {
            if limiter.len() > MAX_PRINCIPALS {
                limiter.retain_recent();
            }
            let key = username.cloned().unwrap_or_else(|| Arc::from(ANONYMOUS));
            if let Err(not_until) = limiter.check_key(&key) {
                return Err(("principal", seconds(not_until.wait_time_from(clock.now()))));
            }
        }
        if let Some(limiter) = &self.global
            && let Err(not_until) = limiter.check()
        {
            return Err(("global", seconds(not_until.wait_time_from(clock.now()))));
        }
        Ok(())
    }
}

/// Whole seconds to wait, at least 1 (`Retry-After` has no fractions).
fn seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0).max(u64::from(wait.is_zero()))
}

/// The 429 answer of a spent limit.
pub(crate) fn refusal(limit: &str, retry_after: u64) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!(
            "the {} rate limit is spent; retry in {retry_after} s",
            if limit == "global" {
                "server's"
            } else {
                "caller's"
            }
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_refuse_nonsense() {
        let r = RateLimit::parse("200/s").expect("rate");
        assert_eq!(
            (r.count.get(), r.per, r.burst.get()),
            (200, Duration::from_secs(1), 200)
        );
        assert_eq!(
            RateLimit::parse("5/m").expect("rate").per,
            Duration::from_secs(60)
        );
        for bad in ["200", "0/s", "x/s", "5/d", ""] {
            let e = RateLimit::parse(bad).expect_err(bad);
            assert!(e.contains(&format!("`{bad}`")), "{e}");
        }
    }

    #[test]
    fn a_burst_passes_then_refuses_per_principal() {
        let limit = RateLimit::parse("1/h")
            .expect("rate")
            .with_burst(NonZeroU32::new(3).expect("3"));
        let limits = Limits::new(Some(limit), None);
        let ana: Arc<str> = Arc::from("ana");
        let bo: Arc<str> = Arc::from("bo");
        for _ in 0..3 {
            assert!(limits.check(Some(&ana)).is_ok());
        }
        let (which, wait) = limits.check(Some(&ana)).expect_err("spent");
        assert_eq!(which, "principal");
        assert!((1..=3600).contains(&wait), "{wait}");
        assert!(
            limits.check(Some(&bo)).is_ok(),
            "another principal has its own budget"
        );
    }

    #[test]
    fn the_global_limit_covers_everyone() {
        let limits = Limits::new(None, RateLimit::parse("2/h").ok());
        assert!(limits.check(Some(&Arc::from("a"))).is_ok());
        assert!(limits.check(Some(&Arc::from("b"))).is_ok());
        assert_eq!(limits.check(None).expect_err("spent").0, "global");
    }

    #[test]
    fn waits_round_up_to_whole_seconds() {
        assert_eq!(seconds(Duration::ZERO), 1);
        assert_eq!(seconds(Duration::from_millis(10)), 1);
        assert_eq!(seconds(Duration::from_secs(2)), 2);
        assert_eq!(seconds(Duration::from_millis(2001)), 3);
    }
}
