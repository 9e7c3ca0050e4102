//! `FeatureEncoder::encode_feature_columns` holds, for any feature range, exactly the columns
//! of `encode_dense` (bit for bit, NaN included), and refuses a range past the features.

use crate::common::{batch_for, golden, read_csv};
use tabship::Pipeline;

#[test]
fn feature_columns_equal_the_dense_matrix_columns() {
    for (name, inputs) in [
        ("adult_logistic", "adult_inputs.csv"),
        ("adult_forest", "adult_inputs.csv"),
        ("diamonds_ridge", "diamonds_inputs.csv"),
    ] {
        let pipeline = Pipeline::load(golden(&format!("{name}.tabship"))).expect("golden loads");
        let (header, records) = read_csv(&golden(inputs));
        let batch = batch_for(&pipeline, &header, &records);
        let encoder = pipeline.encoder();
        let dense = encoder.encode_dense(&batch).expect("encodes");
        let plan = encoder.plan(&batch).expect("plans");
        let width = encoder.width();
        assert!(width > 5, "{name}: {width} features");
        let mut block = Vec::new();
        for (start, len) in [(0, width), (0, 1), (1, 3), (width - 2, 2), (width / 2, 7)] {
            let range = start..(start + len).min(width);
            encoder
                .encode_feature_columns(&plan, range.clone(), &mut block)
                .expect("encodes");
            assert_eq!(block.len(), range.len());
            for (f, column) in range.clone().zip(&block) {
                let expected: Vec<u64> = dense.column(f).iter().map(|v| v.to_bits()).collect();
                let got: Vec<u64> = column.iter().map(|v| v.to_bits()).collect();
                assert_eq!(got, expected, "{name}: feature {f} of {range:?}");
            }
        }
        let e = encoder
            .encode_feature_columns(&plan, width - 1..width + 1, &mut block)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("features") && e.contains(&width.to_string()),
            "{e}"
        );
    }
}
