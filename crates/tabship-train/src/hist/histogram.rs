//! Per-node statistics histograms: for every bin of a feature, the summed statistic channels,
//! the summed hessian and the row count, in `f64` accumulators.
//!
//! A histogram is feature-major (`layout.offset(f)` bins for feature `f`, each `stride` values:
//! the channels, then the hessian, then the count). Every sum runs over the node's rows in their
//! stored order, one feature at a time, so a histogram does not depend on how many threads built
//! it (threads take whole features). The larger child of a split is derived from its parent by
//! subtraction ([`Histogram::subtract_from`]).
//!
//! A feature with two value bins sums only its rows off bin 0 and takes bin 0 as the rest of the
//! node's totals ([`build_binary_feature`]); a bundle of exclusive 0/1 features does the same for
//! all its members in one pass over the rows ([`build_bundle`]), with the very same additions in
//! the same order, so a histogram is bit-identical whether the matrix bundles or not.

use super::bins::{BinnedMatrix, Unit};

/// What the trees fit, per matrix row.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Targets<'a> {
    /// Gradient boosting: one gradient and one hessian per row.
    #[cfg_attr(
        not(test),
        allow(dead_code, reason = "called by gradient boosting (i17-boost)")
    )]
    Gradients {
        /// First derivatives of the loss.
        grad: &'a [f32],
        /// Second derivatives of the loss.
        hess: &'a [f32],
    },
    /// Regression forests: the value is the channel, the hessian 1 (squared error).
    Values(&'a [f64]),
    /// Classification forests: one channel per class counting its rows, the hessian 1 (Gini:
    /// the weighted Gini decrease is the sum over classes of the squared-error gain of the class
    /// indicator). Two classes use one channel, the indicator of class 1 (half the Gini
    /// decrease, the same ranking).
    Classes {
        /// The class index of every row.
        y: &'a [u32],
        /// Classes in all.
        n_classes: usize,
    },
}

impl Targets<'_> {
    /// Statistic channels.
    pub(crate) fn channels(&self) -> usize {
        match *self {
            Targets::Classes { n_classes, .. } if n_classes > 2 => n_classes,
            _ => 1,
        }
    }

    /// Values per bin: the channels, the hessian, the count.
    pub(crate) fn stride(&self) -> usize {
        self.channels() + 2
    }

    /// Adds the statistics of `rows` to `out` (`stride` values) through `slot(row)`, which picks
    /// where each row's statistics go (a bin of a histogram, or a node's totals).
    #[inline]
    pub(crate) fn accumulate(&self, rows: &[u32], out: &mut [f64], slot: impl Fn(usize) -> usize) {
        self.accumulate_where(rows, out, slot, |_| true);
    }

    /// As [`accumulate`](Self::accumulate), for the rows `keep` accepts only.
    #[inline]
    pub(crate) fn accumulate_where(
        &self,
        rows: &[u32],
        out: &mut [f64],
        slot: impl Fn(usize) -> usize,
        keep: impl Fn(usize) -> bool,
    ) {
        let rows = rows.iter().filter(|&&r| keep(r as usize));
        match *self {
            Targets::Gradients { grad, hess } => {
                for &r in rows {
                    let r = r as usize;
                    let s = slot(r) * 3;
                    out[s] += f64::from(grad[r]);
                    out[s + 1] += f64::from(hess[r]);
                    out[s + 2] += 1.0;
                }
            }
            Targets::Values(y) => {
                for &r in rows {
                    let r = r as usize;
                    let s = slot(r) * 3;
                    out[s] += y[r];
                    out[s + 1] += 1.0;
                    out[s + 2] += 1.0;
                }
            }
            Targets::Classes { y, n_classes } if n_classes <= 2 => {
                for &r in rows {
                    let r = r as usize;
                    let s = slot(r) * 3;
                    out[s] += f64::from(y[r] == 1);
                    out[s + 1] += 1.0;
                    out[s + 2] += 1.0;
                }
            }
            Targets::Classes { y, n_classes } => {
                let stride = n_classes + 2;
                for &r in rows {
                    let s = slot(r as usize) * stride;
                    out[s + y[r as usize] as usize] += 1.0;
                    out[s + n_classes] += 1.0;
                    out[s + n_classes + 1] += 1.0;
                }
            }
        }
    }

    /// The summed statistics of `rows` (`stride` values).
    pub(crate) fn totals(&self, rows: &[u32]) -> Vec<f64> {
        let mut out = vec![0.0; self.stride()];
        self.accumulate(rows, &mut out, |_| 0);
        out
    }
}

/// Where each feature's bins start in a histogram.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// `n_features + 1` bin offsets; feature `f` has `value_bins(f) + 1` bins (the last missing).
    offsets: Vec<usize>,
    /// Values per bin.
    pub(crate) stride: usize,
}

impl Layout {
    /// The layout of `m`'s features for statistics of `stride` values per bin.
    pub(crate) fn new(m: &BinnedMatrix, stride: usize) -> Self {
        let mut offsets = Vec::with_capacity(m.n_features() + 1);
        offsets.push(0);
        for f in 0..m.n_features() {
            offsets.push(offsets[f] + m.value_bins(f) + 1);
        }
        Layout { offsets, stride }
    }

    /// Values of a whole histogram.
    pub(crate) fn len(&self) -> usize {
        self.offsets.last().copied().unwrap_or(0) * self.stride
    }

    /// The value range of feature `f`.
    pub(crate) fn range(&self, f: usize) -> std::ops::Range<usize> {
        self.offsets[f] * self.stride..self.offsets[f + 1] * self.stride
    }
}

/// The statistics of one node, every feature's bins.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Histogram {
    /// Feature-major bins, `stride` values each.
    pub(crate) data: Vec<f64>,
}

/// Below this many (rows × features) a histogram is built on the calling thread: spawning
/// threads costs more than it saves.
const PARALLEL_WORK: usize = 1 << 17;

impl Histogram {
    /// The histogram of `rows` (matrix rows, repeats counted; their statistics summed in
    /// `totals`) over every feature.
    pub(crate) fn build(
        m: &BinnedMatrix,
        targets: &Targets<'_>,
        layout: &Layout,
        rows: &[u32],
        totals: &[f64],
        threads: usize,
    ) -> Self {
        let mut data = vec![0.0; layout.len()];
        let units = m.units();
        let threads = if rows.len() * units.len() < PARALLEL_WORK {
            1
        } else {
            threads.clamp(1, units.len().max(1))
        };
        let build = |units: &[Unit], out: &mut [f64], base: usize| {
            for &unit in units {
                let features = m.unit_features(unit);
                let r = layout.range(features.start).start..layout.range(features.end - 1).end;
                let out = &mut out[r.start - base..r.end - base];
                match unit {
                    Unit::Bundle(b) => build_bundle(m, targets, layout, b, rows, totals, out),
                    Unit::Feature(f) if m.value_bins(f) == 2 => {
                        build_binary_feature(m, targets, f, rows, totals, out);
                    }
                    Unit::Feature(f) => build_feature(m, targets, f, rows, out),
                }
            }
        };
        if threads <= 1 {
            build(units, &mut data, 0);
            return Histogram { data };
        }
        // Whole units per thread, each writing its own slice: the sums do not depend on the
        // thread count.
        std::thread::scope(|scope| {
            let mut rest: &mut [f64] = &mut data;
            for chunk in units.chunks(units.len().div_ceil(threads)) {
                let first = m.unit_features(chunk[0]).start;
                let last = m.unit_features(chunk[chunk.len() - 1]).end;
                let base = layout.range(first).start;
                let (mine, tail) = rest.split_at_mut(layout.range(last - 1).end - base);
                rest = tail;
                let build = &build;
                scope.spawn(move || build(chunk, mine, base));
            }
        });
        Histogram { data }
    }

    /// Turns this histogram (a child's) into its sibling's: `parent − self`.
    pub(crate) fn subtract_from(&mut self, parent: &Histogram) {
        for (s, p) in self.data.iter_mut().zip(&parent.data) {
            *s = p - *s;
        }
    }
}

/// Adds the statistics of `rows` to feature `f`'s bins `out` (zeroed by the caller).
pub(crate) fn build_feature(
    m: &BinnedMatrix,
    targets: &Targets<'_>,
    f: usize,
    rows: &[u32],
    out: &mut [f64],
) {
    let codes = m.column(f);
    targets.accumulate(rows, out, |r| usize::from(codes[r]));
}

/// [`build_feature`] for a 0/1 feature (two value bins, a one-hot column) in a node with
/// statistics `totals`: only the rows off bin 0 are summed (few, in a one-hot column), and bin 0
/// is the rest, `totals − bin 1 − missing`.
pub(crate) fn build_binary_feature(
    m: &BinnedMatrix,
    targets: &Targets<'_>,
    f: usize,
    rows: &[u32],
    totals: &[f64],
    out: &mut [f64],
) {
    let codes = m.column(f);
    targets.accumulate_where(rows, out, |r| usize::from(codes[r]), |r| codes[r] != 0);
    let stride = totals.len();
    for i in 0..stride {
        out[i] = totals[i] - out[stride + i] - out[2 * stride + i];
    }
}

/// [`build_binary_feature`] for every member of bundle `b` at once: one pass over the rows sums
/// the rows off bin 0 of any member into that member's bin 1 (the same additions in the same
/// order as for the member alone); each member's missing bin is empty and its bin 0 the rest.
/// `out` holds the members' bins, feature after feature.
pub(crate) fn build_bundle(
    m: &BinnedMatrix,
    targets: &Targets<'_>,
    layout: &Layout,
    b: usize,
    rows: &[u32],
    totals: &[f64],
    out: &mut [f64],
) {
    let bundle = m.bundle(b);
    let stride = layout.stride;
    // Slot 0: rows on bin 0 of every member (not summed); slot 1 + j: member j's bin 1.
    let mut slots = vec![0.0; (bundle.members + 1) * stride];
    let codes = &bundle.codes;
    targets.accumulate_where(
        rows,
        &mut slots,
        |r| usize::from(codes[r]),
        |r| codes[r] != 0,
    );
    for (j, member) in out.chunks_exact_mut(3 * stride).enumerate() {
        member[stride..2 * stride].copy_from_slice(&slots[(j + 1) * stride..(j + 2) * stride]);
        for i in 0..stride {
            member[i] = totals[i] - member[stride + i] - member[2 * stride + i];
        }
    }
}
