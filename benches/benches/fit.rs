//! Fitting the adult logistic regression (encoders, model and holdout metrics; no drift profile),
//! the path `tabship train` runs. Compare with scikit-learn in the same run with
//! `benches/compare/compare.py --cases adult:logistic` (0.18 s vs 0.27 s on the 2-core machine).
//! Run with: `cargo bench -p tabship-benches --bench fit`

#![allow(missing_docs)] // criterion_group! generates undocumented functions

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tabship_benches::adult_training_data;
use tabship_train::{TrainOptions, train};

fn fit(c: &mut Criterion) {
    let (path, data) = adult_training_data();
    let mut options = TrainOptions::new("income");
    options.profile = None;
    let trained = train(&data, &options).expect("trains");
    eprintln!(
        "adult logistic from {}: accuracy {:.4}",
        path.display(),
        trained.report.metrics["accuracy"]
    );
    let mut group = c.benchmark_group("adult_logistic");
    group.sample_size(10);
    group.bench_function("train", |b| {
        b.iter(|| train(black_box(&data), &options).expect("trains"))
    });
    group.finish();
}

criterion_group!(benches, fit);
criterion_main!(benches);
