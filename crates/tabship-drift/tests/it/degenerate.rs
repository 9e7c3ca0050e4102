//! Defined results (finite, no panic) for empty windows, constant columns, all-missing columns
//! and single categories.

use tabship_drift::{
    Binner, Cell, ColumnProfile, DriftOptions, LiveColumn, Monitor, ProfileOptions,
    ReferenceProfile, Statistic, Window, report,
};

fn profile(numbers: &[f64], categories: &[Option<&str>]) -> ReferenceProfile {
    let o = ProfileOptions::default();
    ReferenceProfile {
        columns: vec![
            ColumnProfile::numeric("x", numbers, &o).expect("capture"),
            ColumnProfile::categorical("c", categories.iter().copied(), &o).expect("capture"),
        ],
        prediction: None,
    }
}

fn all_finite(r: &tabship_drift::DriftReport) {
    assert!(r.share_drifted.is_finite());
    for c in &r.columns {
        let opt = [
            c.ks,
            c.ks_p_value,
            c.ks_error_bound,
            c.wasserstein,
            c.mean_shift,
            c.std_ratio,
            c.out_of_range_rate,
            c.unknown_rate,
        ];
        for x in [
            c.value,
            c.threshold,
            c.psi,
            c.jensen_shannon,
            c.hellinger,
            c.chi_square,
            c.chi_square_p_value,
            c.missing_rate,
            c.reference_missing_rate,
        ]
        .into_iter()
        .chain(opt.into_iter().flatten())
        .chain(c.histogram.reference.iter().copied())
        .chain(c.histogram.live.iter().copied())
        {
            assert!(x.is_finite(), "{}: {c:?}", c.name);
        }
    }
}

fn run(
    p: &ReferenceProfile,
    numbers: &[f64],
    categories: &[Option<&str>],
) -> tabship_drift::DriftReport {
    let sample = Binner::new(p.clone())
        .sample(
            &[
                LiveColumn::Numeric(numbers),
                LiveColumn::Categorical(categories),
            ],
            None,
        )
        .expect("fits");
    let r = report(p, &sample, &DriftOptions::default()).expect("report");
    all_finite(&r);
    r
}

#[test]
fn an_empty_window_is_no_drift() {
    let numbers: Vec<f64> = (0..100).map(f64::from).collect();
    let cats: Vec<Option<&str>> = (0..100)
        .map(|i| Some(if i % 2 == 0 { "a" } else { "b" }))
        .collect();
    let p = profile(&numbers, &cats);
    let r = run(&p, &[], &[]);
    assert!(!r.drifted && r.drifted_columns == 0 && r.rows == 0);
    let m = Monitor::new(p, Window::sliding(1000)).expect("monitor");
    let r = m.report(&DriftOptions::default()).expect("report");
    all_finite(&r);
    assert!(!r.drifted);
}

#[test]
fn constant_columns_compare_without_dividing_by_zero() {
    let p = profile(&[5.0; 200], &[Some("only"); 200]);
    // Same constant, same single category: nothing moved.
    let r = run(&p, &[5.0; 50], &[Some("only"); 50]);
    assert!(r.drifted_names().is_empty(), "{r:?}");
    let x = r.column("x").expect("x");
    assert_eq!((x.mean_shift, x.std_ratio), (Some(0.0), Some(1.0)));
    // Another constant and a new category: both drift, with finite values.
    let r = run(&p, &[6.0; 2000], &[Some("new"); 2000]);
    assert_eq!(r.drifted_names(), ["x", "c"]);
    let x = r.column("x").expect("x");
    assert_eq!(x.out_of_range_rate, Some(1.0));
    assert!(
        x.wasserstein.unwrap_or(0.0) > 100.0,
        "1 / 0.001 floor: {x:?}"
    );
    assert_eq!(r.column("c").and_then(|c| c.unknown_rate), Some(1.0));
}

#[test]
fn all_missing_columns_are_judged_by_their_missing_rate() {
    // Reference without any value: statistics are neutral.
    let p = profile(&[f64::NAN; 100], &[None; 100]);
    let r = run(&p, &[1.0, 2.0, f64::NAN], &[Some("a"), None, None]);
    let x = r.column("x").expect("x");
    assert!(!x.drifted && x.value == 1.0 && x.statistic == Statistic::Ks);
    // Live column entirely missing where the reference had values: the missing-rate rule.
    let numbers: Vec<f64> = (0..100).map(f64::from).collect();
    let cats: Vec<Option<&str>> = vec![Some("a"); 100];
    let p = profile(&numbers, &cats);
    let r = run(&p, &[f64::NAN; 30], &[None; 30]);
    assert_eq!(r.drifted_names(), ["x", "c"]);
    for c in &r.columns {
        assert_eq!(c.reasons, ["missing_rate"]);
        assert_eq!(c.missing_rate, 1.0);
        assert_eq!(c.live_count, 0);
    }
    let o = DriftOptions {
        missing_rate_increase: None,
        ..DriftOptions::default()
    };
    let sample = Binner::new(p.clone())
        .sample(
            &[
                LiveColumn::Numeric(&[f64::NAN; 30]),
                LiveColumn::Categorical(&[None; 30]),
            ],
            None,
        )
        .expect("fits");
    assert!(!report(&p, &sample, &o).expect("report").drifted);
}

#[test]
fn rows_and_batches_bin_alike() {
    let numbers: Vec<f64> = (0..500).map(|i| f64::from(i % 97)).collect();
    let cats: Vec<Option<&str>> = (0..500)
        .map(|i| match i % 4 {
            0 => Some("a"),
            1 => Some("b"),
            2 => None,
            _ => Some("zz"),
        })
        .collect();
    let p = profile(&numbers, &cats);
    let binner = Binner::new(p.clone());
    let live_numbers: Vec<f64> = numbers.iter().map(|x| x * 1.5 - 3.0).collect();
    let batch = binner
        .sample(
            &[
                LiveColumn::Numeric(&live_numbers),
                LiveColumn::Categorical(&cats),
            ],
            None,
        )
        .expect("fits");
    let mut rows = binner.empty_sample();
    for (x, c) in live_numbers.iter().zip(&cats) {
        let cell = c.map_or(Cell::Missing, Cell::Category);
        binner
            .push_row(&mut rows, &[Cell::Number(*x), cell], None)
            .expect("fits");
    }
    assert_eq!(batch, rows);
}
