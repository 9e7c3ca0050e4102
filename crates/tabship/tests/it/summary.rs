//! The column summary: what inspect, Python and the server describe columns from.

use tabship::encode::ColumnEncoderSpec;
use tabship::{ColumnKind, Example, Pipeline};

use crate::common::golden;

#[test]
fn columns_carry_kind_categories_and_a_typical_value() {
    let pipeline = Pipeline::load(golden("adult_logistic_profile.tabship")).expect("loads");
    let summaries = pipeline.column_summaries();
    assert_eq!(summaries.len(), pipeline.schema().len());
    let profile = pipeline.drift_profile().expect("a profile");
    for (i, (s, spec)) in summaries.iter().zip(pipeline.encoder().specs()).enumerate() {
        assert_eq!(s.name, pipeline.schema().columns[i].name);
        assert_eq!(s.encoder, spec);
        match (&spec, &s.example) {
            (ColumnEncoderSpec::Numeric(n), Example::Number(x)) => {
                assert_eq!(s.kind, ColumnKind::Numeric);
                assert_eq!(x.to_bits(), n.imputation.value.to_bits());
                assert!(s.categories.is_empty());
            }
            (ColumnEncoderSpec::Categorical(c), Example::Category(text)) => {
                assert_eq!(s.categories, c.categories);
                assert_eq!(s.rare_categories, c.other_categories);
                // The most frequent training category, from the profile.
                let tabship::drift::Distribution::Categorical(cat) =
                    &profile.columns[i].distribution
                else {
                    panic!("a categorical profile");
                };
                assert_eq!(Some(text), cat.categories.first());
                let known = s.known_categories();
                assert!(known.windows(2).all(|w| w[0] <= w[1]), "sorted");
                assert_eq!(known.len(), c.categories.len() + c.other_categories.len());
            }
            (spec, example) => panic!("{spec:?} with example {example:?}"),
        }
    }
    let json = serde_json::to_value(&summaries[0]).expect("serializes");
    assert_eq!(json["kind"], "numeric", "{json}");
}
