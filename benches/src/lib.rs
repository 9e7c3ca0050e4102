//! Fixtures shared by the benchmarks: the committed adult pipeline and rows to score.
//!
//! Run the benchmarks with `cargo bench -p tabship-benches`.

use std::collections::HashMap;
use std::path::PathBuf;

use tabship::{Batch, Pipeline, TextBatchBuilder, Value};

pub use tabship_test_support::testdata;

/// The full adult data (`../shared/data/adult.csv`, 32,561 rows) when it is beside the checkout,
/// else the committed 8,141-row sample: its path and its rows.
pub fn adult_training_data() -> (PathBuf, Batch) {
    use tabship_train::data::{KindOverrides, read_csv};
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/adult.csv");
    let path = if shared.exists() {
        shared
    } else {
        testdata("adult_sample.csv")
    };
    let data = read_csv(&path, &KindOverrides::default()).expect("adult data reads");
    (path, data)
}

/// A data file of the shared data directory beside the checkout (`../shared/data/NAME` from the
/// main checkout, `../../shared/data/NAME` from a worktree under `wt/`), if present.
pub fn shared_data(name: &str) -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    ["../shared/data", "../../shared/data"]
        .iter()
        .map(|dir| root.join(dir).join(name))
        .find(|p| p.exists())
}

/// The adult logistic pipeline committed as a golden artifact.
pub fn adult_pipeline() -> Pipeline {
    Pipeline::load(testdata("golden/adult_logistic.tabship")).expect("golden artifact loads")
}

fn adult_rows() -> (Vec<String>, Vec<csv::StringRecord>) {
    tabship_test_support::read_csv(&testdata("adult_sample.csv"))
}

/// `n` adult rows (the 8,141-row sample repeated) as a batch for `pipeline`.
pub fn adult_batch(pipeline: &Pipeline, n: usize) -> Batch {
    let (header, rows) = adult_rows();
    let mut builder = TextBatchBuilder::new(pipeline.schema(), &header).expect("schema matches");
    for row in rows.iter().cycle().take(n) {
        builder.push_row(row.iter()).expect("row parses");
    }
    builder.finish()
}

/// One adult row as a JSON-like record: column name → typed value.
pub fn adult_record(pipeline: &Pipeline) -> HashMap<String, Value> {
    let (header, rows) = adult_rows();
    let row = &rows[0];
    header
        .iter()
        .zip(row.iter())
        .filter(|(name, _)| pipeline.schema().position(name).is_some())
        .map(|(name, text)| {
            let value = match text.parse::<f64>() {
                Ok(x) => Value::Number(x),
                Err(_) => Value::Text(text.to_owned()),
            };
            (name.clone(), value)
        })
        .collect()
}

/// The adult forest of the targets: 100 trees of depth 10, trained on
/// `../shared/data/adult.csv` beside the checkout (or the committed sample when it is absent).
pub fn adult_forest() -> Pipeline {
    use tabship_train::{ModelKind, TrainOptions, train};
    let (path, data) = adult_training_data();
    let mut options = TrainOptions::new("income");
    options.model = Some(ModelKind::RandomForest);
    options.trees.n_trees = 100;
    options.trees.max_depth = Some(10);
    let trained = train(&data, &options).expect("forest trains");
    eprintln!(
        "adult forest from {}: {} nodes, accuracy {:.4}, fitted in {:.2}s",
        path.display(),
        match trained.pipeline.model() {
            tabship::Model::TreeEnsemble(e) => e.n_nodes(),
            _ => 0,
        },
        trained.report.metrics["accuracy"],
        trained.report.fit_seconds
    );
    trained.pipeline
}
