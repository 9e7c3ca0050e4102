//! Artifact load and save of the adult logistic pipeline.
//!
//! Run with: `cargo bench -p tabship-benches --bench artifact`

#![allow(missing_docs)] // criterion_group! generates undocumented functions

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tabship::Pipeline;
use tabship_benches::adult_pipeline;

fn artifact(c: &mut Criterion) {
    let pipeline = adult_pipeline();
    let bytes = pipeline.to_bytes().expect("encodes");
    eprintln!("adult logistic artifact: {} bytes", bytes.len());
    let dir = std::env::temp_dir().join(format!("tabship-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("adult.tabship");
    pipeline.save(&path).expect("saves");

    let mut group = c.benchmark_group("adult_logistic/artifact");
    group.bench_function("from_bytes", |b| {
        b.iter(|| Pipeline::from_bytes(black_box(&bytes)))
    });
    group.bench_function("to_bytes", |b| b.iter(|| black_box(&pipeline).to_bytes()));
    group.bench_function("load_file", |b| b.iter(|| Pipeline::load(black_box(&path))));
    group.bench_function("save_file_atomic", |b| {
        b.iter(|| black_box(&pipeline).save(&path))
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, artifact);
criterion_main!(benches);
