//! `tabship_model_age_seconds` from each version's training time, and `tabship_model_stale`
//! against `max_model_age`; readiness is not affected.

use std::time::Duration;

use tabship_serve::Options;

use crate::common::*;

/// The samples of `name` in the exposition: labels → value.
fn samples(text: &str, name: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter_map(|l| l.strip_prefix(name)?.strip_prefix('{'))
        .map(|rest| {
            let (labels, value) = rest.split_once("} ").expect("a sample line");
            (labels.to_owned(), value.parse().expect("a number"))
        })
        .collect()
}

#[tokio::test]
async fn ages_come_from_the_artifacts_and_stale_follows_the_limit() {
    let trained = |golden_name: &str| {
        tabship::Pipeline::load(golden(golden_name))
            .expect("golden loads")
            .training()
            .created_at
            .clone()
    };
    let iris_trained = trained("iris_logistic.tabship");
    for (max_age, stale) in [
        (None, None),
        (Some(Duration::from_secs(3600)), Some(1.0)),
        (Some(Duration::from_secs(3650 * 86_400)), Some(0.0)),
    ] {
        let state = state_with(
            None,
            Options {
                max_model_age: max_age,
                ..Options::default()
            },
        );
        assert!(state.is_ready(), "staleness never makes a server unready");
        let before = time::OffsetDateTime::now_utc();
        let text = tabship_serve::router(state.clone());
        let text = get(&text, "/metrics").await.text();
        let after = time::OffsetDateTime::now_utc();
        let ages = samples(&text, "tabship_model_age_seconds");
        assert_eq!(ages.len(), 3, "{text}");
        let (_, iris_age) = ages
            .iter()
            .find(|(l, _)| l == r#"model="iris",version="golden""#)
            .expect("iris's age");
        let low = tabship_serve::staleness::age_seconds(&iris_trained, before).expect("a time");
        let high = tabship_serve::staleness::age_seconds(&iris_trained, after).expect("a time");
        assert!(
            low <= *iris_age && *iris_age <= high,
            "{low} ≤ {iris_age} ≤ {high}"
        );
        let stale_samples = samples(&text, "tabship_model_stale");
        match stale {
            None => assert!(stale_samples.is_empty(), "{text}"),
            Some(v) => {
                assert_eq!(stale_samples.len(), 3, "{text}");
                assert!(stale_samples.iter().all(|(_, x)| *x == v), "{text}");
            }
        }
    }
}
