//! Drift on adult, end to end: a profile captured at fit time, live data from the held-out rows.
//! A shifted column is flagged alone; iid resamples of held-out rows are (almost) never flagged.

use std::sync::OnceLock;

use rand::SeedableRng;
use tabship::drift::{DriftOptions, DriftReport, Statistic};
use tabship::{Batch, CategoricalValues, ColumnValues, Pipeline};
use tabship_train::{TrainOptions, train};

use crate::testdata;

/// The adult pipeline (trained once) and its held-out rows.
fn adult() -> &'static (Pipeline, Batch) {
    static ADULT: OnceLock<(Pipeline, Batch)> = OnceLock::new();
    ADULT.get_or_init(|| {
        let data = testdata("adult_sample.csv");
        let trained = train(&data, &TrainOptions::new("income")).expect("trains");
        assert_eq!(
            trained.report.dropped_rows, 0,
            "split indices are data rows"
        );
        let held_out = data.take(&trained.report.split.test);
        (trained.pipeline, held_out)
    })
}

fn with_column(batch: &Batch, name: &str, values: ColumnValues) -> Batch {
    let columns = batch
        .names()
        .iter()
        .map(|n| {
            let v = if n == name {
                values.clone()
            } else {
                batch.column(n).expect("column").clone()
            };
            (n.clone(), v)
        })
        .collect();
    Batch::new(columns).expect("same shape")
}

fn report(pipeline: &Pipeline, batch: &Batch) -> DriftReport {
    pipeline
        .drift_report(batch, &DriftOptions::default())
        .expect("report")
}

#[test]
fn held_out_rows_do_not_drift() {
    let (pipeline, held_out) = adult();
    let r = report(pipeline, held_out);
    assert!(r.drifted_names().is_empty(), "{:?}", r.drifted_names());
    assert!(!r.drifted);
    assert_eq!(
        r.column("age").map(|c| c.statistic),
        Some(Statistic::Wasserstein)
    );
}

#[test]
fn shifting_age_by_half_a_std_flags_age_only() {
    let (pipeline, held_out) = adult();
    let std = match pipeline
        .drift_profile()
        .and_then(|p| p.column("age"))
        .map(|c| &c.distribution)
    {
        Some(tabship::drift::Distribution::Numeric(p)) => p.std,
        _ => panic!("age is profiled as numeric"),
    };
    let Some(ColumnValues::Numeric(age)) = held_out.column("age") else {
        panic!("age is numeric")
    };
    let shifted: Vec<f64> = age.iter().map(|a| a + 0.5 * std).collect();
    // Large sample (1,627 rows): Wasserstein / std.
    let big = with_column(held_out, "age", ColumnValues::Numeric(shifted.clone()));
    let r = report(pipeline, &big);
    assert_eq!(r.drifted_names(), ["age"]);
    let age_report = r.column("age").expect("age");
    let w = age_report.wasserstein.expect("numeric");
    assert!((0.4..0.6).contains(&w), "normed Wasserstein {w}");
    let shift = age_report.mean_shift.expect("numeric");
    assert!((0.4..0.6).contains(&shift), "mean shift {shift} stds");
    assert!(!r.drifted, "one column of 13 is not a dataset drift");
    // Small sample (400 rows): the KS p-value test flags it too.
    let rows: Vec<usize> = (0..400).collect();
    let small = big.take(&rows);
    let r = report(pipeline, &small);
    let age_report = r.column("age").expect("age");
    assert_eq!(age_report.statistic, Statistic::Ks);
    assert!(age_report.drifted, "{age_report:?}");
}

#[test]
fn changing_the_workclass_mix_flags_workclass_only() {
    let (pipeline, held_out) = adult();
    let Some(ColumnValues::Categorical(workclass)) = held_out.column("workclass") else {
        panic!("workclass is categorical")
    };
    // Every other `Private` row becomes `Self-emp-not-inc`.
    let mut flip = false;
    let changed =
        CategoricalValues::from_options((0..workclass.len()).map(|i| match workclass.get(i) {
            Some("Private") => {
                flip = !flip;
                Some(if flip { "Self-emp-not-inc" } else { "Private" })
            }
            other => other,
        }));
    let live = with_column(held_out, "workclass", ColumnValues::Categorical(changed));
    let r = report(pipeline, &live);
    assert_eq!(r.drifted_names(), ["workclass"]);
    let c = r.column("workclass").expect("workclass");
    assert_eq!(c.statistic, Statistic::JensenShannon);
    assert!(c.value >= 0.1 && c.psi > 0.1, "{c:?}");
    // The model's predictions move with the inputs, and are reported (not counted as a column).
    assert!(r.prediction.is_some());
}

/// Measured false-alarm rate at the defaults: 100 iid resamples of held-out rows.
#[test]
fn iid_resamples_are_flagged_in_at_most_5_percent_of_100_trials() {
    let (pipeline, held_out) = adult();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2024);
    let n = held_out.n_rows();
    let (mut dataset_alarms, mut column_alarms, mut columns) = (0, 0, 0);
    for trial in 0..100 {
        // Half the trials in the p-value regime (500 rows), half with distances (1,200 rows).
        // Rows are drawn without replacement: a subsample of the held-out rows is an iid sample
        // of the population (drawing with replacement would add the held-out set's own noise).
        let size = if trial % 2 == 0 { 500 } else { 1200 };
        let rows = rand::seq::index::sample(&mut rng, n, size).into_vec();
        let r = report(pipeline, &held_out.take(&rows));
        dataset_alarms += usize::from(r.drifted);
        column_alarms += r.drifted_columns;
        columns += r.columns.len();
    }
    let column_rate = column_alarms as f64 / columns as f64;
    eprintln!(
        "false alarms: dataset {dataset_alarms}/100, columns {column_alarms}/{columns} ({:.1}%)",
        100.0 * column_rate
    );
    assert!(
        dataset_alarms <= 5,
        "dataset drift in {dataset_alarms} of 100 iid resamples"
    );
    assert!(
        column_rate <= 0.05,
        "per-column false-alarm rate {column_rate}"
    );
}

/// Issue 9, bug 2, through the train path: a 0/1 column with about 16% of ones, set to 1 on every
/// held-out row, is flagged (its quantile bins alone, `[0, 1]`, saw nothing: Wasserstein 0 and
/// KS p = 1), and so is a count column whose mix of values changes.
#[test]
fn a_flag_column_set_to_all_ones_is_flagged_after_training() {
    let data = testdata("adult_sample.csv");
    let Some(ColumnValues::Numeric(hours)) = data.column("hours_per_week") else {
        panic!("hours_per_week is numeric")
    };
    let flag: Vec<f64> = hours
        .iter()
        .map(|h| f64::from(u8::from(*h > 45.0)))
        .collect();
    let share = flag.iter().sum::<f64>() / flag.len() as f64;
    assert!((0.1..0.3).contains(&share), "{share}");
    let mut columns: Vec<(String, ColumnValues)> = data
        .names()
        .iter()
        .map(|n| (n.clone(), data.column(n).expect("column").clone()))
        .collect();
    columns.push(("long_hours".into(), ColumnValues::Numeric(flag)));
    let data = Batch::new(columns).expect("batch");
    let trained = train(&data, &TrainOptions::new("income")).expect("trains");
    let pipeline = trained.pipeline;
    let held_out = data.take(&trained.report.split.test);
    assert!(report(&pipeline, &held_out).drifted_names().is_empty());
    let n = held_out.n_rows();
    let live = with_column(&held_out, "long_hours", ColumnValues::Numeric(vec![1.0; n]));
    let r = report(&pipeline, &live);
    assert_eq!(r.drifted_names(), ["long_hours"]);
    let c = r.column("long_hours").expect("column");
    assert!(c.mean_shift.is_some_and(|m| m > 1.5), "{c:?}");
    // 500 rows: the p-value regime; education_num (16 values) with its mix moved by one step.
    let rows: Vec<usize> = (0..500).collect();
    let small = held_out.take(&rows);
    assert_eq!(
        report(
            &pipeline,
            &with_column(&small, "long_hours", ColumnValues::Numeric(vec![1.0; 500]))
        )
        .drifted_names(),
        ["long_hours"]
    );
    let Some(ColumnValues::Numeric(education)) = small.column("education_num") else {
        panic!("education_num is numeric")
    };
    let bumped: Vec<f64> = education
        .iter()
        .map(|e| if *e == 9.0 { 10.0 } else { *e })
        .collect();
    let r = report(
        &pipeline,
        &with_column(&small, "education_num", ColumnValues::Numeric(bumped)),
    );
    assert_eq!(r.drifted_names(), ["education_num"]);
}
