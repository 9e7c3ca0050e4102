//! `triggers.json` in the state directory: when each model last fired, so that a restart (or a
//! crash loop) does not fire again before the debounce has passed.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

const FILE: &str = "triggers.json";
const FORMAT: &str = "tabship-triggers";

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Saved {
    format: String,
    /// Per model, when it last fired, in seconds since the Unix epoch.
    last_fired: BTreeMap<String, f64>,
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// When each model last fired, as instants of this process; an unreadable file is logged and
/// ignored (the triggers start afresh), a time in the future is read as now.
pub(super) fn load(dir: &Path, now: Instant) -> BTreeMap<String, Instant> {
    let path = dir.join(FILE);
    let saved: Saved = match crate::persist::read_side_file(&path, "the trigger state") {
        Some(saved @ Saved { .. }) if saved.format == FORMAT => saved,
        Some(_) => {
            tracing::error!(path = %path.display(), "not a trigger state file; starting afresh");
            return BTreeMap::new();
        }
        None => return BTreeMap::new(),
    };
    let unix = unix_now();
    saved
        .last_fired
        .into_iter()
        .filter(|(_, t)| t.is_finite())
        .map(|(model, t)| {
            let ago = Duration::try_from_secs_f64((unix - t).max(0.0)).unwrap_or(Duration::ZERO);
            (model, now.checked_sub(ago).unwrap_or(now))
        })
        .collect()
}

/// Saves when each model last fired; a failure is logged (the trigger has fired already).
pub(super) fn save(dir: &Path, last_fired: &BTreeMap<String, Instant>) {
    let (now, unix) = (Instant::now(), unix_now());
    let saved = Saved {
        format: FORMAT.to_owned(),
        last_fired: last_fired
            .iter()
            .map(|(model, t)| {
                (
                    model.clone(),
                    unix - now.saturating_duration_since(*t).as_secs_f64(),
                )
            })
            .collect(),
    };
    crate::persist::save_side_file(&dir.join(FILE), &saved, "the trigger state");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_fired_survives_a_round_trip_and_bad_files_start_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let now = Instant::now();
        let fired = now.checked_sub(Duration::from_secs(600)).unwrap();
        save(dir.path(), &BTreeMap::from([("churn".to_owned(), fired)]));
        let loaded = load(dir.path(), now);
        let ago = now.saturating_duration_since(loaded["churn"]).as_secs_f64();
        assert!((ago - 600.0).abs() < 5.0, "{ago}");
        std::fs::write(dir.path().join(FILE), "{").unwrap();
        assert!(load(dir.path(), now).is_empty());
        std::fs::write(
            dir.path().join(FILE),
            r#"{"format": "other", "last_fired": {}}"#,
        )
        .unwrap();
        assert!(load(dir.path(), now).is_empty());
    }
}
