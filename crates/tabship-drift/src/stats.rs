//! Drift statistics over binned counts: pure functions, defined (finite, never NaN) for every
//! input, empty ones included.
//!
//! Each function takes the reference counts and the live counts over the same slots. Results for
//! degenerate inputs: when either side has no mass, distances are 0 and p-values 1 (nothing to
//! compare is not evidence of drift; missing values are judged separately by their rate).

use statrs::distribution::{ChiSquared, ContinuousCDF};

/// The share given to an empty slot by [`psi`], on either side: `1e-4` (as Evidently does), so
/// that an empty slot adds a large but finite term instead of an infinite one.
pub const PSI_EPSILON: f64 = 1e-4;

fn total(counts: &[u64]) -> f64 {
    counts.iter().map(|&c| c as f64).sum()
}

fn shares(counts: &[u64]) -> Vec<f64> {
    let n = total(counts);
    if n == 0.0 {
        return vec![0.0; counts.len()];
    }
    counts.iter().map(|&c| c as f64 / n).collect()
}

fn both_present(reference: &[u64], live: &[u64]) -> bool {
    reference.len() == live.len() && total(reference) > 0.0 && total(live) > 0.0
}

/// Population stability index: `Σ (l − r) ln(l / r)` over slot shares, an empty share replaced by
/// [`PSI_EPSILON`]. 0 for identical distributions; ≥ 0.1 is commonly read as a shift, ≥ 0.25 as a
/// large one.
pub fn psi(reference: &[u64], live: &[u64]) -> f64 {
    if !both_present(reference, live) {
        return 0.0;
    }
    shares(reference)
        .into_iter()
        .zip(shares(live))
        .map(|(r, l)| {
            let (r, l) = (r.max(PSI_EPSILON), l.max(PSI_EPSILON));
            if r == l { 0.0 } else { (l - r) * (l / r).ln() }
        })
        .sum()
}

/// Two-sample Kolmogorov–Smirnov on binned data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KsResult {
    /// `max |F_ref − F_live|` over the slot boundaries.
    pub statistic: f64,
    /// Asymptotic p-value: the Kolmogorov distribution's survival function at
    /// `sqrt(n m / (n + m)) · statistic`.
    pub p_value: f64,
    /// How far the true statistic of the unbinned samples can lie above `statistic`: the
    /// largest reference share of one slot (the true statistic is in
    /// `[statistic, statistic + error_bound]`).
    pub error_bound: f64,
}

/// Kolmogorov–Smirnov between the reference slot counts and the live slot counts.
///
/// Both empirical CDFs are exact at every slot boundary (a slot holds the values in
/// `(e[i-1], e[i]]`), so the statistic equals `scipy.stats.ks_2samp` on the two samples with each
/// value replaced by its slot index. Between two boundaries the reference CDF is unknown but
/// monotone, so the statistic of the raw samples exceeds it by at most the reference share of
/// the slot where it is reached: with 100 quantile slots, by about 0.01. The p-value is
/// computed from the binned statistic, which makes the test slightly conservative.
pub fn ks(reference: &[u64], live: &[u64]) -> KsResult {
    if !both_present(reference, live) {
        return KsResult {
            statistic: 0.0,
            p_value: 1.0,
            error_bound: 0.0,
        };
    }
    let (n, m) = (total(reference), total(live));
    let (mut cr, mut cl, mut d) = (0.0f64, 0.0f64, 0.0f64);
    let mut bound = 0.0f64;
    for (&r, &l) in reference.iter().zip(live) {
        cr += r as f64;
        cl += l as f64;
        d = d.max((cr / n - cl / m).abs());
        bound = bound.max(r as f64 / n);
    }
    let d = d.min(1.0);
    let en = n * m / (n + m);
    KsResult {
        statistic: d,
        p_value: kolmogorov_sf(en.sqrt() * d),
        error_bound: bound,
    }
}

/// Survival function of the Kolmogorov distribution (the limit of `sqrt(n) D_n`), the one
/// distribution `statrs` does not provide: `Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} exp(−2 k² λ²)`, and for
/// small `λ`, where that series converges slowly, `1 − (√(2π)/λ) Σ_{k≥1} exp(−(2k−1)² π² / (8λ²))`.
/// Both series are summed until their terms fall below 1e-16 (absolute error below 1e-15, checked
/// against `scipy.stats.kstwobign.sf` in the scipy tests).
pub fn kolmogorov_sf(lambda: f64) -> f64 {
    if !lambda.is_finite() {
        return if lambda > 0.0 { 0.0 } else { 1.0 };
    }
    if lambda <= 0.0 {
        return 1.0;
    }
    let p = if lambda < 1.0 {
        let mut cdf = 0.0;
        for k in 1..=50 {
            let odd = (2 * k - 1) as f64;
            let term =
                (-(odd * odd) * std::f64::consts::PI.powi(2) / (8.0 * lambda * lambda)).exp();
            cdf += term;
            if term < 1e-16 {
                break;
            }
        }
        1.0 - (2.0 * std::f64::consts::PI).sqrt() / lambda * cdf
    } else {
        let mut sum = 0.0;
        for k in 1..=100 {
            let kf = k as f64;
            let term = (-2.0 * kf * kf * lambda * lambda).exp();
            sum += if k % 2 == 1 { term } else { -term };
            if term < 1e-16 {
                break;
            }
        }
        2.0 * sum
    };
    p.clamp(0.0, 1.0)
}

/// Pearson's chi-square test of homogeneity of the reference and live samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChiSquareResult {
    /// `Σ (observed − expected)² / expected` over both rows of the 2 × k table.
    pub statistic: f64,
    /// Survival function of the chi-square distribution (statrs) at the statistic.
    pub p_value: f64,
    /// Degrees of freedom: used slots − 1.
    pub dof: usize,
}

/// Two-sample chi-square test: the reference and live counts are the two rows of a 2 × k
/// contingency table over the slots where either side has rows, and the test asks whether both
/// samples come from one distribution. Expected counts are `row total × column total / N`, so
/// the reference is a sample with its own noise, not the exact truth: a goodness-of-fit test
/// against the reference shares flags small references far too often (its variance ignores
/// the reference's). Equals `scipy.stats.chi2_contingency([reference, live], correction=False)`
/// on the used slots. A slot only the live side has (a category never seen) has a positive
/// expected count, so no pseudo-count is needed. With fewer than two used slots the statistic
/// is 0 and the p-value 1.
pub fn chi_square(reference: &[u64], live: &[u64]) -> ChiSquareResult {
    let none = ChiSquareResult {
        statistic: 0.0,
        p_value: 1.0,
        dof: 0,
    };
    if !both_present(reference, live) {
        return none;
    }
    let used: Vec<(f64, f64)> = reference
        .iter()
        .zip(live)
        .filter(|(r, l)| **r > 0 || **l > 0)
        .map(|(&r, &l)| (r as f64, l as f64))
        .collect();
    if used.len() < 2 {
        return none;
    }
    let n_ref: f64 = used.iter().map(|(r, _)| r).sum();
    let n_live: f64 = used.iter().map(|(_, l)| l).sum();
    let n = n_ref + n_live;
    let statistic: f64 = used
        .iter()
        .map(|(r, l)| {
            let column = r + l;
            let (e_ref, e_live) = (n_ref * column / n, n_live * column / n);
            (r - e_ref).powi(2) / e_ref + (l - e_live).powi(2) / e_live
        })
        .sum();
    let dof = used.len() - 1;
    let p_value = ChiSquared::new(dof as f64)
        .map(|d| d.sf(statistic))
        .unwrap_or(1.0);
    ChiSquareResult {
        statistic: if statistic.is_finite() {
            statistic
        } else {
            f64::MAX
        },
        p_value: if p_value.is_finite() {
            p_value.clamp(0.0, 1.0)
        } else {
            0.0
        },
        dof,
    }
}

/// Benjamini–Hochberg adjusted p-values (as `statsmodels.stats.multitest.multipletests(p,
/// method="fdr_bh")` and `scipy.stats.false_discovery_control(p)`): `p_(i) m / i` for the
/// `i`-th smallest of `m` p-values, made monotone from the largest down and capped at 1.
/// Rejecting where the adjusted value is below `q` keeps the expected share of false alarms
/// among the alarms at most `q`; when nothing drifted, the chance of any alarm is at most `q`,
/// whatever the number of columns. Non-finite inputs count as 1.
pub fn benjamini_hochberg(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let clean = |p: f64| {
        if p.is_finite() {
            p.clamp(0.0, 1.0)
        } else {
            1.0
        }
    };
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| clean(p_values[a]).total_cmp(&clean(p_values[b])));
    let mut adjusted = vec![1.0; m];
    let mut running = 1.0f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        let value = clean(p_values[i]) * m as f64 / (rank + 1) as f64;
        running = running.min(value);
        adjusted[i] = running.min(1.0);
    }
    adjusted
}

/// Jensen–Shannon distance with base-2 logarithms: the square root of the Jensen–Shannon
/// divergence of the slot shares, in `[0, 1]` (as `scipy.spatial.distance.jensenshannon(p, q,
/// base=2)`).
pub fn jensen_shannon(reference: &[u64], live: &[u64]) -> f64 {
    if !both_present(reference, live) {
        return 0.0;
    }
    let kl = |p: f64, m: f64| if p > 0.0 { p * (p / m).log2() } else { 0.0 };
    let divergence: f64 = shares(reference)
        .into_iter()
        .zip(shares(live))
        .map(|(p, q)| {
            let m = 0.5 * (p + q);
            0.5 * kl(p, m) + 0.5 * kl(q, m)
        })
        .sum();
    divergence.max(0.0).sqrt().min(1.0)
}

/// Hellinger distance of the slot shares: `sqrt(1 − Σ sqrt(p q))`, in `[0, 1]`.
pub fn hellinger(reference: &[u64], live: &[u64]) -> f64 {
    if !both_present(reference, live) {
        return 0.0;
    }
    let bc: f64 = shares(reference)
        .into_iter()
        .zip(shares(live))
        .map(|(p, q)| (p * q).sqrt())
        .sum();
    (1.0 - bc).max(0.0).sqrt().min(1.0)
}

/// The point each fine slot's mass is placed at by [`wasserstein`]: the underflow slot at the
/// first edge, the overflow slot at the last, every other slot at its midpoint.
pub fn slot_points(edges: &[f64]) -> Vec<f64> {
    let m = edges.len();
    if m == 0 {
        return vec![0.0];
    }
    let mut points = Vec::with_capacity(m + 1);
    points.push(edges[0]);
    for w in edges.windows(2) {
        points.push(0.5 * (w[0] + w[1]));
    }
    points.push(edges[m - 1]);
    points
}

/// Wasserstein-1 distance between the reference and live samples, binned on the fine edges:
/// every value moved to its slot's point (see [`slot_points`]), which changes the distance by at
/// most the widest slot; then `outside` (the live sum of distances from the reference range of
/// values below the minimum or above the maximum, divided by the live count) is added, which is
/// exact for those values. Equals `scipy.stats.wasserstein_distance(points, points, reference,
/// live)` when `outside` is 0.
pub fn wasserstein(edges: &[f64], reference: &[u64], live: &[u64], outside: f64) -> f64 {
    if !both_present(reference, live) || edges.len() + 1 != reference.len() {
        return 0.0;
    }
    let points = slot_points(edges);
    let (n, m) = (total(reference), total(live));
    let (mut cr, mut cl, mut w) = (0.0f64, 0.0f64, 0.0f64);
    for i in 0..points.len() - 1 {
        cr += reference[i] as f64;
        cl += live[i] as f64;
        w += (cr / n - cl / m).abs() * (points[i + 1] - points[i]);
    }
    let w = w + outside.max(0.0);
    if w.is_finite() { w } else { f64::MAX }
}

/// Wasserstein-1 distance between two samples of the same few distinct values `points`
/// (strictly increasing) with counts `reference` and `live`: `Σ |F_ref − F_live| (x_{i+1} −
/// x_i)`, exact, as `scipy.stats.wasserstein_distance(points, points, reference, live)`.
pub fn wasserstein_at(points: &[f64], reference: &[u64], live: &[u64]) -> f64 {
    if !both_present(reference, live) || points.len() != reference.len() {
        return 0.0;
    }
    let (n, m) = (total(reference), total(live));
    let (mut cr, mut cl, mut w) = (0.0f64, 0.0f64, 0.0f64);
    for i in 0..points.len() - 1 {
        cr += reference[i] as f64;
        cl += live[i] as f64;
        w += (cr / n - cl / m).abs() * (points[i + 1] - points[i]);
    }
    if w.is_finite() { w } else { f64::MAX }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} vs {b}");
    }

    #[test]
    fn psi_by_hand() {
        // shares r = (0.5, 0.5), l = (0.25, 0.75):
        // (0.25-0.5) ln(0.5) + (0.75-0.5) ln(1.5) = 0.25 (ln 2 + ln 1.5) = 0.25 ln 3
        close(psi(&[50, 50], &[25, 75]), 0.25 * 3f64.ln(), 1e-12);
        // empty live slot: share 1e-4
        let expected = (1e-4 - 0.5) * (1e-4f64 / 0.5).ln() + (1.0 - 0.5) * 2f64.ln();
        close(psi(&[5, 5], &[0, 10]), expected, 1e-12);
        assert_eq!(psi(&[1, 2], &[1, 2]), 0.0);
        assert_eq!(psi(&[0, 0], &[1, 2]), 0.0);
    }

    #[test]
    fn ks_by_hand() {
        // cumulative: ref 0.25, 0.5, 1.0; live 0.5, 0.75, 1.0 → D = 0.25
        let r = ks(&[25, 25, 50], &[2, 1, 1]);
        close(r.statistic, 0.25, 1e-12);
        close(r.error_bound, 0.5, 1e-12);
        // en = 100*4/104
        close(
            r.p_value,
            kolmogorov_sf((400.0f64 / 104.0).sqrt() * 0.25),
            1e-15,
        );
        assert_eq!(ks(&[1, 2], &[0, 0]).p_value, 1.0);
    }

    #[test]
    fn kolmogorov_sf_known_values() {
        // scipy.stats.kstwobign.sf
        close(kolmogorov_sf(0.5), 0.9639452436648751, 1e-12);
        close(kolmogorov_sf(1.0), 0.26999967167735456, 1e-12);
        close(kolmogorov_sf(1.36), 0.049485876755377876, 1e-12);
        close(kolmogorov_sf(2.0), 0.0006709252557796953, 1e-12);
        close(kolmogorov_sf(0.2), 0.999999999999495, 1e-13);
        assert_eq!(kolmogorov_sf(0.0), 1.0);
        assert_eq!(kolmogorov_sf(f64::INFINITY), 0.0);
        // continuity where the two series meet
        close(kolmogorov_sf(1.0 - 1e-12), kolmogorov_sf(1.0), 1e-10);
    }

    #[test]
    fn chi_square_by_hand() {
        // rows (10, 10) and (20, 0): column totals 30, 10, N 40; expected reference (15, 5),
        // live (15, 5): 25/15 + 25/5 + 25/15 + 25/5 = 13.333...
        let r = chi_square(&[10, 10], &[20, 0]);
        close(r.statistic, 40.0 / 3.0, 1e-12);
        assert_eq!(r.dof, 1);
        // rows (25, 25, 50) and (30, 20, 50): equal row totals, so each expected count is half
        // its column (27.5, 22.5, 50); chi2(2).sf(x) = exp(-x/2)
        let r = chi_square(&[25, 25, 50], &[30, 20, 50]);
        close(r.statistic, 12.5 / 27.5 + 12.5 / 22.5, 1e-12);
        close(r.p_value, (-r.statistic / 2.0).exp(), 1e-12);
        // a slot the reference never had: finite and significant without any pseudo-count
        let r = chi_square(&[100, 100, 0], &[10, 10, 10]);
        assert!(r.statistic.is_finite() && r.p_value < 1e-6, "{r:?}");
        // a single used slot
        assert_eq!(chi_square(&[5, 0], &[3, 0]).p_value, 1.0);
    }

    #[test]
    fn the_chi_square_test_counts_the_reference_noise() {
        // The same live counts against a small reference: a goodness-of-fit test against the
        // reference shares would give chi2 = (60-50)²/50·2 = 4 (p 0.046); the two-sample test
        // knows the 100-row reference is noisy too: expected (55, 45) in both rows, chi2 2.02
        // (p 0.155).
        let r = chi_square(&[50, 50], &[60, 40]);
        close(r.statistic, 50.0 / 55.0 + 50.0 / 45.0, 1e-12);
        assert!(r.p_value > 0.15, "{r:?}");
    }

    #[test]
    fn benjamini_hochberg_by_hand() {
        // statsmodels multipletests([0.01, 0.04, 0.03, 0.5], method="fdr_bh")[1]
        let adjusted = benjamini_hochberg(&[0.01, 0.04, 0.03, 0.5]);
        for (a, b) in adjusted
            .iter()
            .zip([0.04, 0.0533333333333, 0.0533333333333, 0.5])
        {
            close(*a, b, 1e-9);
        }
        assert_eq!(benjamini_hochberg(&[0.2]), [0.2]);
        assert!(benjamini_hochberg(&[]).is_empty());
        assert_eq!(benjamini_hochberg(&[f64::NAN, 0.9]), [1.0, 1.0]);
    }

    #[test]
    fn jensen_shannon_and_hellinger_by_hand() {
        // disjoint supports: distance 1
        close(jensen_shannon(&[1, 0], &[0, 1]), 1.0, 1e-12);
        close(hellinger(&[1, 0], &[0, 1]), 1.0, 1e-12);
        assert_eq!(jensen_shannon(&[3, 1], &[6, 2]), 0.0);
        // p = (0.5, 0.5), q = (1, 0): m = (0.75, 0.25)
        let js = 0.5 * (0.5 * (0.5f64 / 0.75).log2() + 0.5 * (0.5f64 / 0.25).log2())
            + 0.5 * (1.0f64 / 0.75).log2();
        close(jensen_shannon(&[1, 1], &[1, 0]), js.sqrt(), 1e-12);
        close(
            hellinger(&[1, 1], &[1, 0]),
            (1.0 - 0.5f64.sqrt()).sqrt(),
            1e-12,
        );
    }

    #[test]
    fn wasserstein_by_hand() {
        // edges 0, 2, 4 → points 0, 1, 3, 4; all reference mass at 1, all live mass at 3
        close(
            wasserstein(&[0.0, 2.0, 4.0], &[0, 4, 0, 0], &[0, 0, 4, 0], 0.0),
            2.0,
            1e-12,
        );
        // half the live mass 1 above the range: 0.5 (4 - 1) + 0.5 * 1
        close(
            wasserstein(&[0.0, 2.0, 4.0], &[0, 4, 0, 0], &[0, 2, 0, 2], 0.5),
            2.0,
            1e-12,
        );
        assert_eq!(wasserstein(&[], &[0], &[3], 0.0), 0.0);
        // 0/1 values, 16% of ones against all ones: the whole 0.84 of mass moves by 1
        close(
            wasserstein_at(&[0.0, 1.0], &[84, 16], &[0, 50]),
            0.84,
            1e-12,
        );
        close(
            wasserstein_at(&[0.0, 2.0, 3.0], &[1, 0, 1], &[1, 0, 1]),
            0.0,
            1e-12,
        );
    }
}
