//! Paired tests on per-row differences `d = loss(first) − loss(second)` of two models scored on
//! the same rows (positive: the second model has the smaller loss).
//!
//! - [`paired_t`] — Student's paired t-test, as `scipy.stats.ttest_rel`: tests a zero **mean**
//!   difference, which is exactly the difference of the MAE (absolute errors) or of the MSE
//!   (squared errors). Verdicts use it.
//! - [`wilcoxon`] — the Wilcoxon signed-rank test, as `scipy.stats.wilcoxon` (zeros dropped, no
//!   continuity correction): tests a difference distribution symmetric about zero, robust to a
//!   few huge errors. Reported beside the t-test as a check, not used by verdicts.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Student's paired t-test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairedT {
    /// Rows.
    pub rows: u64,
    /// Mean of the differences.
    pub mean: f64,
    /// `mean / (sd / √n)`.
    pub statistic: f64,
    /// Degrees of freedom, `n − 1`.
    pub df: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// Student's paired t-test of a zero mean difference, two-sided, as `scipy.stats.ttest_rel`.
/// Where scipy answers NaN the result is defined: fewer than two rows, or all differences zero,
/// give a p-value of 1; equal non-zero differences give 0.
pub fn paired_t(differences: &[f64]) -> PairedT {
    let n = differences.len();
    let rows = n as u64;
    if n < 2 {
        let mean = differences.first().copied().unwrap_or(0.0);
        return PairedT {
            rows,
            mean,
            statistic: 0.0,
            df: 0.0,
            p_value: 1.0,
        };
    }
    let nf = n as f64;
    let mean = differences.iter().sum::<f64>() / nf;
    let ss: f64 = differences.iter().map(|d| (d - mean) * (d - mean)).sum();
    let se = (ss / (nf - 1.0) / nf).sqrt();
    let df = nf - 1.0;
    if se == 0.0 || !se.is_finite() {
        let p_value = if mean == 0.0 || !se.is_finite() {
            1.0
        } else {
            0.0
        };
        let statistic = if mean == 0.0 {
            0.0
        } else {
            mean.signum() * f64::INFINITY
        };
        return PairedT {
            rows,
            mean,
            statistic,
            df,
            p_value,
        };
    }
    let statistic = mean / se;
    let p_value = StudentsT::new(0.0, 1.0, df)
        .map(|t| 2.0 * t.sf(statistic.abs()))
        .unwrap_or(1.0)
        .clamp(0.0, 1.0);
    PairedT {
        rows,
        mean,
        statistic,
        df,
        p_value,
    }
}

/// How the Wilcoxon p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WilcoxonMethod {
    /// The exact null distribution of the rank sum (at most 50 rows, no zero and no tie).
    Exact,
    /// The normal approximation with the tie correction.
    Normal,
}

/// The Wilcoxon signed-rank test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Wilcoxon {
    /// Non-zero differences ranked.
    pub ranked: u64,
    /// `min(R+, R−)`, scipy's two-sided statistic.
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Exact or normal.
    pub method: WilcoxonMethod,
}

/// The Wilcoxon signed-rank test of the differences, two-sided, as `scipy.stats.wilcoxon(d)`
/// with its defaults (`zero_method="wilcox"`: zeros dropped; `correction=False`;
/// `method="auto"`): exact for at most 50 differences without zeros or ties, otherwise the
/// normal approximation with the tie correction (scipy runs a permutation test for at most 13
/// differences with zeros or ties; here they take the normal approximation too). No non-zero
/// difference gives a p-value of 1. NaN differences are dropped.
pub fn wilcoxon(differences: &[f64]) -> Wilcoxon {
    let total = differences.iter().filter(|d| !d.is_nan()).count();
    let mut d: Vec<f64> = differences
        .iter()
        .copied()
        .filter(|&d| d != 0.0 && !d.is_nan())
        .collect();
    let zeros = total - d.len();
    d.sort_by(|a, b| a.abs().total_cmp(&b.abs()));
    let n = d.len();
    // Average ranks of |d|, and the tie correction Σ(t³ − t).
    let (mut r_plus, mut r_minus, mut ties) = (0.0, 0.0, 0.0);
    let mut start = 0;
    while start < n {
        let mut end = start + 1;
        while end < n && d[end].abs() == d[start].abs() {
            end += 1;
        }
        let t = (end - start) as f64;
        let rank = (start + end + 1) as f64 / 2.0;
        for &x in &d[start..end] {
            if x > 0.0 {
                r_plus += rank;
            } else {
                r_minus += rank;
            }
        }
        ties += t * t * t - t;
        start = end;
    }
    let statistic = f64::min(r_plus, r_minus);
    let ranked = n as u64;
    if n == 0 {
        return Wilcoxon {
            ranked,
            statistic,
            p_value: 1.0,
            method: WilcoxonMethod::Normal,
        };
    }
    if total <= 50 && zeros == 0 && ties == 0.0 {
        return Wilcoxon {
            ranked,
            statistic,
            p_value: exact_p(n, r_plus),
            method: WilcoxonMethod::Exact,
        };
    }
    let nf = n as f64;
    let mean = nf * (nf + 1.0) / 4.0;
    let se = ((nf * (nf + 1.0) * (2.0 * nf + 1.0) - ties / 2.0) / 24.0).sqrt();
    let z = (r_plus - mean) / se;
    // libm's erfc: statrs' is good to about 1e-10 only. 2 P(Z > |z|) = erfc(|z| / √2).
    let p_value = libm::erfc(z.abs() / std::f64::consts::SQRT_2).clamp(0.0, 1.0);
    Wilcoxon {
        ranked,
        statistic,
        p_value,
        method: WilcoxonMethod::Normal,
    }
}

/// The exact two-sided p-value of the rank sum `r_plus` of `n` untied ranks:
/// `2 min(P(T ≥ r), P(T ≤ r))`, with the null distribution counted by subset sums (at most
/// 2⁵⁰ subsets: exact in `f64`).
fn exact_p(n: usize, r_plus: f64) -> f64 {
    let max = n * (n + 1) / 2;
    let mut counts = vec![0.0f64; max + 1];
    counts[0] = 1.0;
    for k in 1..=n {
        for s in (k..=max).rev() {
            counts[s] += counts[s - k];
        }
    }
    let all = 2f64.powi(n as i32);
    let r = r_plus.round() as usize;
    let below: f64 = counts[..=r.min(max)].iter().sum();
    let above: f64 = counts[r.min(max)..].iter().sum();
    (2.0 * below.min(above) / all).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_by_hand() {
        // d = 1, 2, 3: mean 2, sd 1, se 1/√3, t = 2√3.
        let t = paired_t(&[1.0, 2.0, 3.0]);
        assert!((t.statistic - 2.0 * 3f64.sqrt()).abs() < 1e-12);
        assert_eq!(t.df, 2.0);
        assert!(t.p_value > 0.05 && t.p_value < 0.1);
    }

    #[test]
    fn t_degenerate_cases_are_defined() {
        assert_eq!(paired_t(&[]).p_value, 1.0);
        assert_eq!(paired_t(&[3.0]).p_value, 1.0);
        assert_eq!(paired_t(&[0.0, 0.0, 0.0]).p_value, 1.0);
        assert_eq!(paired_t(&[0.5, 0.5, 0.5]).p_value, 0.0);
    }

    #[test]
    fn wilcoxon_by_hand() {
        // Ranks 1..4 all positive: R− = 0, P(T ≤ 0) = 1/16, two-sided 1/8.
        let w = wilcoxon(&[0.5, -0.0, 1.0, 2.0, 3.0]);
        assert_eq!(w.ranked, 4);
        assert_eq!(w.statistic, 0.0);
        // A zero: normal approximation, as scipy.
        assert_eq!(w.method, WilcoxonMethod::Normal);
        let w = wilcoxon(&[0.5, 1.0, 2.0, 3.0]);
        assert_eq!(w.method, WilcoxonMethod::Exact);
        assert!((w.p_value - 0.125).abs() < 1e-15);
        assert_eq!(wilcoxon(&[0.0, 0.0]).p_value, 1.0);
    }
}
