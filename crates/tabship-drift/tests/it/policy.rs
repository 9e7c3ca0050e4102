//! The multiple-testing adjustment and the drift policy (issue 9, bugs 3 and 4).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tabship_drift::{
    Binner, CategoricalProfile, ColumnProfile, Distribution, DriftOptions, DriftPolicy,
    DriftReport, LiveColumn, LiveSample, MultipleTesting, ProfileOptions, ReferenceProfile, report,
};

/// Categorical columns `c0..` with `reference` counts of `a` and `b` each, and a categorical
/// prediction with `prediction` counts of `yes` and `no`.
fn profile(columns: usize, reference: [u64; 2], prediction: [u64; 2]) -> ReferenceProfile {
    let o = ProfileOptions::default();
    let cat = |name: &str, labels: [&str; 2], counts: [u64; 2]| ColumnProfile {
        name: name.into(),
        distribution: Distribution::Categorical(
            CategoricalProfile::from_counts(labels.into_iter().zip(counts), 0, &o)
                .expect("profile"),
        ),
    };
    ReferenceProfile {
        columns: (0..columns)
            .map(|i| cat(&format!("c{i}"), ["a", "b"], reference))
            .collect(),
        prediction: Some(cat("prediction", ["yes", "no"], prediction)),
    }
}

fn texts(counts: &[(&'static str, usize)]) -> Vec<Option<&'static str>> {
    counts
        .iter()
        .flat_map(|(t, n)| std::iter::repeat_n(Some(*t), *n))
        .collect()
}

/// A live sample: column `i` gets `live[i]` (pairs of text and count), the prediction `pred`.
fn sample(
    profile: &ReferenceProfile,
    live: &[Vec<Option<&str>>],
    pred: &[Option<&str>],
) -> LiveSample {
    let columns: Vec<LiveColumn<'_>> = live.iter().map(|v| LiveColumn::Categorical(v)).collect();
    Binner::new(profile.clone())
        .sample(&columns, Some(&LiveColumn::Categorical(pred)))
        .expect("sample")
}

fn run(
    profile: &ReferenceProfile,
    live: &[Vec<Option<&str>>],
    pred: &[Option<&str>],
    options: &DriftOptions,
) -> DriftReport {
    report(profile, &sample(profile, live, pred), options).expect("report")
}

#[test]
fn adjusted_p_values_decide_and_raw_ones_stay() {
    // 20 columns with a 50/50 reference of 1,000 rows; one live column at 60/40 on 200 rows
    // (raw two-sample p ≈ 0.008), the others at 50/50.
    let p = profile(20, [500, 500], [500, 500]);
    let mut live = vec![texts(&[("a", 100), ("b", 100)]); 20];
    live[3] = texts(&[("a", 120), ("b", 80)]);
    let pred = texts(&[("yes", 100), ("no", 100)]);
    let r = run(&p, &live, &pred, &DriftOptions::default());
    let c = r.column("c3").expect("c3");
    assert!(c.value < 0.05, "raw p-value kept: {c:?}");
    let adjusted = c.adjusted_p_value.expect("a test");
    // Benjamini–Hochberg over 21 tests (20 columns and the predictions): the smallest p-value
    // is multiplied by 21.
    assert!(
        (adjusted - (c.value * 21.0).min(1.0)).abs() < 1e-12,
        "{c:?}"
    );
    assert!(
        !c.drifted,
        "one marginal p-value among 21 tests is no evidence: {c:?}"
    );
    assert!(r.drifted_names().is_empty());
    // Without the adjustment the same column is flagged (what the raw test did before).
    let raw = DriftOptions {
        multiple_testing: MultipleTesting::None,
        ..DriftOptions::default()
    };
    assert!(
        run(&p, &live, &pred, &raw)
            .column("c3")
            .expect("c3")
            .drifted
    );
    // A real shift stays flagged after the adjustment.
    live[3] = texts(&[("a", 160), ("b", 40)]);
    assert_eq!(
        run(&p, &live, &pred, &DriftOptions::default()).drifted_names(),
        ["c3"]
    );
}

/// An unshifted sample of a 74-column table (a 1,460-row reference, a 586-row live sample, as
/// the issue's house-price table): under 1 flagged column on average, no dataset alarm.
#[test]
fn a_wide_unshifted_table_flags_well_under_one_column() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let o = ProfileOptions::default();
    // Per column: numeric continuous, numeric with few values, or categorical with 2 to 8
    // categories of random shares.
    let kinds: Vec<(u8, Vec<f64>)> = (0..74)
        .map(|i| {
            let k = 2 + (i % 7);
            let mut w: Vec<f64> = (0..k).map(|_| rng.random::<f64>() + 0.05).collect();
            let s: f64 = w.iter().sum();
            w.iter_mut().for_each(|x| *x /= s);
            ((i % 3) as u8, w)
        })
        .collect();
    let draw = |rng: &mut ChaCha8Rng, n: usize| -> Vec<(Vec<f64>, Vec<Option<String>>)> {
        kinds
            .iter()
            .map(|(kind, w)| {
                let pick = |rng: &mut ChaCha8Rng| {
                    let mut u: f64 = rng.random();
                    w.iter()
                        .position(|x| {
                            u -= x;
                            u < 0.0
                        })
                        .unwrap_or(w.len() - 1)
                };
                match kind {
                    0 => (
                        (0..n).map(|_| rng.random::<f64>() * 100.0).collect(),
                        vec![],
                    ),
                    1 => ((0..n).map(|_| pick(rng) as f64).collect(), vec![]),
                    _ => (
                        vec![],
                        (0..n).map(|_| Some(format!("v{}", pick(rng)))).collect(),
                    ),
                }
            })
            .collect()
    };
    let reference = draw(&mut rng, 1460);
    let profile = ReferenceProfile {
        columns: reference
            .iter()
            .enumerate()
            .map(|(i, (x, c))| {
                if c.is_empty() {
                    ColumnProfile::numeric(format!("x{i}"), x, &o)
                } else {
                    ColumnProfile::categorical(format!("x{i}"), c.iter().map(|t| t.as_deref()), &o)
                }
                .expect("profile")
            })
            .collect(),
        prediction: None,
    };
    let binner = Binner::new(profile.clone());
    let (mut flagged, mut alarms) = (0usize, 0usize);
    let trials = 100;
    for _ in 0..trials {
        let live = draw(&mut rng, 586);
        let refs: Vec<Vec<Option<&str>>> = live
            .iter()
            .map(|(_, c)| c.iter().map(|t| t.as_deref()).collect())
            .collect();
        let columns: Vec<LiveColumn<'_>> = live
            .iter()
            .zip(&refs)
            .map(|((x, c), r)| {
                if c.is_empty() {
                    LiveColumn::Numeric(x)
                } else {
                    LiveColumn::Categorical(r)
                }
            })
            .collect();
        let s = binner.sample(&columns, None).expect("sample");
        let r = report(&profile, &s, &DriftOptions::default()).expect("report");
        flagged += r.drifted_columns;
        alarms += usize::from(r.drifted);
    }
    let mean = flagged as f64 / trials as f64;
    eprintln!("74 columns, 100 iid samples: {mean:.2} flagged columns on average, {alarms} alarms");
    assert!(mean < 0.2, "{mean} flagged columns on average");
    assert_eq!(alarms, 0);
}

#[test]
fn the_default_policy_fails_on_the_predictions_and_on_unknown_values() {
    let p = profile(13, [500, 500], [780, 220]);
    let calm = vec![texts(&[("a", 250), ("b", 250)]); 13];
    // The predictions move from 22% `no` to 0.5%: a dataset drift, whatever the inputs do.
    let pred = texts(&[("yes", 498), ("no", 2)]);
    let r = run(&p, &calm, &pred, &DriftOptions::default());
    assert!(r.prediction.as_ref().is_some_and(|c| c.drifted));
    assert_eq!(r.drifted_columns, 0);
    assert!(r.drifted);
    assert_eq!(r.reasons, ["prediction"]);
    // 30% never-seen values in one column.
    let steady = texts(&[("yes", 390), ("no", 110)]);
    let mut live = calm.clone();
    live[5] = texts(&[("a", 175), ("b", 175), ("new", 150)]);
    let r = run(&p, &live, &steady, &DriftOptions::default());
    assert!(r.drifted);
    assert!(
        r.reasons.contains(&"unknown_rate:c5".to_owned()),
        "{:?}",
        r.reasons
    );
    // One drifted column alone fails nothing by default; the share rule still works.
    let mut live = calm.clone();
    live[0] = texts(&[("a", 450), ("b", 50)]);
    let r = run(&p, &live, &steady, &DriftOptions::default());
    assert_eq!(r.drifted_names(), ["c0"]);
    assert!(!r.drifted && r.reasons.is_empty(), "{:?}", r.reasons);
    let many = vec![texts(&[("a", 450), ("b", 50)]); 13];
    let r = run(&p, &many, &steady, &DriftOptions::default());
    assert_eq!(r.reasons, ["share"]);
    // `any_column`, or naming the column, fails on it.
    for policy in [
        DriftPolicy {
            any_column: true,
            ..DriftPolicy::default()
        },
        DriftPolicy {
            columns: vec!["c0".into()],
            ..DriftPolicy::default()
        },
    ] {
        let options = DriftOptions {
            policy,
            ..DriftOptions::default()
        };
        let r = run(&p, &live, &steady, &options);
        assert!(r.drifted);
        assert_eq!(r.reasons, ["column:c0"]);
    }
    // Naming another column does not; turning the prediction rule off ignores the predictions.
    let options = DriftOptions {
        policy: DriftPolicy {
            columns: vec!["c1".into()],
            prediction: false,
            ..DriftPolicy::default()
        },
        ..DriftOptions::default()
    };
    assert!(!run(&p, &live, &steady, &options).drifted);
    assert!(!run(&p, &calm, &pred, &options).drifted);
}

#[test]
fn policy_options_are_checked() {
    let p = profile(2, [500, 500], [500, 500]);
    let live = vec![texts(&[("a", 5), ("b", 5)]); 2];
    let pred = texts(&[("yes", 5), ("no", 5)]);
    let s = sample(&p, &live, &pred);
    let options = DriftOptions {
        policy: DriftPolicy {
            columns: vec!["c9".into()],
            ..DriftPolicy::default()
        },
        ..DriftOptions::default()
    };
    let err = report(&p, &s, &options)
        .expect_err("unknown column")
        .to_string();
    assert!(
        err.contains("policy.columns") && err.contains("`c9`"),
        "{err}"
    );
    let options = DriftOptions {
        policy: DriftPolicy {
            unknown_rate: Some(1.5),
            ..DriftPolicy::default()
        },
        ..DriftOptions::default()
    };
    let err = report(&p, &s, &options)
        .expect_err("out of range")
        .to_string();
    assert!(
        err.contains("policy.unknown_rate") && err.contains("`1.5`"),
        "{err}"
    );
    // From JSON, as `--options` and Python keywords give it; unknown fields are refused.
    let options: DriftOptions =
        serde_json::from_str(r#"{"policy": {"any_column": true, "unknown_rate": null}}"#)
            .expect("reads");
    assert!(options.policy.any_column && options.policy.unknown_rate.is_none());
    assert!(serde_json::from_str::<DriftOptions>(r#"{"policy": {"anycolumn": true}}"#).is_err());
}
