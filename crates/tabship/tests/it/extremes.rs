//! Extreme inputs (±1e308, subnormals, values whose scaling overflows): every classifier answers
//! finite probabilities that sum to one, and its label is the class with the highest probability.

use std::collections::HashMap;

use proptest::prelude::*;
use tabship::{Pipeline, Prediction, Value};

use crate::common::{adult_person, golden};

/// Values that break naive arithmetic: the largest finite numbers, subnormals, and ordinary ones.
fn extreme() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(1e308),
        Just(-1e308),
        Just(f64::MAX),
        Just(-f64::MAX),
        Just(f64::MIN_POSITIVE / 8.0),
        Just(-5e-324),
        Just(0.0),
        (1e300..f64::MAX),
        (-f64::MAX..-1e300),
        (-1e3..1e3f64),
    ]
}

fn check(pipeline: &Pipeline, record: &HashMap<String, Value>) -> Result<(), TestCaseError> {
    let probabilities = pipeline.predict_proba_one(record).expect("predicts");
    prop_assert!(
        probabilities.iter().all(|p| p.is_finite() && *p >= 0.0),
        "{probabilities:?}"
    );
    prop_assert!((probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    let index = match pipeline.predict_one(record).expect("predicts") {
        Prediction::Class { index, .. } => index,
        Prediction::Value(v) => return Err(TestCaseError::fail(format!("value {v}"))),
    };
    let best = probabilities.iter().copied().fold(0.0, f64::max);
    prop_assert_eq!(probabilities[index], best, "{:?}", probabilities);
    Ok(())
}

fn iris_record(values: [f64; 4]) -> HashMap<String, Value> {
    ["sepal_length", "sepal_width", "petal_length", "petal_width"]
        .into_iter()
        .zip(values)
        .map(|(k, v)| (k.to_owned(), Value::from(v)))
        .collect()
}

#[test]
fn iris_petal_width_1e308_has_finite_probabilities() {
    // The case the audit found: `probabilities: null` with a confident "virginica".
    let pipeline = Pipeline::load(golden("iris_logistic.tabship")).expect("loads");
    let record = iris_record([5.9, 3.0, 5.1, 1e308]);
    let probabilities = pipeline.predict_proba_one(&record).expect("predicts");
    assert!(
        probabilities.iter().all(|p| p.is_finite()),
        "{probabilities:?}"
    );
    assert!((probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-12);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn iris_classifiers_stay_finite(values in proptest::array::uniform4(extreme())) {
        for name in ["iris_logistic.tabship", "iris_tree.tabship"] {
            let pipeline = Pipeline::load(golden(name)).expect("loads");
            check(&pipeline, &iris_record(values))?;
        }
    }

    #[test]
    fn adult_classifiers_stay_finite(
        age in extreme(),
        gain in extreme(),
        loss in extreme(),
        hours in extreme(),
    ) {
        let mut record = adult_person();
        for (column, value) in [("age", age), ("capital_gain", gain), ("capital_loss", loss), ("hours_per_week", hours)] {
            record.insert(column.to_owned(), Value::from(value));
        }
        for name in ["adult_logistic.tabship", "adult_forest.tabship"] {
            let pipeline = Pipeline::load(golden(name)).expect("loads");
            check(&pipeline, &record)?;
        }
    }
}
