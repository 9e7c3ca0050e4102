//! The adult random forest (100 trees, depth 10) from Rust.
//!
//! Targets (issue 3): single row ≤ 10 µs; batch ≥ 500k rows/s per core; load ≤ 5 ms.
//! Run with: `cargo bench -p tabship-benches --bench forest`
//!
//! Single rows are scored from a map of column name to value (the service path); batches are the
//! 100k-row table of labels (`predict_batch`, on 1 and 2 threads) and of probabilities
//! (`predict_proba_batch`, 1 thread).

#![allow(missing_docs)] // criterion_group! generates undocumented functions

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tabship::Pipeline;
use tabship_benches::{adult_batch, adult_forest, adult_record};

fn forest(c: &mut Criterion) {
    let mut pipeline = adult_forest();
    let bytes = pipeline.to_bytes().expect("encodes");
    eprintln!("adult forest artifact: {} bytes", bytes.len());
    let record = adult_record(&pipeline);

    let mut group = c.benchmark_group("adult_forest");
    group.bench_function("load_from_bytes", |b| {
        b.iter(|| Pipeline::from_bytes(black_box(&bytes)))
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("single_row/predict_proba_one", |b| {
        b.iter(|| pipeline.predict_proba_one(black_box(&record)))
    });
    group.bench_function("single_row/predict_one", |b| {
        b.iter(|| pipeline.predict_one(black_box(&record)).is_ok())
    });
    let rows = 100_000;
    let batch = adult_batch(&pipeline, rows);
    group.throughput(Throughput::Elements(rows as u64));
    group.sample_size(10);
    for threads in [1, 2] {
        pipeline.set_threads(threads);
        group.bench_function(format!("batch_100k/predict_batch/{threads}_threads"), |b| {
            b.iter(|| pipeline.predict_batch(black_box(&batch)))
        });
    }
    pipeline.set_threads(1);
    group.bench_function("batch_100k/predict_proba_batch/1_threads", |b| {
        b.iter(|| pipeline.predict_proba_batch(black_box(&batch)))
    });
    group.finish();
}

criterion_group!(benches, forest);
criterion_main!(benches);
