//! Imported gradient-boosted trees from Rust: the XGBoost (500 trees, depth 6) and LightGBM
//! (100 trees × 31 leaves) adult models of `benches/compare/imported.py`, without Python.
//!
//! The models are trained and imported by that script, which keeps them with `--out DIR`:
//!
//! ```sh
//! .venv/bin/python benches/compare/imported.py --out /tmp/imported
//! TABSHIP_IMPORTED=/tmp/imported cargo bench -p tabship-benches --bench imported
//! ```
//!
//! Without `TABSHIP_IMPORTED` the bench measures nothing and says so (`cargo bench` of the
//! whole crate still runs). Single rows are scored from a map of column name to value (the
//! service path, text categories included); batches are 100k rows (the script's `rows.csv`
//! repeated) of probabilities on 1 thread.

#![allow(missing_docs)] // criterion_group! generates undocumented functions

use std::collections::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tabship::{Batch, Pipeline, TextBatchBuilder, Value};

/// `n` rows of `rows.csv` (repeated) as a batch, and the first row as a record.
fn rows(pipeline: &Pipeline, path: &Path, n: usize) -> (Batch, HashMap<String, Value>) {
    let (header, rows) = tabship_test_support::read_csv(path);
    let mut builder = TextBatchBuilder::new(pipeline.schema(), &header).expect("schema matches");
    for row in rows.iter().cycle().take(n) {
        builder.push_row(row.iter()).expect("row parses");
    }
    let record = header
        .iter()
        .zip(rows[0].iter())
        .filter(|(name, _)| pipeline.schema().position(name).is_some())
        .map(|(name, text)| {
            let value = match text.parse::<f64>() {
                Ok(x) => Value::Number(x),
                Err(_) => Value::Text(text.to_owned()),
            };
            (name.clone(), value)
        })
        .collect();
    (builder.finish(), record)
}

fn imported(c: &mut Criterion) {
    let Some(dir) = std::env::var_os("TABSHIP_IMPORTED").map(PathBuf::from) else {
        eprintln!(
            "imported: TABSHIP_IMPORTED is not set; run benches/compare/imported.py --out DIR \
             first (nothing measured)"
        );
        return;
    };
    for name in ["xgboost", "lightgbm"] {
        let path = dir.join(format!("{name}.tabship"));
        let mut pipeline = Pipeline::load(&path).expect("imported artifact loads");
        pipeline.set_threads(1);
        let n = 100_000;
        let (batch, record) = rows(&pipeline, &dir.join("rows.csv"), n);
        let mut group = c.benchmark_group(format!("imported_{name}"));
        group.throughput(Throughput::Elements(1));
        group.bench_function("single_row/predict_proba_one", |b| {
            b.iter(|| pipeline.predict_proba_one(black_box(&record)))
        });
        group.throughput(Throughput::Elements(n as u64));
        group.sample_size(10);
        group.bench_function("batch_100k/predict_proba_batch/1_threads", |b| {
            b.iter(|| pipeline.predict_proba_batch(black_box(&batch)))
        });
        group.finish();
    }
}

criterion_group!(benches, imported);
criterion_main!(benches);
