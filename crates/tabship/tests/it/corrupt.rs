//! Corrupt and hostile artifacts fail with typed errors, never a panic.

use tabship::{Error, Pipeline};

use crate::common::golden;

fn golden_bytes() -> Vec<u8> {
    std::fs::read(golden("adult_logistic.tabship")).expect("golden exists")
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = golden_bytes();
    for n in 0..bytes.len() {
        assert!(
            Pipeline::from_bytes(&bytes[..n]).is_err(),
            "prefix of {n} bytes loaded"
        );
    }
}

#[test]
fn every_flipped_byte_is_an_error() {
    let bytes = golden_bytes();
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x55;
        let result = Pipeline::from_bytes(&b);
        // The library-version string is not covered by the checksum; a changed version still loads.
        let in_version = (14..14 + tabship::VERSION.len()).contains(&i);
        assert!(
            result.is_err() || in_version,
            "flipping byte {i} still loaded"
        );
    }
}

#[test]
fn specific_failures_have_specific_errors() {
    let bytes = golden_bytes();
    assert!(matches!(
        Pipeline::from_bytes(b"PK\x03\x04 not ours"),
        Err(Error::BadMagic)
    ));
    let mut newer = bytes.clone();
    newer[8] = 2;
    let err = Pipeline::from_bytes(&newer).unwrap_err();
    assert!(matches!(
        err,
        Error::UnsupportedVersion { found_major: 2, .. }
    ));
    let newest = format!("up to 1.{}", tabship::artifact::FORMAT_MINOR);
    assert!(err.to_string().contains("format 2.0") && err.to_string().contains(&newest));
    let mut body_flip = bytes.clone();
    let last = body_flip.len() - 1;
    body_flip[last] ^= 1;
    assert!(matches!(
        Pipeline::from_bytes(&body_flip),
        Err(Error::ChecksumMismatch { .. })
    ));
}

#[test]
fn a_valid_envelope_around_a_hostile_body_is_refused() {
    use tabship::PipelineParts;
    let pipeline = Pipeline::load(golden("iris_logistic.tabship")).expect("loads");
    let mut parts: PipelineParts = pipeline.to_parts();
    // A model whose width does not match the encoders.
    if let tabship::Model::LogisticRegression(m) = &mut parts.model {
        m.coefficients[0].push(1.0);
    }
    let err = Pipeline::from_parts(parts).unwrap_err();
    assert!(matches!(err, Error::InvalidField { .. }), "{err}");
    let mut parts = pipeline.to_parts();
    parts.classes.swap(0, 1);
    assert!(Pipeline::from_parts(parts).is_err());
}

#[test]
fn missing_file_is_not_found() {
    let err = Pipeline::load("/nonexistent/model.tabship").unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }));
}

#[test]
fn hostile_trees_in_a_valid_envelope_are_refused() {
    use tabship::Model;
    let pipeline = Pipeline::load(golden("adult_forest.tabship")).expect("loads");
    let mutations: [fn(&mut tabship::model::TreeSpec); 4] = [
        |t| t.left.0[0] = 0,               // a cycle back to the root
        |t| t.feature.0[0] = 10_000,       // a feature past the encoders' width
        |t| t.leaf_values.0[0] = f64::NAN, // a non-finite probability
        |t| t.threshold.0.truncate(1),     // arrays of unequal length
    ];
    for (i, mutate) in mutations.iter().enumerate() {
        let mut parts = pipeline.to_parts();
        let Model::TreeEnsemble(forest) = &mut parts.model else {
            panic!("a forest")
        };
        mutate(&mut forest.trees[3]);
        let err = Pipeline::from_parts(parts).unwrap_err();
        assert!(
            matches!(err, Error::InvalidField { .. }),
            "mutation {i}: {err}"
        );
        assert!(
            err.to_string().contains("model.trees[3]"),
            "mutation {i}: {err}"
        );
    }
}
