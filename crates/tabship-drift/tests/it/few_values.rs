//! Numeric columns with few distinct values (issue 9, bug 2): flags, small counts and constants
//! are profiled by their exact values, so a change of their mix, or a value the reference never
//! had, is seen.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tabship_drift::{
    Binner, ColumnProfile, ColumnReport, DriftOptions, LiveColumn, ProfileOptions,
    ReferenceProfile, Statistic, report,
};

/// The report of one numeric column: reference `reference`, live `live`.
fn compare(reference: &[f64], live: &[f64]) -> ColumnReport {
    let profile = ReferenceProfile {
        columns: vec![
            ColumnProfile::numeric("x", reference, &ProfileOptions::default()).expect("profile"),
        ],
        prediction: None,
    };
    let sample = Binner::new(profile.clone())
        .sample(&[LiveColumn::Numeric(live)], None)
        .expect("sample");
    let r = report(&profile, &sample, &DriftOptions::default()).expect("report");
    r.columns.into_iter().next().expect("one column")
}

/// `n` draws of `values` with probabilities `weights`.
fn draw(rng: &mut ChaCha8Rng, n: usize, values: &[f64], weights: &[f64]) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let mut u: f64 = rng.random();
            for (v, w) in values.iter().zip(weights) {
                if u < *w {
                    return *v;
                }
                u -= w;
            }
            values[values.len() - 1]
        })
        .collect()
}

#[test]
fn a_16_percent_flag_set_to_all_ones_is_flagged() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let reference = draw(&mut rng, 5000, &[0.0, 1.0], &[0.84, 0.16]);
    // Both regimes: a p-value test (500 rows) and a distance (5,000 rows).
    for n in [500, 5000] {
        let c = compare(&reference, &vec![1.0; n]);
        assert!(c.drifted, "{n} rows: {c:?}");
        let shift = c.mean_shift.expect("numeric");
        assert!((shift - 2.28).abs() < 0.1, "mean shift {shift}");
        assert!(c.wasserstein.expect("numeric") > 2.0, "{c:?}");
        assert_eq!(c.ks_error_bound, Some(0.0), "exact over the values");
        assert_eq!(c.histogram.labels, ["0", "1", "<unseen>"]);
    }
    assert_eq!(
        compare(&reference, &[1.0; 500]).statistic,
        Statistic::ChiSquare
    );
    // A smaller change of the mix, 16% → 25% of ones, on 500 rows.
    let live = draw(&mut rng, 500, &[0.0, 1.0], &[0.75, 0.25]);
    assert!(compare(&reference, &live).drifted);
}

#[test]
fn small_counts_are_compared_value_by_value() {
    // Number of fireplaces: 0..4, mostly 0 and 1.
    let values = [0.0, 1.0, 2.0, 3.0, 4.0];
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let reference = draw(&mut rng, 3000, &values, &[0.5, 0.35, 0.12, 0.02, 0.01]);
    // Same mix: no drift.
    let live = draw(&mut rng, 400, &values, &[0.5, 0.35, 0.12, 0.02, 0.01]);
    let c = compare(&reference, &live);
    assert!(!c.drifted, "{c:?}");
    assert_eq!(c.unknown_rate, Some(0.0));
    // Ones become twos: the mean barely moves a quantile bin, the mix changes.
    let live = draw(&mut rng, 400, &values, &[0.5, 0.2, 0.27, 0.02, 0.01]);
    assert!(compare(&reference, &live).drifted);
    // A value the reference never had (5 fireplaces) counts as unknown and drifts.
    let mut live = draw(&mut rng, 400, &values, &[0.5, 0.35, 0.12, 0.02, 0.01]);
    for x in live.iter_mut().take(40) {
        *x = 5.0;
    }
    let c = compare(&reference, &live);
    assert!(c.drifted, "{c:?}");
    assert!((c.unknown_rate.expect("exact") - 0.1).abs() < 1e-12);
    // An unseen value inside the range (2.5) counts too.
    let mut live = draw(&mut rng, 400, &values, &[0.5, 0.35, 0.12, 0.02, 0.01]);
    for x in live.iter_mut().take(40) {
        *x = 2.5;
    }
    assert!(compare(&reference, &live).drifted);
}

#[test]
fn a_constant_column_drifts_when_another_value_appears() {
    let reference = vec![3.0; 1000];
    let c = compare(&reference, &[3.0; 200]);
    assert!(!c.drifted, "{c:?}");
    let mut live = vec![3.0; 200];
    live[..20].fill(4.0);
    let c = compare(&reference, &live);
    assert!(c.drifted, "{c:?}");
    assert!((c.unknown_rate.expect("exact") - 0.1).abs() < 1e-12);
}

#[test]
fn iid_samples_of_few_valued_columns_rarely_flag() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let values = [0.0, 1.0, 2.0, 3.0];
    let weights = [0.7, 0.2, 0.08, 0.02];
    let reference = draw(&mut rng, 2000, &values, &weights);
    let flags = (0..200)
        .filter(|_| compare(&reference, &draw(&mut rng, 300, &values, &weights)).drifted)
        .count();
    assert!(flags <= 20, "{flags} of 200 iid samples flagged");
}

#[test]
fn profiles_without_exact_values_still_load_and_report() {
    // A profile as format 1.2 wrote it: no `values`.
    let json = r#"{"columns": [{"name": "x", "distribution": {"type": "numeric",
        "count": 4, "missing": 0, "mean": 0.5, "std": 0.5, "min": 0.0, "max": 1.0,
        "edges": [0.0, 1.0], "counts": [0, 4, 0], "fine_edges": [0.0, 1.0],
        "fine_counts": [0, 4, 0]}}]}"#;
    let profile: ReferenceProfile = serde_json::from_str(json).expect("reads");
    profile.validate().expect("valid");
    assert!(!profile.has_exact_values());
    let sample = Binner::new(profile.clone())
        .sample(&[LiveColumn::Numeric(&[1.0, 1.0])], None)
        .expect("sample");
    let r = report(&profile, &sample, &DriftOptions::default()).expect("report");
    assert_eq!(r.columns[0].unknown_rate, None);
    // Written back, it has no `values` either (golden artifacts re-encode to the same bytes).
    assert!(
        !serde_json::to_string(&profile)
            .expect("json")
            .contains("values")
    );
}
