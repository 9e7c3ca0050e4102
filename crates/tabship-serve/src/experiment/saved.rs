//! `experiments.json` in the state directory: each model's running sequential test (the two
//! versions, the per-arm counts, the running p-value and interval), so that a restart continues
//! the experiment instead of starting it from zero. Written atomically; a state that does not
//! match the restored split (other versions, another task, other test options) is discarded
//! with a log line, an unreadable file is logged and ignored.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tabship::drift::compare::Sequential;

const FILE: &str = "experiments.json";
/// The file's format and version (the test inside carries its own, checked on decode).
const FORMAT: &str = "tabship-experiments/1";

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Saved {
    format: String,
    models: BTreeMap<String, SavedRun>,
}

/// One model's running test.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SavedRun {
    pub(super) champion: String,
    pub(super) challenger: String,
    /// A decision was handed to `--auto-promote` already.
    pub(super) decided: bool,
    pub(super) test: Sequential,
}

/// The saved tests by model; nothing when there is no file, an error is logged when it cannot
/// be read or decoded.
pub(super) fn read(dir: &Path) -> BTreeMap<String, SavedRun> {
    let path = dir.join(FILE);
    match crate::persist::read_side_file::<Saved>(&path, "the experiments' state") {
        Some(saved) if saved.format == FORMAT => saved.models,
        Some(saved) => {
            tracing::error!(path = %path.display(), format = %saved.format, expected = FORMAT, "unknown experiments' state format; the tests start afresh");
            BTreeMap::new()
        }
        None => BTreeMap::new(),
    }
}

/// Saves the running tests; a failure is logged (the tests go on in memory).
pub(super) fn write(dir: &Path, models: BTreeMap<String, SavedRun>) {
    let saved = Saved {
        format: FORMAT.to_owned(),
        models,
    };
    crate::persist::save_side_file(&dir.join(FILE), &saved, "the experiments' state");
}

#[cfg(test)]
mod tests {
    use super::*;
    use tabship::drift::compare::{Arm, SequentialOptions};

    #[test]
    fn tests_round_trip_and_bad_files_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let mut test = Sequential::new(SequentialOptions::default()).unwrap();
        for i in 0..100 {
            test.observe(Arm::First, i % 3 == 0);
            test.observe(Arm::Second, i % 5 == 0);
        }
        let run = SavedRun {
            champion: "1".into(),
            challenger: "2".into(),
            decided: false,
            test: test.clone(),
        };
        write(dir.path(), BTreeMap::from([("churn".to_owned(), run)]));
        let back = read(dir.path());
        assert_eq!(back["churn"].test, test);
        assert_eq!(back["churn"].challenger, "2");
        let path = dir.path().join(FILE);
        let text = std::fs::read_to_string(&path).unwrap();
        // A test whose counts are impossible is refused as a whole.
        std::fs::write(&path, text.replacen("\"errors\": 34", "\"errors\": 340", 1)).unwrap();
        assert!(read(dir.path()).is_empty());
        std::fs::write(&path, text.replace(FORMAT, "tabship-experiments/9")).unwrap();
        assert!(read(dir.path()).is_empty());
        std::fs::write(&path, "{").unwrap();
        assert!(read(dir.path()).is_empty());
    }
}
