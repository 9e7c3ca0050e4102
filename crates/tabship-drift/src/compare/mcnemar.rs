//! The exact McNemar test on paired correctness: of the rows exactly one model gets right, does
//! each model win half of them? Under equal accuracy the count `b` of rows only the first model
//! gets right is Binomial(b + c, 1/2); the two-sided p-value is `min(1, 2 P(X ≤ min(b, c)))`,
//! as `statsmodels.stats.contingency_tables.mcnemar(table, exact=True)` and
//! `scipy.stats.binomtest(b, b + c, 0.5)` compute it.

use serde::{Deserialize, Serialize};

/// The exact McNemar test of two models' paired correctness.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct McNemar {
    /// Rows only the first model predicts correctly (`b` of the 2×2 table).
    pub only_first: u64,
    /// Rows only the second model predicts correctly (`c` of the 2×2 table).
    pub only_second: u64,
    /// `min(b, c)`, statsmodels' statistic for the exact test.
    pub statistic: u64,
    /// The exact two-sided p-value, `min(1, 2 P(X ≤ min(b, c)))` for `X ~ Binomial(b + c, 1/2)`.
    pub p_value: f64,
    /// The mid-p-value, `2 P(X ≤ min(b, c)) − P(X = min(b, c))` (Fagerland, Lydersen and Laake,
    /// 2013): less conservative, its size close to the nominal level; reported, not used by
    /// verdicts.
    pub mid_p_value: f64,
}

/// The exact McNemar test from the discordant counts: `only_first` rows the first model alone
/// gets right, `only_second` rows the second alone gets right. Rows both get right or both get
/// wrong carry no information on the difference and are not needed. No discordant row gives a
/// p-value of 1.
pub fn mcnemar_exact(only_first: u64, only_second: u64) -> McNemar {
    let n = only_first + only_second;
    let k = only_first.min(only_second);
    let (cdf, pmf) = half_binomial_cdf(n, k);
    McNemar {
        only_first,
        only_second,
        statistic: k,
        p_value: (2.0 * cdf).min(1.0),
        mid_p_value: (2.0 * cdf - pmf).clamp(0.0, 1.0),
    }
}

/// The discordant counts of paired correctness: rows only `first` gets right and rows only
/// `second` gets right. The slices are the per-row correctness of each model on the same rows;
/// a length mismatch counts only the common prefix (callers check lengths first).
pub fn discordant(first: &[bool], second: &[bool]) -> (u64, u64) {
    first
        .iter()
        .zip(second)
        .fold((0, 0), |(b, c), (&f, &s)| match (f, s) {
            (true, false) => (b + 1, c),
            (false, true) => (b, c + 1),
            _ => (b, c),
        })
}

/// `(P(X ≤ k), P(X = k))` for `X ~ Binomial(n, 1/2)` and `k ≤ n / 2`: the probability at `k`
/// by Loader's saddle-point form (as R's `dbinom` and scipy's Boost), then the lower terms by the
/// exact ratio `P(i − 1) / P(i) = i / (n − i + 1)`, which only shrinks below the mode, so the sum
/// stops when a term no longer changes it.
fn half_binomial_cdf(n: u64, k: u64) -> (f64, f64) {
    if n == 0 {
        return (1.0, 1.0);
    }
    let pmf = half_binomial_pmf(n, k);
    let mut term = pmf;
    let mut sum = pmf;
    let mut i = k;
    while i > 0 && term > 0.0 {
        term *= i as f64 / (n - i + 1) as f64;
        let next = sum + term;
        if next == sum {
            break;
        }
        sum = next;
        i -= 1;
    }
    (sum.min(1.0), pmf)
}

/// `P(X = k)` for `X ~ Binomial(n, 1/2)`, `0 ≤ k < n`, to a few ulps (Loader, "Fast and accurate
/// computation of binomial probabilities", 2000): log-binomials through `ln Γ` lose about
/// `1e-15 · n ln n` in the exponent, 1e-12 relative already at a few thousand discordant rows.
fn half_binomial_pmf(n: u64, k: u64) -> f64 {
    if k == 0 {
        return (-(n as f64) * std::f64::consts::LN_2).exp();
    }
    let (nf, kf) = (n as f64, k as f64);
    let half = nf / 2.0;
    let lc = stirlerr(n) - stirlerr(k) - stirlerr(n - k) - bd0(kf, half) - bd0(nf - kf, half);
    let lf = (2.0 * std::f64::consts::PI).ln() + kf.ln() + (-kf / nf).ln_1p();
    (lc - 0.5 * lf).exp()
}

/// `ln n! − ln(√(2π n) (n/e)ⁿ)`, Stirling's error: the series for `n > 15`, directly below
/// (where the cancellation costs a few `1e-15` in absolute terms, which is what matters in an
/// exponent).
fn stirlerr(n: u64) -> f64 {
    const S0: f64 = 1.0 / 12.0;
    const S1: f64 = 1.0 / 360.0;
    const S2: f64 = 1.0 / 1260.0;
    const S3: f64 = 1.0 / 1680.0;
    const S4: f64 = 1.0 / 1188.0;
    let x = n as f64;
    if n <= 15 {
        let ln_factorial: f64 = (2..=n).map(|i| (i as f64).ln()).sum();
        return ln_factorial - (x + 0.5) * x.ln() + x - 0.5 * (2.0 * std::f64::consts::PI).ln();
    }
    let xx = x * x;
    if n > 500 {
        (S0 - S1 / xx) / x
    } else if n > 80 {
        (S0 - (S1 - S2 / xx) / xx) / x
    } else if n > 35 {
        (S0 - (S1 - (S2 - S3 / xx) / xx) / xx) / x
    } else {
        (S0 - (S1 - (S2 - (S3 - S4 / xx) / xx) / xx) / xx) / x
    }
}

/// The deviance term `x ln(x / m) + m − x`, by a series when `x` is close to `m` (where the
/// direct form cancels).
fn bd0(x: f64, m: f64) -> f64 {
    if (x - m).abs() < 0.1 * (x + m) {
        let mut v = (x - m) / (x + m);
        let mut s = (x - m) * v;
        let mut ej = 2.0 * x * v;
        v *= v;
        for j in 1..1000 {
            ej *= v;
            let next = s + ej / f64::from(2 * j + 1);
            if next == s {
                return next;
            }
            s = next;
        }
        return s;
    }
    x * (x / m).ln() + m - x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        // b = 1, c = 5: P(X ≤ 1) for Binomial(6, 1/2) = 7/64, two-sided 14/64.
        let t = mcnemar_exact(1, 5);
        assert!((t.p_value - 14.0 / 64.0).abs() < 1e-15);
        assert!((t.mid_p_value - (14.0 - 6.0) / 64.0).abs() < 1e-15);
        assert_eq!(t.statistic, 1);
        // Symmetric in the models.
        assert_eq!(mcnemar_exact(5, 1).p_value, t.p_value);
    }

    #[test]
    fn no_discordant_rows_and_ties_give_one() {
        assert_eq!(mcnemar_exact(0, 0).p_value, 1.0);
        assert_eq!(mcnemar_exact(7, 7).p_value, 1.0);
        assert!((mcnemar_exact(7, 7).mid_p_value - 1.0).abs() < 1e-12);
    }

    #[test]
    fn large_and_lopsided_counts_stay_finite() {
        let t = mcnemar_exact(0, 5000);
        assert!(t.p_value.is_finite() && t.p_value < 1e-300);
        let t = mcnemar_exact(1_000_000, 1_000_100);
        assert!(t.p_value > 0.8 && t.p_value <= 1.0);
    }

    #[test]
    fn discordant_counts() {
        let a = [true, true, false, false, true];
        let b = [true, false, true, false, false];
        assert_eq!(discordant(&a, &b), (2, 1));
    }
}
