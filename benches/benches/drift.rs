//! Drift monitoring costs on adult (13 columns).
//!
//! Targets (issue 5): profile capture adds at most 10% to fit time; a drift report over 100k live
//! rows takes at most 50 ms; a streaming update costs at most 1 µs per row.
//! Run with: `cargo bench -p tabship-benches --bench drift`

#![allow(missing_docs)] // criterion_group! generates undocumented functions

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tabship::drift::{Cell, DriftOptions, LiveColumn, Monitor, ProfileOptions, Window, report};
use tabship::{ColumnValues, Pipeline};
use tabship_benches::{adult_batch, testdata};
use tabship_train::data::{KindOverrides, read_csv};
use tabship_train::{TrainOptions, train};

fn profiled() -> Pipeline {
    Pipeline::load(testdata("golden/adult_logistic_profile.tabship")).expect("golden loads")
}

/// Fitting adult (logistic, 6.5k training rows) without a profile, and capturing the profile
/// (predictions on the training rows included) of the same rows.
fn capture_vs_fit(c: &mut Criterion) {
    let data = read_csv(&testdata("adult_sample.csv"), &KindOverrides::default()).expect("reads");
    let mut options = TrainOptions::new("income");
    options.profile = None;
    let trained = train(&data, &options).expect("trains");
    let train_rows = data.take(&trained.report.split.train);
    let mut group = c.benchmark_group("drift/capture_vs_fit");
    group.sample_size(10);
    group.bench_function("train_without_profile", |b| {
        b.iter(|| train(black_box(&data), &options).is_ok())
    });
    group.bench_function("capture_profile", |b| {
        b.iter(|| {
            trained
                .pipeline
                .capture_drift_profile(black_box(&train_rows), &ProfileOptions::default())
                .is_ok()
        })
    });
    group.finish();
}

fn report_100k(c: &mut Criterion) {
    let pipeline = profiled();
    let rows = 100_000;
    let batch = adult_batch(&pipeline, rows);
    let options = DriftOptions::default();
    let mut group = c.benchmark_group("drift/report_100k");
    group.throughput(Throughput::Elements(rows as u64));
    group.sample_size(20);
    group.bench_function("pipeline_drift_report", |b| {
        b.iter(|| pipeline.drift_report(black_box(&batch), &options).is_ok())
    });
    let sample = pipeline.drift_sample(&batch).expect("sample");
    let profile = pipeline.drift_profile().expect("profile").clone();
    group.bench_function("statistics_only", |b| {
        b.iter(|| report(&profile, black_box(&sample), &options).is_ok())
    });
    group.finish();
}

fn streaming(c: &mut Criterion) {
    let pipeline = profiled();
    let batch = adult_batch(&pipeline, 8192);
    // The rows as cells, as a server holding JSON records would pass them.
    let texts: Vec<Vec<Option<String>>> = pipeline
        .schema()
        .columns
        .iter()
        .map(|c| match batch.column(&c.name).expect("column") {
            ColumnValues::Categorical(v) => {
                (0..v.len()).map(|i| v.get(i).map(str::to_owned)).collect()
            }
            ColumnValues::Numeric(v) => v.iter().map(|_| None).collect(),
        })
        .collect();
    let rows: Vec<Vec<Cell<'_>>> = (0..batch.n_rows())
        .map(|r| {
            pipeline
                .schema()
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| match batch.column(&c.name).expect("column") {
                    ColumnValues::Numeric(v) => Cell::Number(v[r]),
                    ColumnValues::Categorical(_) => match &texts[i][r] {
                        Some(t) => Cell::Category(t),
                        None => Cell::Missing,
                    },
                })
                .collect()
        })
        .collect();
    let binner = pipeline.drift_binner().expect("profile").clone();
    let mut group = c.benchmark_group("drift/streaming");
    group.throughput(Throughput::Elements(rows.len() as u64));
    group.bench_function("observe_row_sliding_10k", |b| {
        b.iter_batched_ref(
            || Monitor::with_binner(binner.clone(), Window::sliding(10_000)).expect("monitor"),
            |m| {
                for row in &rows {
                    m.observe_row(black_box(row), None).expect("fits");
                }
            },
            BatchSize::SmallInput,
        )
    });
    let numbers: Vec<Vec<f64>> = pipeline
        .schema()
        .columns
        .iter()
        .map(|c| match batch.column(&c.name).expect("column") {
            ColumnValues::Numeric(v) => v.clone(),
            ColumnValues::Categorical(_) => Vec::new(),
        })
        .collect();
    let options: Vec<Vec<Option<&str>>> = texts
        .iter()
        .map(|col| col.iter().map(|t| t.as_deref()).collect())
        .collect();
    let columns: Vec<LiveColumn<'_>> = pipeline
        .schema()
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| match batch.column(&c.name).expect("column") {
            ColumnValues::Numeric(_) => LiveColumn::Numeric(&numbers[i]),
            ColumnValues::Categorical(_) => LiveColumn::Categorical(&options[i]),
        })
        .collect();
    group.bench_function("observe_batch_sliding_10k", |b| {
        b.iter_batched_ref(
            || Monitor::with_binner(binner.clone(), Window::sliding(10_000)).expect("monitor"),
            |m| m.observe(black_box(&columns), None).expect("fits"),
            BatchSize::SmallInput,
        )
    });
    let mut monitor =
        Monitor::with_binner(binner.clone(), Window::sliding(10_000)).expect("monitor");
    monitor.observe(&columns, None).expect("fits");
    group.throughput(Throughput::Elements(1));
    group.bench_function("snapshot_and_report", |b| {
        b.iter(|| monitor.report(&DriftOptions::default()).is_ok())
    });
    group.finish();
}

criterion_group!(benches, capture_vs_fit, report_100k, streaming);
criterion_main!(benches);
