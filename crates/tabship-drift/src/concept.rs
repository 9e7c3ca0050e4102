//! Concept-drift detectors over a stream of per-prediction errors or losses (once labels arrive):
//! DDM, Page-Hinkley and ADWIN, with the defaults of their papers (and of `river`).
//!
//! Each implements [`Detector`]: feed it one value per labelled prediction (for DDM, 1 for a
//! wrong prediction and 0 for a right one; for Page-Hinkley and ADWIN any loss, e.g. the 0/1
//! error or an absolute error) and read the returned [`DetectorState`]. After a drift, DDM and
//! Page-Hinkley restart from scratch; ADWIN has already dropped the old part of its window.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// An error for an invalid field of a deserialized detector state.
fn bad_state(detector: &str, field: &str, value: impl std::fmt::Display) -> Error {
    Error::state(
        format!("{detector}.{field}"),
        format!("inconsistent detector state, got `{value}`"),
    )
}

/// Refuses NaN (infinities are legitimate start values of minima).
fn not_nan(detector: &str, fields: &[(&str, f64)]) -> Result<()> {
    match fields.iter().find(|(_, x)| x.is_nan()) {
        Some((field, x)) => Err(bad_state(detector, field, x)),
        None => Ok(()),
    }
}

/// What a detector concluded after a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectorState {
    /// No change.
    Stable,
    /// A possible change (DDM only).
    Warning,
    /// A change was detected at this value.
    Drift,
}

/// A concept-drift detector fed one value at a time.
pub trait Detector: Send + Sync + std::fmt::Debug {
    /// Adds a value; non-finite values are ignored (and return `Stable`).
    fn update(&mut self, x: f64) -> DetectorState;
    /// Forgets everything.
    fn reset(&mut self);
    /// The detector's name (`ddm`, `page_hinkley`, `adwin`).
    fn name(&self) -> &'static str;
    /// Drifts detected since creation.
    fn drifts(&self) -> u64;
}

fn check(option: &'static str, value: f64, ok: bool) -> Result<()> {
    if value.is_finite() && ok {
        Ok(())
    } else {
        Err(Error::InvalidOption {
            option,
            reason: format!("got `{value}`"),
        })
    }
}

/// The Drift Detection Method (Gama et al., 2004) over a 0/1 error stream: with `p` the error
/// rate so far and `s = sqrt(p (1 − p) / n)`, it remembers the lowest `p + s` and signals a
/// warning when `p + s ≥ p_min + 2 s_min` and a drift at `3 s_min`, after 30 values.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Ddm {
    warm_start: u64,
    warning: f64,
    drift: f64,
    n: u64,
    p: f64,
    p_min: f64,
    s_min: f64,
    drifts: u64,
}

impl Default for Ddm {
    fn default() -> Self {
        Ddm::new(30, 2.0, 3.0).unwrap_or_else(|_| unreachable!("valid defaults"))
    }
}

impl Ddm {
    /// A DDM with its warm-up length and warning and drift levels (in standard deviations).
    pub fn new(warm_start: u64, warning: f64, drift: f64) -> Result<Self> {
        check("warning", warning, warning > 0.0)?;
        check("drift", drift, drift >= warning)?;
        Ok(Ddm {
            warm_start,
            warning,
            drift,
            n: 0,
            p: 0.0,
            p_min: f64::INFINITY,
            s_min: f64::INFINITY,
            drifts: 0,
        })
    }

    /// The error rate since the last reset.
    pub fn error_rate(&self) -> f64 {
        self.p
    }

    fn validate(&self) -> Result<()> {
        Ddm::new(self.warm_start, self.warning, self.drift)?;
        not_nan(
            "ddm",
            &[("p", self.p), ("p_min", self.p_min), ("s_min", self.s_min)],
        )?;
        if !(0.0..=1.0).contains(&self.p) {
            return Err(bad_state("ddm", "p", self.p));
        }
        Ok(())
    }
}

validated_serde!(Ddm);

impl Detector for Ddm {
    fn update(&mut self, x: f64) -> DetectorState {
        if !x.is_finite() {
            return DetectorState::Stable;
        }
        let x = x.clamp(0.0, 1.0);
        self.n += 1;
        self.p += (x - self.p) / self.n as f64;
        let s = (self.p * (1.0 - self.p) / self.n as f64).sqrt();
        if self.n < self.warm_start {
            return DetectorState::Stable;
        }
        // A zero-variance minimum (no error at all yet) would turn the first error into a
        // drift: only a minimum with s > 0 is kept.
        if s > 0.0 && self.p + s < self.p_min + self.s_min {
            self.p_min = self.p;
            self.s_min = s;
        }
        if self.p + s >= self.p_min + self.drift * self.s_min && self.s_min > 0.0 {
            let drifts = self.drifts + 1;
            self.reset();
            self.drifts = drifts;
            DetectorState::Drift
        } else if self.p + s >= self.p_min + self.warning * self.s_min && self.s_min > 0.0 {
            DetectorState::Warning
        } else {
            DetectorState::Stable
        }
    }

    fn reset(&mut self) {
        let drifts = self.drifts;
        *self = Ddm::new(self.warm_start, self.warning, self.drift)
            .unwrap_or_else(|_| unreachable!("validated at creation"));
        self.drifts = drifts;
    }

    fn name(&self) -> &'static str {
        "ddm"
    }

    fn drifts(&self) -> u64 {
        self.drifts
    }
}

/// The Page-Hinkley test for an increase of the mean (Page, 1954), as `river` implements it:
/// `m_t = α m_{t−1} + (x_t − x̄_t − δ)`, drift when `m_t − min m > λ` after `min_instances`
/// values. Defaults: `δ = 0.005`, `λ = 50`, `α = 1 − 1e-4`, 30 values.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct PageHinkley {
    min_instances: u64,
    delta: f64,
    threshold: f64,
    alpha: f64,
    n: u64,
    mean: f64,
    sum: f64,
    min_sum: f64,
    drifts: u64,
}

impl Default for PageHinkley {
    fn default() -> Self {
        PageHinkley::new(30, 0.005, 50.0, 1.0 - 1e-4)
            .unwrap_or_else(|_| unreachable!("valid defaults"))
    }
}

impl PageHinkley {
    /// A Page-Hinkley test with its warm-up, tolerance `delta`, threshold `lambda` and
    /// forgetting factor `alpha` (in `(0, 1]`).
    pub fn new(min_instances: u64, delta: f64, threshold: f64, alpha: f64) -> Result<Self> {
        check("delta", delta, delta >= 0.0)?;
        check("threshold", threshold, threshold > 0.0)?;
        check("alpha", alpha, alpha > 0.0 && alpha <= 1.0)?;
        Ok(PageHinkley {
            min_instances,
            delta,
            threshold,
            alpha,
            n: 0,
            mean: 0.0,
            sum: 0.0,
            min_sum: f64::INFINITY,
            drifts: 0,
        })
    }
}

impl PageHinkley {
    fn validate(&self) -> Result<()> {
        PageHinkley::new(self.min_instances, self.delta, self.threshold, self.alpha)?;
        for (field, x) in [("mean", self.mean), ("sum", self.sum)] {
            if !x.is_finite() {
                return Err(bad_state("page_hinkley", field, x));
            }
        }
        not_nan("page_hinkley", &[("min_sum", self.min_sum)])
    }
}

validated_serde!(PageHinkley);

impl Detector for PageHinkley {
    fn update(&mut self, x: f64) -> DetectorState {
        if !x.is_finite() {
            return DetectorState::Stable;
        }
        self.n += 1;
        self.mean += (x - self.mean) / self.n as f64;
        self.sum = self.alpha * self.sum + (x - self.mean - self.delta);
        self.min_sum = self.min_sum.min(self.sum);
        if self.n >= self.min_instances && self.sum - self.min_sum > self.threshold {
            let drifts = self.drifts + 1;
            self.reset();
            self.drifts = drifts;
            return DetectorState::Drift;
        }
        DetectorState::Stable
    }

    fn reset(&mut self) {
        self.n = 0;
        self.mean = 0.0;
        self.sum = 0.0;
        self.min_sum = f64::INFINITY;
    }

    fn name(&self) -> &'static str {
        "page_hinkley"
    }

    fn drifts(&self) -> u64 {
        self.drifts
    }
}

/// A bucket of ADWIN's exponential histogram: the sum and the variance term of `2^row` values.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Bucket {
    total: f64,
    variance: f64,
}

/// ADWIN (Bifet and Gavaldà, 2007): an adaptive window that drops its older part whenever the
/// means of an old and a recent sub-window differ by more than the Hoeffding-style bound
/// `ε = sqrt(2 m σ² δ') + 2/3 δ' m` (`δ' = ln(2 ln(W) / δ)`, `m` the harmonic term of the two
/// lengths). Stored as an exponential histogram of at most `max_buckets` buckets per size, so
/// memory is `O(max_buckets · log W)`. Defaults: `δ = 0.002`, checks every 32 values, 5 buckets
/// per size, sub-windows of at least 5 values, no check before 10 values.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Adwin {
    delta: f64,
    clock: u64,
    max_buckets: usize,
    min_window: u64,
    grace: u64,
    rows: Vec<VecDeque<Bucket>>,
    width: u64,
    total: f64,
    variance: f64,
    ticks: u64,
    drifts: u64,
}

impl Default for Adwin {
    fn default() -> Self {
        Adwin::new(0.002).unwrap_or_else(|_| unreachable!("valid defaults"))
    }
}

impl Adwin {
    /// An ADWIN with confidence `delta` in `(0, 1)` and the other defaults.
    pub fn new(delta: f64) -> Result<Self> {
        check("delta", delta, delta > 0.0 && delta < 1.0)?;
        Ok(Adwin {
            delta,
            clock: 32,
            max_buckets: 5,
            min_window: 5,
            grace: 10,
            rows: Vec::new(),
            width: 0,
            total: 0.0,
            variance: 0.0,
            ticks: 0,
            drifts: 0,
        })
    }

    fn validate(&self) -> Result<()> {
        Adwin::new(self.delta)?;
        if self.clock == 0 || self.max_buckets == 0 || self.min_window == 0 {
            return Err(bad_state(
                "adwin",
                "clock, max_buckets and min_window",
                format!("{}, {}, {}", self.clock, self.max_buckets, self.min_window),
            ));
        }
        if self.rows.len() > 64 {
            return Err(bad_state("adwin", "rows", self.rows.len()));
        }
        let mut width = 0u64;
        for (row, buckets) in self.rows.iter().enumerate() {
            if buckets.len() > self.max_buckets + 1 {
                return Err(bad_state("adwin", "rows", buckets.len()));
            }
            for b in buckets {
                if !b.total.is_finite() || !b.variance.is_finite() || b.variance < 0.0 {
                    return Err(bad_state("adwin", "rows", format!("{b:?}")));
                }
                width = width
                    .checked_add(1u64 << row)
                    .ok_or_else(|| bad_state("adwin", "rows", "an overflowing width"))?;
            }
        }
        if width != self.width {
            return Err(bad_state("adwin", "width", self.width));
        }
        not_nan(
            "adwin",
            &[("total", self.total), ("variance", self.variance)],
        )?;
        if !self.total.is_finite() || !self.variance.is_finite() {
            return Err(bad_state("adwin", "total", self.total));
        }
        Ok(())
    }

    /// Values in the current window.
    pub fn width(&self) -> u64 {
        self.width
    }

    /// Mean of the current window (0 when empty).
    pub fn mean(&self) -> f64 {
        if self.width == 0 {
            0.0
        } else {
            self.total / self.width as f64
        }
    }

    fn insert(&mut self, x: f64) {
        self.width += 1;
        if self.width > 1 {
            let w = self.width as f64;
            let d = x - self.total / (w - 1.0);
            self.variance += (w - 1.0) * d * d / w;
        }
        self.total += x;
        if self.rows.is_empty() {
            self.rows.push(VecDeque::new());
        }
        self.rows[0].push_back(Bucket {
            total: x,
            variance: 0.0,
        });
        // Compress: when a row has more than max_buckets buckets, merge its two oldest.
        let mut row = 0;
        while row < self.rows.len() && self.rows[row].len() > self.max_buckets {
            let (Some(a), Some(b)) = (self.rows[row].pop_front(), self.rows[row].pop_front())
            else {
                break;
            };
            let n = (1u64 << row) as f64;
            let (ua, ub) = (a.total / n, b.total / n);
            let merged = Bucket {
                total: a.total + b.total,
                variance: a.variance + b.variance + n * n * (ua - ub).powi(2) / (2.0 * n),
            };
            if row + 1 == self.rows.len() {
                self.rows.push(VecDeque::new());
            }
            self.rows[row + 1].push_back(merged);
            row += 1;
        }
    }

    fn drop_oldest(&mut self) {
        let Some(row) = self.rows.iter().rposition(|r| !r.is_empty()) else {
            return;
        };
        let Some(b) = self.rows[row].pop_front() else {
            return;
        };
        let n = (1u64 << row) as f64;
        self.width -= 1u64 << row;
        self.total -= b.total;
        if self.width == 0 {
            self.total = 0.0;
            self.variance = 0.0;
            return;
        }
        let w = self.width as f64;
        let u = b.total / n;
        self.variance -= b.variance + n * w * (u - self.total / w).powi(2) / (n + w);
        self.variance = self.variance.max(0.0);
    }

    /// Looks for a cut; drops old buckets while one is found. True when the window shrank.
    fn detect(&mut self) -> bool {
        let mut shrank = false;
        loop {
            if self.width <= self.grace || self.width < 2 * self.min_window {
                return shrank;
            }
            let w = self.width as f64;
            let v = self.variance / w;
            let delta_prime = (2.0 * w.ln() / self.delta).ln();
            let (mut n0, mut t0) = (0u64, 0.0f64);
            let mut cut = false;
            'scan: for row in (0..self.rows.len()).rev() {
                for b in &self.rows[row] {
                    n0 += 1u64 << row;
                    t0 += b.total;
                    let n1 = self.width - n0;
                    if n1 < self.min_window {
                        break 'scan;
                    }
                    if n0 < self.min_window {
                        continue;
                    }
                    let u0 = t0 / n0 as f64;
                    let u1 = (self.total - t0) / n1 as f64;
                    let m = 1.0 / (n0 - self.min_window + 1) as f64
                        + 1.0 / (n1 - self.min_window + 1) as f64;
                    let eps = (2.0 * m * v * delta_prime).sqrt() + 2.0 / 3.0 * delta_prime * m;
                    if (u0 - u1).abs() > eps {
                        cut = true;
                        break 'scan;
                    }
                }
            }
            if !cut {
                return shrank;
            }
            self.drop_oldest();
            shrank = true;
        }
    }
}

impl Detector for Adwin {
    fn update(&mut self, x: f64) -> DetectorState {
        if !x.is_finite() {
            return DetectorState::Stable;
        }
        self.insert(x);
        self.ticks += 1;
        if self.ticks % self.clock == 0 && self.detect() {
            self.drifts += 1;
            return DetectorState::Drift;
        }
        DetectorState::Stable
    }

    fn reset(&mut self) {
        let drifts = self.drifts;
        *self = Adwin {
            clock: self.clock,
            max_buckets: self.max_buckets,
            min_window: self.min_window,
            grace: self.grace,
            ..Adwin::new(self.delta).unwrap_or_else(|_| unreachable!("validated at creation"))
        };
        self.drifts = drifts;
    }

    fn name(&self) -> &'static str {
        "adwin"
    }

    fn drifts(&self) -> u64 {
        self.drifts
    }
}

validated_serde!(Adwin);

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// First drift index at or after `from` (relative to `from`), over a 0/1 stream whose error
    /// rate switches from `p0` to `p1` at `change`.
    fn first_drift(d: &mut dyn Detector, seed: u64, change: usize, p0: f64, p1: f64) -> Vec<usize> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut at = Vec::new();
        for i in 0..change * 2 {
            let p = if i < change { p0 } else { p1 };
            let x = if rng.random::<f64>() < p { 1.0 } else { 0.0 };
            if d.update(x) == DetectorState::Drift {
                at.push(i);
            }
        }
        at
    }

    #[test]
    fn detectors_find_an_abrupt_change_quickly_and_stay_quiet_before() {
        // DDM is known to raise early false alarms (its minimum is noisy just after the
        // warm-up) and to react slowly after a long stable period: its bounds are looser.
        let detectors: Vec<(Box<dyn Detector>, usize, usize)> = vec![
            (Box::new(Ddm::default()), 700, 15),
            (Box::new(PageHinkley::default()), 300, 1),
            (Box::new(Adwin::default()), 200, 1),
        ];
        for (mut d, max_delay, max_false) in detectors {
            let mut delays = Vec::new();
            let mut false_alarms = 0;
            for seed in 0..20 {
                d.reset();
                let drifts = first_drift(d.as_mut(), seed, 3000, 0.1, 0.4);
                false_alarms += drifts.iter().filter(|&&i| i < 3000).count();
                let delay = drifts
                    .iter()
                    .find(|&&i| i >= 3000)
                    .map(|i| i - 3000)
                    .unwrap_or(usize::MAX);
                delays.push(delay);
            }
            delays.sort_unstable();
            eprintln!(
                "{}: delays {delays:?}, {false_alarms} false alarms",
                d.name()
            );
            assert!(
                false_alarms <= max_false,
                "{}: {false_alarms} false alarms",
                d.name()
            );
            assert!(
                delays[delays.len() - 1] <= max_delay,
                "{}: {delays:?}",
                d.name()
            );
        }
    }

    #[test]
    fn detectors_are_quiet_on_a_stationary_stream() {
        for (mut d, max_alarms) in [
            (Box::new(Ddm::default()) as Box<dyn Detector>, 3),
            (Box::new(PageHinkley::default()), 1),
            (Box::new(Adwin::default()), 1),
        ] {
            let mut total = 0;
            for seed in 100..110 {
                d.reset();
                total += first_drift(d.as_mut(), seed, 5000, 0.2, 0.2).len();
            }
            eprintln!("{}: {total} alarms", d.name());
            assert!(
                total <= max_alarms,
                "{}: {total} alarms on 100k stationary values",
                d.name()
            );
        }
    }

    #[test]
    fn adwin_tracks_the_mean_and_shrinks() {
        let mut a = Adwin::default();
        for _ in 0..1000 {
            a.update(0.0);
        }
        assert_eq!(a.width(), 1000);
        let mut drift = false;
        for _ in 0..200 {
            drift |= a.update(1.0) == DetectorState::Drift;
        }
        assert!(drift);
        assert!(
            a.width() < 1200 && a.mean() > 0.5,
            "{} {}",
            a.width(),
            a.mean()
        );
        assert!(Adwin::new(0.0).is_err() && Ddm::new(30, 3.0, 2.0).is_err());
        assert_eq!(a.update(f64::NAN), DetectorState::Stable);
    }
}
