//! Model staleness: each loaded version's age since its training finished (the artifact's
//! `training.created_at`), exported as `tabship_model_age_seconds`, and, with
//! `--max-model-age`, `tabship_model_stale` (1 past it) for an alert and a warning at start.
//!
//! A stale model is not made unready: every replica serves the same artifact, so readiness
//! failing on age would take the whole fleet out of the load balancer at the same moment — an
//! outage caused by a date, while the model predicts exactly as well as the minute before.
//! Staleness is a reason to retrain, reported where people and alert rules look.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::metrics::gauge_family;
use crate::registry::{Registry, RegistryCell};

/// Seconds from `created_at` (RFC 3339) to `now`; `None` when the artifact's time does not
/// parse (an imported model written with an empty time, a hand-made artifact).
pub fn age_seconds(created_at: &str, now: OffsetDateTime) -> Option<f64> {
    let trained = OffsetDateTime::parse(created_at, &Rfc3339).ok()?;
    Some((now - trained).as_seconds_f64())
}

/// Logs a warning for every loaded version older than `max_age`.
pub(crate) fn warn_stale(registry: &Registry, max_age: Option<Duration>) {
    let Some(max_age) = max_age else { return };
    let now = OffsetDateTime::now_utc();
    for (name, entry) in &registry.models {
        for (version, model) in &entry.versions {
            let trained = &model.pipeline.training().created_at;
            if let Some(age) = age_seconds(trained, now).filter(|a| *a > max_age.as_secs_f64()) {
                tracing::warn!(
                    model = %name,
                    version = %version,
                    trained_at = %trained,
                    age_days = format!("{:.1}", age / 86_400.0),
                    max_age_days = format!("{:.1}", max_age.as_secs_f64() / 86_400.0),
                    "model is older than --max-model-age: retrain it (tabship_model_stale is 1)"
                );
            }
        }
    }
}

/// The `/metrics` collector of the age gauges, read from the registry at each scrape.
#[derive(Debug)]
pub(crate) struct AgeCollector {
    pub(crate) models: Arc<RegistryCell>,
    pub(crate) max_age: Option<Duration>,
}

impl Collector for AgeCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let registry = self.models.load();
        let now = OffsetDateTime::now_utc();
        let (mut ages, mut stale) = (Vec::new(), Vec::new());
        for (name, entry) in &registry.models {
            for (version, model) in &entry.versions {
                let Some(age) = age_seconds(&model.pipeline.training().created_at, now) else {
                    continue;
                };
                let labels = vec![("model", name.clone()), ("version", version.clone())];
                if let Some(max) = self.max_age {
                    let over = age > max.as_secs_f64();
                    stale.push((labels.clone(), f64::from(u8::from(over))));
                }
                ages.push((labels, age));
            }
        }
        gauge_family(
            &mut encoder,
            "tabship_model_age_seconds",
            "Seconds since the loaded version's training finished (the artifact's created_at)",
            &ages,
        )?;
        gauge_family(
            &mut encoder,
            "tabship_model_stale",
            "1 when the loaded version is older than --max-model-age",
            &stale,
        )?;
        if let Some(max) = self.max_age {
            gauge_family(
                &mut encoder,
                "tabship_model_max_age_seconds",
                "The --max-model-age past which a version is stale",
                &[(Vec::new(), max.as_secs_f64())],
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_parse() {
        let now = OffsetDateTime::parse("2026-12-01T00:00:00Z", &Rfc3339).expect("a time");
        assert_eq!(age_seconds("2026-11-30T00:00:00.5Z", now), Some(86_399.5));
        assert_eq!(age_seconds("", now), None);
    }
}
