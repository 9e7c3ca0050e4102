//! Fitting the encoders on the training rows.

use std::collections::BTreeMap;

use tabship::encode::{
    CategoricalEncoderSpec, CategoricalMissing, ColumnEncoderSpec, Imputation, ImputeStrategy,
    NumericEncoderSpec, Scaling,
};
use tabship::{CategoricalValues, ColumnValues, MISSING_CODE};

use crate::options::EncoderOptions;

/// Fits the encoder of a numeric column on `values` (training rows only; NaN = missing). An
/// imputation left to the model (`None`) is the median: the trainer resolves it first
/// ([`EncoderOptions::resolved_for`]).
pub fn fit_numeric(values: &[f64], options: &EncoderOptions, scale: bool) -> ColumnEncoderSpec {
    let mut present: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    let strategy = options.numeric_impute.unwrap_or(ImputeStrategy::Median);
    let fill = match strategy {
        ImputeStrategy::Constant => options.fill_value,
        // Missing numbers stay NaN (histogram trees); the fill value is unused.
        ImputeStrategy::Nan => 0.0,
        _ if present.is_empty() => 0.0,
        ImputeStrategy::Mean => present.iter().sum::<f64>() / present.len() as f64,
        ImputeStrategy::Median => {
            present.sort_by(f64::total_cmp);
            let n = present.len();
            if n % 2 == 1 {
                present[n / 2]
            } else {
                (present[n / 2 - 1] + present[n / 2]) / 2.0
            }
        }
    };
    let scaling = scale.then(|| {
        // Fitted after imputation, as a scikit-learn imputer → scaler pipeline does.
        let n = values.len().max(1) as f64;
        let filled = || values.iter().map(|&x| if x.is_nan() { fill } else { x });
        let mean = filled().sum::<f64>() / n;
        let var = filled().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        let std = var.sqrt();
        Scaling {
            mean,
            scale: if std > 0.0 && std.is_finite() {
                std
            } else {
                1.0
            },
        }
    });
    ColumnEncoderSpec::Numeric(NumericEncoderSpec {
        imputation: Imputation {
            strategy,
            value: fill,
        },
        missing_indicator: options.missing_indicator,
        scaling,
    })
}

/// Fits the encoder of a categorical column on its training rows.
pub fn fit_categorical(values: &CategoricalValues, options: &EncoderOptions) -> ColumnEncoderSpec {
    let mut counts = vec![0u64; values.dictionary().len()];
    let mut missing = 0u64;
    for &code in values.codes() {
        if code == MISSING_CODE {
            missing += 1;
        } else {
            counts[code as usize] += 1;
        }
    }
    let threshold = options.min_frequency.threshold(values.len());
    let mut kept = BTreeMap::new();
    let mut rare = Vec::new();
    for (text, &count) in values.dictionary().iter().zip(&counts) {
        if count == 0 {
            continue;
        }
        if count >= threshold {
            kept.insert(text.clone(), count);
        } else {
            rare.push(text.clone());
        }
    }
    rare.sort();
    let categories: Vec<String> = kept.keys().cloned().collect();
    // The most frequent kept category, ties to the first in sorted order.
    let most_frequent = kept
        .values()
        .enumerate()
        .fold(None::<(usize, u64)>, |best, (i, &c)| match best {
            Some((_, bc)) if bc >= c => best,
            _ => Some((i, c)),
        })
        .map(|(i, _)| i as u32);
    let (missing_policy, fill_category) = match (options.categorical_missing, most_frequent) {
        (CategoricalMissing::MostFrequent, Some(i)) => (CategoricalMissing::MostFrequent, Some(i)),
        // Nothing to impute with: fall back to a Missing slot.
        _ => (CategoricalMissing::Slot, None),
    };
    let missing_slot = missing_policy == CategoricalMissing::Slot
        && (missing > 0 || (categories.is_empty() && rare.is_empty()));
    ColumnEncoderSpec::Categorical(CategoricalEncoderSpec {
        encoding: options.categorical_encoding,
        categories,
        other_categories: rare,
        missing: missing_policy,
        missing_slot,
        fill_category,
    })
}

/// Fits the encoder for any column.
pub fn fit_column(
    values: &ColumnValues,
    options: &EncoderOptions,
    scale: bool,
) -> ColumnEncoderSpec {
    match values {
        ColumnValues::Numeric(v) => fit_numeric(v, options, scale),
        ColumnValues::Categorical(v) => fit_categorical(v, options),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::MinFrequency;

    #[test]
    fn median_imputation_and_scaling() {
        let spec = fit_numeric(
            &[1.0, f64::NAN, 3.0, 10.0],
            &EncoderOptions::default(),
            true,
        );
        let ColumnEncoderSpec::Numeric(s) = spec else {
            panic!()
        };
        assert_eq!(s.imputation.value, 3.0);
        let sc = s.scaling.unwrap();
        assert!((sc.mean - 17.0 / 4.0).abs() < 1e-12);
    }

    #[test]
    fn rare_categories_go_to_other() {
        let values = CategoricalValues::from_options(
            ["a", "a", "b", "a", "c", "b"]
                .into_iter()
                .map(Some)
                .chain([None]),
        );
        let options = EncoderOptions {
            min_frequency: MinFrequency::Count(2),
            ..EncoderOptions::default()
        };
        let ColumnEncoderSpec::Categorical(s) = fit_categorical(&values, &options) else {
            panic!()
        };
        assert_eq!(s.categories, ["a", "b"]);
        assert_eq!(s.other_categories, ["c"]);
        assert!(s.missing_slot);
        let options = EncoderOptions {
            categorical_missing: CategoricalMissing::MostFrequent,
            ..options
        };
        let ColumnEncoderSpec::Categorical(s) = fit_categorical(&values, &options) else {
            panic!()
        };
        assert_eq!(s.fill_category, Some(0));
        assert!(!s.missing_slot);
    }
}
