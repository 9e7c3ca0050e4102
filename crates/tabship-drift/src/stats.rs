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

/// The pseudo-count added to every reference slot by [`chi_square`] when some slot has live rows
/// but no reference rows (a category never seen, an out-of-range value): the Jeffreys prior 0.5.
pub const CHI_SQUARE_PSEUDO_COUNT: f64 = 0.5;

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

/// Pearson's chi-square goodness-of-fit test of the live counts against the reference shares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChiSquareResult {
    /// `Σ (observed − expected)² / expected`.
    pub statistic: f64,
    /// Survival function of the chi-square distribution (statrs) at the statistic.
    pub p_value: f64,
    /// Degrees of freedom: used slots − 1.
    pub dof: usize,
}

/// Chi-square test: expected live counts are the reference shares times the live total, over the
/// slots where either side has rows. Without slots that only the live side has, this is exactly
/// `scipy.stats.chisquare(live, expected)`; otherwise every used reference slot first gets
/// [`CHI_SQUARE_PSEUDO_COUNT`] so that expectations are positive and the statistic finite.
/// With fewer than two used slots the statistic is 0 and the p-value 1.
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
    let pseudo = if used.iter().any(|(r, _)| *r == 0.0) {
        CHI_SQUARE_PSEUDO_COUNT
    } else {
        0.0
    };
    let n_ref: f64 = used.iter().map(|(r, _)| r + pseudo).sum();
    let n_live: f64 = used.iter().map(|(_, l)| l).sum();
    let statistic: f64 = used
        .iter()
        .map(|(r, l)| {
            let expected = (r + pseudo) / n_ref * n_live;
            (l - expected).powi(2) / expected
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
        // expected (25, 25, 50) for 100 live rows observed (30, 20, 50): (25 + 25)/25 = 2
        let r = chi_square(&[1, 1, 2], &[30, 20, 50]);
        close(r.statistic, 2.0, 1e-12);
        assert_eq!(r.dof, 2);
        close(r.p_value, (-1.0f64).exp(), 1e-12); // chi2(2).sf(x) = exp(-x/2)
        // an unseen slot: pseudo-counts keep it finite and significant
        let r = chi_square(&[10, 10, 0], &[10, 10, 10]);
        assert!(r.statistic.is_finite() && r.p_value < 1e-6, "{r:?}");
        // a single used slot
        assert_eq!(chi_square(&[5, 0], &[3, 0]).p_value, 1.0);
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
    }
}
