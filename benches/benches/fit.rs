//! Fitting the adult logistic regression (encoders, model and holdout metrics; no drift profile),
//! the path `tabship train` runs. Compare with scikit-learn in the same run with
//! `benches/compare/compare.py --cases adult:logistic` (0.18 s vs 0.27 s on the 2-core machine).
//! Also ridge on hotel_rates (`../shared/data/hotel_rates.csv`, 28 columns one-hot encoded to a
//! few hundred features, when present): the whole `train`, and the solve alone by tabship's own
//! Cholesky against smartcore's (the solver tabship used before), on the same encoded rows.
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

fn ridge(c: &mut Criterion) {
    let Some(path) = tabship_benches::shared_data("hotel_rates.csv") else {
        eprintln!("hotel_rates.csv not found beside the checkout; skipping the ridge benchmark");
        return;
    };
    let data = tabship_train::data::read_csv(&path, &Default::default()).expect("reads");
    let mut options = TrainOptions::new("avg_price_per_room");
    options.profile = None;
    let trained = train(&data, &options).expect("trains");
    let split = &trained.report.split;
    let x = trained
        .pipeline
        .encoder()
        .encode_dense(&data.take(&split.train))
        .expect("encodes");
    let Some(tabship::ColumnValues::Numeric(y)) = data.column("avg_price_per_room") else {
        panic!("numeric target");
    };
    let y: Vec<f64> = split.train.iter().map(|&r| y[r]).collect();
    eprintln!(
        "hotel_rates ridge: {} train rows x {} features, R² {:.4}",
        x.nrows(),
        x.ncols(),
        trained.report.metrics["r2"]
    );
    let mut group = c.benchmark_group("hotel_rates_ridge");
    group.sample_size(10);
    group.bench_function("train", |b| {
        b.iter(|| train(black_box(&data), &options).expect("trains"))
    });
    let params = tabship_train::LinearParams::default();
    group.bench_function("solve_tabship_cholesky", |b| {
        b.iter(|| {
            tabship_train::linear::FittedRegressor::fit(
                tabship_train::ModelKind::Ridge,
                black_box(&x),
                &y,
                &params,
            )
            .expect("fits")
        })
    });
    group.bench_function("solve_smartcore_cholesky", |b| {
        b.iter(|| {
            tabship_train::linear::smartcore_ridge_cholesky(black_box(&x), &y, 1.0).expect("fits")
        })
    });
    group.finish();
}

criterion_group!(benches, fit, ridge);
criterion_main!(benches);
