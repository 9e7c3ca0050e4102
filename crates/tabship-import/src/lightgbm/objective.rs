//! The `objective=` header line: which objective, and the parameters that change predictions.

use super::model::Objective;
use super::text::parse_error;
use crate::Result;

/// Objectives whose `ConvertOutput` returns the margin unchanged (unless `sqrt` is set, which
/// squares it back).
const IDENTITY: [&str; 6] = [
    "regression",
    "regression_l1",
    "huber",
    "fair",
    "quantile",
    "mape",
];

/// Every other objective LightGBM's `CreateObjectiveFunction` accepts.
const OTHER: [&str; 9] = [
    "poisson",
    "gamma",
    "tweedie",
    "lambdarank",
    "rank_xendcg",
    "multiclassova",
    "cross_entropy",
    "cross_entropy_lambda",
    "custom",
];

/// Parses `objective=NAME key:value ...` from line `no`.
pub(super) fn parse_objective(no: usize, text: &str) -> Result<Objective> {
    let mut parts = text.split(' ');
    let name = parts.next().unwrap_or("");
    let params: Vec<&str> = parts.collect();
    let param = |key: &str| {
        params
            .iter()
            .find_map(|p| p.strip_prefix(key).and_then(|v| v.strip_prefix(':')))
    };
    let bad = |expected: &str, got: &str| {
        parse_error(format!("line {no}"), "objective", expected.to_string(), got)
    };
    if IDENTITY.contains(&name) {
        if params.contains(&"sqrt") {
            return Ok(Objective::Other {
                text: text.to_string(),
            });
        }
        return Ok(Objective::Identity {
            name: name.to_string(),
        });
    }
    match name {
        "binary" => {
            // LightGBM writes `sigmoid:` with the stream's default 6 significant digits; the
            // loaded model predicts with that value, as parsed here.
            let s = param("sigmoid").ok_or_else(|| bad("`binary sigmoid:VALUE`", text))?;
            let sigmoid: f64 = s
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v > 0.0)
                .ok_or_else(|| bad("a positive sigmoid", s))?;
            Ok(Objective::Binary { sigmoid })
        }
        "multiclass" => {
            let k = param("num_class").ok_or_else(|| bad("`multiclass num_class:K`", text))?;
            let num_class = k
                .parse::<usize>()
                .ok()
                .filter(|&k| k >= 2)
                .ok_or_else(|| bad("a number of classes of at least 2", k))?;
            Ok(Objective::Multiclass { num_class })
        }
        _ if OTHER.contains(&name) => Ok(Objective::Other {
            text: text.to_string(),
        }),
        _ => Err(bad("an objective LightGBM knows", name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objectives_parse_with_their_parameters() {
        assert_eq!(
            parse_objective(1, "binary sigmoid:1").ok(),
            Some(Objective::Binary { sigmoid: 1.0 })
        );
        assert_eq!(
            parse_objective(1, "multiclass num_class:3").ok(),
            Some(Objective::Multiclass { num_class: 3 })
        );
        assert_eq!(
            parse_objective(1, "regression").ok(),
            Some(Objective::Identity {
                name: "regression".into()
            })
        );
        assert!(matches!(
            parse_objective(1, "regression sqrt"),
            Ok(Objective::Other { .. })
        ));
        assert!(matches!(
            parse_objective(1, "poisson"),
            Ok(Objective::Other { .. })
        ));
        assert!(parse_objective(1, "binary").is_err());
        assert!(parse_objective(1, "binary sigmoid:-1").is_err());
        assert!(parse_objective(1, "multiclass num_class:1").is_err());
        assert!(parse_objective(1, "nonsense").is_err());
    }
}
