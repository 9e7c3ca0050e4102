//! Property tests: profiles round-trip through MessagePack; statistics and reports are finite
//! for any counts; merged samples equal the sample of the concatenation.

use proptest::prelude::*;
use tabship_drift::{
    Binner, ColumnProfile, DriftOptions, LiveColumn, ProfileOptions, ReferenceProfile, report,
    stats,
};

fn profile_of(numbers: &[f64], cats: &[Option<String>], bins: usize) -> ReferenceProfile {
    let o = ProfileOptions {
        bins,
        fine_bins: bins * 3,
        max_categories: 3,
        // Few enough that both layouts (exact values, quantile bins only) come up.
        exact_values: 5,
    };
    ReferenceProfile {
        columns: vec![
            ColumnProfile::numeric("x", numbers, &o).expect("capture"),
            ColumnProfile::categorical("c", cats.iter().map(|c| c.as_deref()), &o)
                .expect("capture"),
        ],
        prediction: Some(ColumnProfile::numeric("prediction", numbers, &o).expect("capture")),
    }
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => -1e6f64..1e6,
        1 => Just(f64::NAN),
        1 => (0i32..5).prop_map(f64::from),
    ]
}

fn category() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        5 => "[a-f]".prop_map(Some),
        1 => Just(None),
    ]
}

proptest! {
    #[test]
    fn profiles_round_trip_and_validate(
        numbers in prop::collection::vec(number(), 0..300),
        cats in prop::collection::vec(category(), 0..300),
        bins in 1usize..20,
    ) {
        let p = profile_of(&numbers, &cats, bins);
        p.validate().expect("captured profiles are valid");
        let mut bytes = Vec::new();
        serde::Serialize::serialize(
            &p,
            &mut rmp_serde::Serializer::new(&mut bytes).with_struct_map(),
        ).expect("encodes");
        let back: ReferenceProfile = rmp_serde::from_slice(&bytes).expect("decodes");
        prop_assert_eq!(&back, &p);
        let json: ReferenceProfile =
            serde_json::from_str(&serde_json::to_string(&p).expect("json")).expect("json back");
        prop_assert_eq!(json.columns.len(), 2);
    }

    #[test]
    fn statistics_are_finite_for_any_counts(
        pairs in prop::collection::vec((0u64..1000, 0u64..1000), 1..40),
        spread in 0.0f64..1e9,
    ) {
        let (r, l): (Vec<u64>, Vec<u64>) = pairs.into_iter().unzip();
        let edges: Vec<f64> = (0..r.len() - 1).map(|i| i as f64 * spread).collect();
        let edges_ok = edges.windows(2).all(|w| w[0] < w[1]);
        let ks = stats::ks(&r, &l);
        let chi = stats::chi_square(&r, &l);
        for x in [
            stats::psi(&r, &l), ks.statistic, ks.p_value, ks.error_bound, chi.statistic,
            chi.p_value, stats::jensen_shannon(&r, &l), stats::hellinger(&r, &l),
        ] {
            prop_assert!(x.is_finite() && x >= 0.0, "{x}");
        }
        prop_assert!(ks.p_value <= 1.0 && chi.p_value <= 1.0);
        prop_assert!(stats::jensen_shannon(&r, &l) <= 1.0 && stats::hellinger(&r, &l) <= 1.0);
        if edges_ok {
            let w = stats::wasserstein(&edges, &r, &l, 0.0);
            prop_assert!(w.is_finite() && w >= 0.0);
        }
    }

    #[test]
    fn reports_are_defined_and_merges_add_up(
        reference in prop::collection::vec(number(), 0..200),
        ref_cats in prop::collection::vec(category(), 0..200),
        live in prop::collection::vec((number(), category()), 0..200),
        split in 0usize..200,
    ) {
        let p = profile_of(&reference, &ref_cats, 10);
        let binner = Binner::new(p.clone());
        let numbers: Vec<f64> = live.iter().map(|(x, _)| *x).collect();
        let texts: Vec<Option<&str>> = live.iter().map(|(_, c)| c.as_deref()).collect();
        let split = split.min(live.len());
        let whole = binner.sample(
            &[LiveColumn::Numeric(&numbers), LiveColumn::Categorical(&texts)],
            Some(&LiveColumn::Numeric(&numbers)),
        ).expect("fits");
        let mut a = binner.sample(
            &[LiveColumn::Numeric(&numbers[..split]), LiveColumn::Categorical(&texts[..split])],
            Some(&LiveColumn::Numeric(&numbers[..split])),
        ).expect("fits");
        let b = binner.sample(
            &[LiveColumn::Numeric(&numbers[split..]), LiveColumn::Categorical(&texts[split..])],
            Some(&LiveColumn::Numeric(&numbers[split..])),
        ).expect("fits");
        a.merge(&b).expect("same profile");
        prop_assert_eq!(a.rows, whole.rows);
        let r = report(&p, &whole, &DriftOptions::default()).expect("report");
        let ra = report(&p, &a, &DriftOptions::default()).expect("report");
        prop_assert!(r.share_drifted.is_finite());
        for (x, y) in r.columns.iter().zip(&ra.columns) {
            prop_assert!(x.value.is_finite() && x.psi.is_finite());
            prop_assert_eq!(&x.histogram, &y.histogram);
            prop_assert_eq!(x.drifted, y.drifted);
        }
        prop_assert!(r.prediction.is_some());
    }
}

proptest! {
    /// A detector or tracker saved mid-stream and restored continues exactly as the original.
    #[test]
    fn detectors_and_trackers_resume_exactly_after_a_round_trip(
        values in proptest::collection::vec(0.0f64..1.0, 1..400),
        cut in 0usize..400,
    ) {
        use tabship_drift::{Adwin, Ddm, Detector, PageHinkley, WindowedMae};
        fn run<D: Detector + serde::Serialize + serde::de::DeserializeOwned + Clone>(
            mut d: D,
            values: &[f64],
            cut: usize,
        ) -> (Vec<u64>, Vec<u64>) {
            let cut = cut.min(values.len());
            let mut whole = d.clone();
            let all: Vec<u64> = values.iter().map(|&x| whole.update(x.round()) as u64).collect();
            let mut out: Vec<u64> = values[..cut].iter().map(|&x| d.update(x.round()) as u64).collect();
            let bytes = rmp_serde::to_vec_named(&d).expect("serializes");
            let mut back: D = rmp_serde::from_slice(&bytes).expect("valid state");
            out.extend(values[cut..].iter().map(|&x| back.update(x.round()) as u64));
            (all, out)
        }
        let (a, b) = run(Ddm::default(), &values, cut);
        prop_assert_eq!(a, b);
        let (a, b) = run(PageHinkley::default(), &values, cut);
        prop_assert_eq!(a, b);
        let (a, b) = run(Adwin::default(), &values, cut);
        prop_assert_eq!(a, b);
        let mut m = WindowedMae::new(50).expect("valid");
        for &x in &values[..cut.min(values.len())] {
            m.update(x, 0.0);
        }
        let bytes = rmp_serde::to_vec_named(&m).expect("serializes");
        let back: WindowedMae = rmp_serde::from_slice(&bytes).expect("valid state");
        prop_assert_eq!(back.value(), m.value());
    }
}
