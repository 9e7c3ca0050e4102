//! Reads binned cases as JSON on stdin and prints every statistic as JSON: the bridge the scipy
//! cross-checks (`crates/tabship-drift/tests/scipy/`) drive.
//!
//! Run with: `echo '[{"reference": [5, 5], "live": [2, 8]}]' | cargo run -p tabship-drift --example stats_json`
//!
//! Each case: `reference` and `live` counts over the same slots, optionally `edges` (for
//! Wasserstein: `len(edges) + 1` slots) and `outside` (the live out-of-range term). A case with
//! `values` instead captures a numeric profile of those values and prints it; one with
//! `p_values` prints their Benjamini–Hochberg adjustment.

use std::io::Read;

use serde_json::{Value, json};
use tabship_drift::{NumericProfile, ProfileOptions, stats};

fn counts(v: &Value, key: &str) -> Vec<u64> {
    v[key]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

fn floats(v: &Value, key: &str) -> Vec<f64> {
    v[key]
        .as_array()
        .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
        .unwrap_or_default()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let cases: Vec<Value> = serde_json::from_str(&input)?;
    let mut out = Vec::with_capacity(cases.len());
    for case in &cases {
        if case.get("values").is_some() {
            let options = ProfileOptions {
                bins: case["bins"].as_u64().unwrap_or(10) as usize,
                fine_bins: case["fine_bins"].as_u64().unwrap_or(100) as usize,
                ..ProfileOptions::default()
            };
            let profile = NumericProfile::capture(&floats(case, "values"), &options)?;
            out.push(serde_json::to_value(profile)?);
            continue;
        }
        if case.get("p_values").is_some() {
            let adjusted = stats::benjamini_hochberg(&floats(case, "p_values"));
            out.push(json!({ "benjamini_hochberg": adjusted }));
            continue;
        }
        let (r, l) = (counts(case, "reference"), counts(case, "live"));
        let ks = stats::ks(&r, &l);
        let chi = stats::chi_square(&r, &l);
        let edges = floats(case, "edges");
        out.push(json!({
            "psi": stats::psi(&r, &l),
            "ks": ks.statistic,
            "ks_p_value": ks.p_value,
            "ks_error_bound": ks.error_bound,
            "chi_square": chi.statistic,
            "chi_square_p_value": chi.p_value,
            "chi_square_dof": chi.dof,
            "jensen_shannon": stats::jensen_shannon(&r, &l),
            "hellinger": stats::hellinger(&r, &l),
            "wasserstein": stats::wasserstein(&edges, &r, &l, case["outside"].as_f64().unwrap_or(0.0)),
            "slot_points": stats::slot_points(&edges),
        }));
    }
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}
