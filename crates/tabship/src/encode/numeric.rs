//! Numeric columns: imputation, optional missing indicator, optional standard scaling.

use serde::{Deserialize, Serialize};

use crate::missing::NaValues;
use crate::value::{FieldValue, non_finite};
use crate::{Error, Result};

/// How a missing numeric value is filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImputeStrategy {
    /// The training median (the default).
    Median,
    /// The training mean.
    Mean,
    /// A constant chosen by the user.
    Constant,
    /// Nothing is filled: a missing value reaches the model as NaN (format 1.5), for imported
    /// tree models whose nodes route missing values themselves. `value` is not used for
    /// prediction (importers store the reference median, which column summaries show as an
    /// example). Only a tree ensemble accepts NaN features.
    Nan,
}

/// The fitted fill value of a numeric column.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Imputation {
    /// How `value` was chosen.
    pub strategy: ImputeStrategy,
    /// The value used for missing inputs, before scaling.
    pub value: f64,
}

/// Standard scaling `(x - mean) / scale`, fitted on the training rows after imputation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    /// Training mean.
    pub mean: f64,
    /// Training standard deviation (population, ddof 0); 1 for a constant column.
    pub scale: f64,
}

/// Fitted encoder of one numeric column. Emits the (scaled) value, then the missing indicator
/// when enabled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericEncoderSpec {
    /// Fill for missing values.
    pub imputation: Imputation,
    /// Whether a 0/1 "was missing" feature follows the value.
    pub missing_indicator: bool,
    /// Standard scaling, when enabled.
    pub scaling: Option<Scaling>,
}

impl NumericEncoderSpec {
    /// Number of model features this column produces.
    pub fn width(&self) -> usize {
        1 + usize::from(self.missing_indicator)
    }

    /// The encoded value for a raw value (`None` = missing).
    #[inline]
    pub fn transform(&self, raw: Option<f64>) -> f64 {
        let x = match raw {
            Some(x) => x,
            None if self.imputation.strategy == ImputeStrategy::Nan => f64::NAN,
            None => self.imputation.value,
        };
        match self.scaling {
            Some(s) => (x - s.mean) / s.scale,
            None => x,
        }
    }

    pub(crate) fn validate(&self, field: &str) -> Result<()> {
        if !self.imputation.value.is_finite() {
            return Err(Error::field(
                format!("{field}.imputation.value"),
                "must be finite",
            ));
        }
        if let Some(s) = self.scaling {
            if !s.mean.is_finite() {
                return Err(Error::field(
                    format!("{field}.scaling.mean"),
                    "must be finite",
                ));
            }
            if !(s.scale.is_finite() && s.scale > 0.0) {
                return Err(Error::field(
                    format!("{field}.scaling.scale"),
                    "must be finite and positive",
                ));
            }
        }
        Ok(())
    }
}

/// Reads one input value of numeric column `column` under the NA policy `na`: `Ok(None)` is
/// missing.
#[inline]
pub(crate) fn read_number(
    column: &str,
    value: FieldValue<'_>,
    na: &NaValues,
) -> Result<Option<f64>> {
    match value {
        FieldValue::Null => Ok(None),
        FieldValue::Number(x) if x.is_nan() => Ok(None),
        FieldValue::Number(x) if x.is_finite() => Ok(Some(x)),
        FieldValue::Number(x) => Err(non_finite(column, x)),
        FieldValue::Text(s) => na.parse_number(column, s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imputes_then_scales() {
        let spec = NumericEncoderSpec {
            imputation: Imputation {
                strategy: ImputeStrategy::Median,
                value: 4.0,
            },
            missing_indicator: true,
            scaling: Some(Scaling {
                mean: 2.0,
                scale: 2.0,
            }),
        };
        assert_eq!(spec.transform(Some(6.0)), 2.0);
        assert_eq!(spec.transform(None), 1.0);
        assert_eq!(spec.width(), 2);
    }

    #[test]
    fn the_nan_strategy_passes_missing_values_through() {
        let spec = NumericEncoderSpec {
            imputation: Imputation {
                strategy: ImputeStrategy::Nan,
                value: 0.0,
            },
            missing_indicator: false,
            scaling: None,
        };
        assert!(spec.transform(None).is_nan());
        assert_eq!(spec.transform(Some(2.5)), 2.5);
    }

    #[test]
    fn reads_values_by_policy() {
        let na = NaValues::default();
        assert_eq!(
            read_number("a", FieldValue::Number(f64::NAN), &na).unwrap(),
            None
        );
        assert_eq!(
            read_number("a", FieldValue::Text("2"), &na).unwrap(),
            Some(2.0)
        );
        assert_eq!(read_number("a", FieldValue::Text("NA"), &na).unwrap(), None);
        let strict = NaValues::new(false, ["n/d"]);
        assert!(read_number("a", FieldValue::Text("NA"), &strict).is_err());
        assert_eq!(
            read_number("a", FieldValue::Text("n/d"), &strict).unwrap(),
            None
        );
        let err = read_number("a", FieldValue::Number(f64::INFINITY), &na).unwrap_err();
        assert_eq!(
            err.to_string(),
            "column `a`: expected a finite number (infinity is not accepted), got `inf`"
        );
    }
}
