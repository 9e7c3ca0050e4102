//! Prediction speed of the adult logistic pipeline from Rust, on one core.
//!
//! Targets (issue 2): single row ≤ 1 µs; batch ≥ 5 million rows/s.
//! Run with: `cargo bench -p tabship-benches --bench predict`

#![allow(missing_docs)] // criterion_group! generates undocumented functions

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tabship_benches::{adult_batch, adult_pipeline, adult_record};

fn single_row(c: &mut Criterion) {
    let pipeline = adult_pipeline();
    let record = adult_record(&pipeline);
    let mut group = c.benchmark_group("adult_logistic/single_row");
    group.throughput(Throughput::Elements(1));
    group.bench_function("predict_one", |b| {
        b.iter(|| pipeline.predict_one(black_box(&record)).is_ok())
    });
    group.bench_function("predict_proba_one", |b| {
        b.iter(|| pipeline.predict_proba_one(black_box(&record)))
    });
    group.finish();
}

fn batch(c: &mut Criterion) {
    let pipeline = adult_pipeline();
    let rows = 100_000;
    let batch = adult_batch(&pipeline, rows);
    let mut group = c.benchmark_group("adult_logistic/batch_100k");
    group.throughput(Throughput::Elements(rows as u64));
    group.sample_size(30);
    group.bench_function("predict_batch", |b| {
        b.iter(|| pipeline.predict_batch(black_box(&batch)))
    });
    group.bench_function("predict_proba_batch", |b| {
        b.iter(|| pipeline.predict_proba_batch(black_box(&batch)))
    });
    group.finish();
}

criterion_group!(benches, single_row, batch);
criterion_main!(benches);
