//! Shared by the fuzz targets: the golden models whose schemas the request decoders read, the
//! checks every prediction must pass, and a scratch directory for parsers that read files.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::LazyLock;

use tabship::Pipeline;
use tabship_serve::ApiError;
use tabship_serve::fuzzing::Scores;

/// The committed golden artifacts: a binary and a three-class classifier, a regressor, a forest
/// (categorical and numeric columns, drift profiles on two of them).
pub static MODELS: LazyLock<Vec<Pipeline>> = LazyLock::new(|| {
    [
        &include_bytes!("../../testdata/golden/iris_logistic.tabship")[..],
        &include_bytes!("../../testdata/golden/adult_logistic.tabship")[..],
        &include_bytes!("../../testdata/golden/diamonds_ridge.tabship")[..],
        &include_bytes!("../../testdata/golden/adult_forest.tabship")[..],
        &include_bytes!("../../testdata/golden/iris_tree.tabship")[..],
    ]
    .iter()
    .map(|bytes| Pipeline::from_bytes(bytes).expect("a golden artifact loads"))
    .collect()
});

/// The model an input's control byte picks.
pub fn model(control: u8) -> &'static Pipeline {
    &MODELS[usize::from(control) % MODELS.len()]
}

/// An error answered to a client: a 4xx with a message, and every offending value cut short (the
/// server echoes at most 80 characters of it).
pub fn check_client_error(e: &ApiError) {
    assert!(e.status.is_client_error(), "not a 4xx: {e:?}");
    assert!(!e.message.is_empty(), "an error without a message: {e:?}");
    for f in &e.fields {
        assert!(
            f.received.chars().count() <= 120,
            "field `{}`: the offending value is echoed whole ({} characters)",
            f.field,
            f.received.chars().count()
        );
    }
}

/// What every prediction must hold: one output per row; for a classifier a class index in range
/// and probabilities that are finite, within [0, 1] and sum to 1.
pub fn check_scores(pipeline: &Pipeline, scores: &Scores, rows: usize) {
    match scores {
        Scores::Classes { classes, proba } => {
            let k = pipeline.classes().len();
            assert_eq!(classes.len(), rows);
            assert_eq!(proba.len(), rows * k);
            for (r, (&class, p)) in classes.iter().zip(proba.chunks(k)).enumerate() {
                assert!(class < k, "row {r}: class index {class} of {k}");
                assert!(
                    p.iter().all(|x| x.is_finite() && (0.0..=1.0).contains(x)),
                    "row {r}: probabilities {p:?}"
                );
                let sum: f64 = p.iter().sum();
                assert!(
                    (sum - 1.0).abs() < 1e-9,
                    "row {r}: probabilities sum to {sum}"
                );
            }
        }
        Scores::Values(values) => assert_eq!(values.len(), rows),
    }
}

/// A per-process scratch directory, in memory where the system has one (`/dev/shm`): the file
/// parsers write through `fsync`, which a disk would make the bottleneck.
pub static SCRATCH: LazyLock<PathBuf> = LazyLock::new(|| {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("tabship-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
});
