//! Growing one tree on binned rows: depth-wise (every splittable node splits, up to
//! `max_depth`) or leaf-wise (the leaf of largest gain splits next, up to `max_leaves`).
//!
//! The rows (repeats allowed) are copied once and partitioned in place, stably, as nodes split:
//! a node owns a contiguous range. Nodes are numbered in creation order, children after their
//! parent; a node's random draws (the features it samples, extra trees' thresholds) come from a
//! generator seeded with the tree's seed and the node's number, so a tree does not depend on the
//! thread count.
//!
//! Histograms: when every feature (or most) is tried at each node, a node keeps the histogram of
//! all its features; a split builds the smaller child's and derives the larger child's from the
//! parent's by subtraction. When a forest samples few features per node (`features_per_split`
//! below half the features), histograms of all features would mostly go unread: each tried
//! feature's histogram is built from the node's rows when it is visited instead.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tabship::artifact::packed::{PackedF64, PackedU8, PackedU32};
use tabship::model::{LEAF, TreeSpec};

use super::GrowOptions;
use super::bins::BinnedMatrix;
use super::histogram::{Histogram, Layout, Targets, build_binary_feature, build_feature};
use super::split::{Constraints, occupancy};

/// A grown tree before its leaves get values.
#[derive(Debug, Clone)]
pub(crate) struct Grown {
    /// The tree, `leaf_values` and `leaf_class` empty.
    pub spec: TreeSpec,
    /// Per leaf (in the spec's leaf order), its statistics (`stride` values: the channels, the
    /// hessian, the count), summed over its rows.
    pub leaf_stats: Vec<f64>,
    /// Values per leaf in `leaf_stats`.
    pub stride: usize,
    /// For each entry of the rows grown on (same order), the leaf it reached.
    #[cfg_attr(
        not(test),
        allow(dead_code, reason = "called by gradient boosting (i17-boost)")
    )]
    pub row_leaf: Vec<u32>,
}

/// What `grow` takes besides [`GrowOptions`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Extra {
    /// Fewest rows (counting repeats) in a node to split it.
    pub min_samples_split: usize,
    /// Sampled features count towards `features_per_split` even when constant in the node
    /// (smartcore's rule: a node whose sampled features are all constant stays a leaf), instead
    /// of drawing more until that many non-constant ones are tried (scikit-learn's).
    pub count_constant_features: bool,
}

/// A split decided for a node.
#[derive(Debug, Clone, Copy)]
struct Chosen {
    feature: usize,
    bin: usize,
    missing_left: bool,
    gain: f64,
}

/// A node of the tree being grown.
#[derive(Debug, Clone)]
struct Node {
    start: usize,
    end: usize,
    /// `(split, left child, right child)` once split.
    split: Option<(Chosen, u32, u32)>,
}

/// A node that may still split.
struct Pending {
    id: u32,
    depth: u16,
    /// The node's summed statistics.
    totals: Vec<f64>,
    hist: Option<Histogram>,
    chosen: Chosen,
}

/// SplitMix64's finaliser: decorrelates the per-node seeds.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

struct Grower<'a> {
    m: &'a BinnedMatrix,
    targets: Targets<'a>,
    options: &'a GrowOptions,
    extra: Extra,
    layout: Layout,
    constraints: Constraints,
    /// Build each tried feature's histogram at its node instead of keeping full histograms.
    lazy: bool,
    rows: Vec<u32>,
    positions: Vec<u32>,
    scratch_rows: Vec<u32>,
    scratch_positions: Vec<u32>,
    feature_bins: Vec<f64>,
    /// Compact histograms: the node's rows sorted by code, and each compact bin's feature bin.
    small_rows: Vec<u32>,
    bin_of: Vec<usize>,
    nodes: Vec<Node>,
}

impl Grower<'_> {
    fn count(&self, totals: &[f64]) -> f64 {
        totals[self.constraints.channels + 1]
    }

    /// Whether a node with these statistics at this depth may split at all.
    fn may_split(&self, totals: &[f64], depth: u16) -> bool {
        let n = self.count(totals);
        let h = totals[self.constraints.channels];
        self.options.max_depth.is_none_or(|d| depth < d)
            && n >= self.extra.min_samples_split as f64
            && n >= 2.0 * self.constraints.min_samples_leaf
            && h >= 2.0 * self.options.min_child_weight
    }

    /// The best split of node `id` (statistics `totals`, full histogram `hist` unless lazy), or
    /// `None` when no split respects the constraints and gains more than `min_split_gain`.
    fn choose(&mut self, id: u32, totals: &[f64], hist: Option<&Histogram>) -> Option<Chosen> {
        let n_features = self.m.n_features();
        let stride = self.layout.stride;
        let mut rng = ChaCha8Rng::seed_from_u64(mix(self.options.seed ^ mix(u64::from(id))));
        let sampled = self
            .options
            .features_per_split
            .filter(|&k| k < n_features)
            .map(|k| k.max(1));
        let wanted = sampled.unwrap_or(n_features);
        let mut order: Vec<usize> = (0..n_features).collect();
        let mut tried = 0usize;
        let mut best: Option<Chosen> = None;
        let (start, end) = (self.nodes[id as usize].start, self.nodes[id as usize].end);
        for i in 0..n_features {
            if tried == wanted {
                break;
            }
            if sampled.is_some() {
                // Fisher-Yates, one draw per visit: the features in a random order (constant ones
                // count towards `wanted` under `count_constant_features`).
                let j = rng.random_range(i..n_features);
                order.swap(i, j);
            }
            let f = order[i];
            let real_bins = self.m.value_bins(f);
            // A node with far fewer rows than the feature has bins (deep in a forest's tree)
            // gets a compact histogram: only its occupied bins, in order, then the missing bin.
            let compact = hist.is_none() && (end - start) * 2 < real_bins;
            let (bins, value_bins): (&[f64], usize) = match hist {
                Some(h) => (&h.data[self.layout.range(f)], real_bins),
                None if compact => {
                    let k = self.compact_feature(f, start, end);
                    (&self.feature_bins, k)
                }
                None if real_bins == 2 => {
                    self.feature_bins.clear();
                    self.feature_bins.resize(3 * stride, 0.0);
                    build_binary_feature(
                        self.m,
                        &self.targets,
                        f,
                        &self.rows[start..end],
                        totals,
                        &mut self.feature_bins,
                    );
                    (&self.feature_bins, real_bins)
                }
                None => {
                    self.feature_bins.clear();
                    self.feature_bins.resize((real_bins + 1) * stride, 0.0);
                    build_feature(
                        self.m,
                        &self.targets,
                        f,
                        &self.rows[start..end],
                        &mut self.feature_bins,
                    );
                    (&self.feature_bins, real_bins)
                }
            };
            // Compact bin `c` is feature bin `real(c)`.
            let real = |c: usize| if compact { self.bin_of[c] } else { c };
            let (occupied, has_missing) = occupancy(bins, value_bins, stride);
            if self.extra.count_constant_features {
                tried += 1;
            }
            let Some((lo, hi)) = occupied else { continue };
            if lo == hi && !has_missing {
                continue;
            }
            if !self.extra.count_constant_features {
                tried += 1;
            }
            // Extra trees: a boundary drawn uniformly between the node's lowest and highest
            // occupied feature bins (the same draw whether the histogram is compact or not).
            let only_bin = self.options.random_thresholds.then(|| {
                if lo == hi {
                    hi
                } else {
                    let b = rng.random_range(real(lo)..real(hi));
                    if compact {
                        self.bin_of[..value_bins].partition_point(|&x| x <= b) - 1
                    } else {
                        b
                    }
                }
            });
            let Some(split) = self
                .constraints
                .best_in_feature(bins, value_bins, totals, only_bin)
            else {
                continue;
            };
            if best.is_none_or(|b| split.gain > b.gain) {
                best = Some(Chosen {
                    feature: f,
                    bin: real(split.bin),
                    missing_left: split.missing_left,
                    gain: split.gain,
                });
            }
        }
        best.filter(|b| b.gain > self.options.min_split_gain)
    }

    /// Builds feature `f`'s compact histogram of the rows `start..end` into `feature_bins`: its
    /// `k` occupied value bins in order (their feature bins in `bin_of`), then the missing bin.
    /// Returns `k`.
    fn compact_feature(&mut self, f: usize, start: usize, end: usize) -> usize {
        let stride = self.layout.stride;
        let codes = self.m.column(f);
        let missing = self.m.value_bins(f);
        self.small_rows.clear();
        self.small_rows.extend_from_slice(&self.rows[start..end]);
        self.small_rows.sort_by_key(|&r| codes[r as usize]);
        self.bin_of.clear();
        self.feature_bins.clear();
        let mut missing_from = self.small_rows.len();
        let mut i = 0;
        while i < self.small_rows.len() {
            let code = codes[self.small_rows[i] as usize];
            let run = self.small_rows[i..]
                .iter()
                .take_while(|&&r| codes[r as usize] == code)
                .count();
            if usize::from(code) == missing {
                missing_from = i;
                break;
            }
            let slot = self.bin_of.len();
            self.bin_of.push(usize::from(code));
            self.feature_bins.resize((slot + 1) * stride, 0.0);
            self.targets
                .accumulate(&self.small_rows[i..i + run], &mut self.feature_bins, |_| {
                    slot
                });
            i += run;
        }
        let k = self.bin_of.len();
        self.feature_bins.resize((k + 1) * stride, 0.0);
        self.targets.accumulate(
            &self.small_rows[missing_from..],
            &mut self.feature_bins,
            |_| k,
        );
        k
    }

    /// Splits node `id`'s rows stably: left first. Returns the left count.
    fn partition(&mut self, id: u32, chosen: Chosen) -> usize {
        let (start, end) = (self.nodes[id as usize].start, self.nodes[id as usize].end);
        let codes = self.m.column(chosen.feature);
        let missing = self.m.value_bins(chosen.feature);
        let goes_left =
            |code: usize| code <= chosen.bin || (code == missing && chosen.missing_left);
        self.scratch_rows.clear();
        self.scratch_positions.clear();
        let mut write = start;
        for read in start..end {
            let (r, p) = (self.rows[read], self.positions[read]);
            if goes_left(usize::from(codes[r as usize])) {
                self.rows[write] = r;
                self.positions[write] = p;
                write += 1;
            } else {
                self.scratch_rows.push(r);
                self.scratch_positions.push(p);
            }
        }
        self.rows[write..end].copy_from_slice(&self.scratch_rows);
        self.positions[write..end].copy_from_slice(&self.scratch_positions);
        write - start
    }

    /// Makes node `id` pending when it may split and a split is found.
    fn consider(
        &mut self,
        id: u32,
        depth: u16,
        totals: Vec<f64>,
        hist: Option<Histogram>,
    ) -> Option<Pending> {
        if !self.may_split(&totals, depth) {
            return None;
        }
        let chosen = self.choose(id, &totals, hist.as_ref())?;
        Some(Pending {
            id,
            depth,
            totals,
            hist,
            chosen,
        })
    }

    /// Splits a pending node; returns its children that may split further.
    fn split(&mut self, node: Pending) -> [Option<Pending>; 2] {
        let n_left = self.partition(node.id, node.chosen);
        let Node { start, end, .. } = self.nodes[node.id as usize];
        let left_id = self.nodes.len() as u32;
        let ranges = [(start, start + n_left), (start + n_left, end)];
        for &(s, e) in &ranges {
            self.nodes.push(Node {
                start: s,
                end: e,
                split: None,
            });
        }
        self.nodes[node.id as usize].split = Some((node.chosen, left_id, left_id + 1));
        let depth = node.depth + 1;
        // The smaller child's statistics summed, the larger's derived from the parent's (the
        // counts exactly; leaf values are summed from their rows in `assemble` whatever this).
        let small = usize::from(n_left * 2 > end - start);
        let (s, e) = ranges[small];
        let small_totals = self.targets.totals(&self.rows[s..e]);
        let large_totals: Vec<f64> = node
            .totals
            .iter()
            .zip(&small_totals)
            .map(|(p, c)| p - c)
            .collect();
        let totals = if small == 0 {
            [small_totals, large_totals]
        } else {
            [large_totals, small_totals]
        };
        let wanted = [0, 1].map(|c| self.may_split(&totals[c], depth));
        let mut hists = [None, None];
        if let Some(parent) = node.hist.filter(|_| wanted[0] || wanted[1]) {
            // Build the smaller child, derive the larger from the parent.
            let built = Histogram::build(
                self.m,
                &self.targets,
                &self.layout,
                &self.rows[s..e],
                &totals[small],
                self.options.threads,
            );
            let mut derived = built.clone();
            derived.subtract_from(&parent);
            hists[small] = Some(built);
            hists[1 - small] = Some(derived);
        }
        let [left_totals, right_totals] = totals;
        let [left_hist, right_hist] = hists;
        [
            self.consider(left_id, depth, left_totals, left_hist),
            self.consider(left_id + 1, depth, right_totals, right_hist),
        ]
    }
}

/// Grows one tree on `rows` (matrix rows; repeats count as weights) fitting `targets`.
pub(crate) fn grow_tree(
    m: &BinnedMatrix,
    targets: Targets<'_>,
    rows: &[u32],
    options: &GrowOptions,
    extra: Extra,
) -> Grown {
    let stride = targets.stride();
    let n_features = m.n_features();
    let lazy = options
        .features_per_split
        .is_some_and(|k| k.saturating_mul(2) < n_features);
    let mut g = Grower {
        m,
        targets,
        options,
        extra,
        layout: Layout::new(m, stride),
        constraints: Constraints {
            channels: targets.channels(),
            min_samples_leaf: options.min_samples_leaf.max(1) as f64,
            min_child_weight: options.min_child_weight,
            l2: options.l2,
        },
        lazy,
        rows: rows.to_vec(),
        positions: (0..rows.len() as u32).collect(),
        scratch_rows: Vec::new(),
        scratch_positions: Vec::new(),
        feature_bins: Vec::new(),
        small_rows: Vec::new(),
        bin_of: Vec::new(),
        nodes: vec![Node {
            start: 0,
            end: rows.len(),
            split: None,
        }],
    };
    let totals = targets.totals(rows);
    let hist = (!g.lazy && g.may_split(&totals, 0))
        .then(|| Histogram::build(m, &targets, &g.layout, rows, &totals, options.threads));
    let mut pending: Vec<Pending> = g.consider(0, 0, totals, hist).into_iter().collect();
    let mut leaves = 1usize;
    loop {
        let next = match options.max_leaves {
            // Leaf-wise: the largest gain first, the earliest node on a tie.
            Some(max) => {
                if leaves >= max {
                    break;
                }
                let best = pending.iter().enumerate().max_by(|(_, a), (_, b)| {
                    a.chosen
                        .gain
                        .total_cmp(&b.chosen.gain)
                        .then(b.id.cmp(&a.id))
                });
                match best {
                    Some((i, _)) => pending.swap_remove(i),
                    None => break,
                }
            }
            // Depth-wise: every node splits while it can; depth first keeps few histograms.
            None => match pending.pop() {
                Some(p) => p,
                None => break,
            },
        };
        leaves += 1;
        let [left, right] = g.split(next);
        // Right pushed first: the left child is split first in depth-first order.
        pending.extend(right);
        pending.extend(left);
    }
    assemble(&g)
}

/// The grown nodes as a core tree, with each leaf's statistics and each row's leaf.
fn assemble(g: &Grower<'_>) -> Grown {
    let stride = g.layout.stride;
    let n = g.nodes.len();
    let mut spec = TreeSpec {
        feature: PackedU32(Vec::with_capacity(n)),
        threshold: PackedF64(Vec::with_capacity(n)),
        left: PackedU32(Vec::with_capacity(n)),
        right: PackedU32(Vec::with_capacity(n)),
        ..TreeSpec::default()
    };
    let mut missing_left = Vec::with_capacity(n);
    let mut leaf_stats = Vec::new();
    let mut row_leaf = vec![0u32; g.rows.len()];
    let mut leaves = 0u32;
    for node in &g.nodes {
        match node.split {
            Some((chosen, left, right)) => {
                spec.feature.0.push(chosen.feature as u32);
                spec.threshold
                    .0
                    .push(g.m.threshold(chosen.feature, chosen.bin));
                spec.left.0.push(left);
                spec.right.0.push(right);
                missing_left.push(u8::from(chosen.missing_left));
            }
            None => {
                spec.feature.0.push(0);
                spec.threshold.0.push(0.0);
                spec.left.0.push(LEAF);
                spec.right.0.push(leaves);
                missing_left.push(0);
                let at = leaf_stats.len();
                leaf_stats.resize(at + stride, 0.0);
                g.targets
                    .accumulate(&g.rows[node.start..node.end], &mut leaf_stats[at..], |_| 0);
                for &p in &g.positions[node.start..node.end] {
                    row_leaf[p as usize] = leaves;
                }
                leaves += 1;
            }
        }
    }
    // No node sends missing values left: leave the array out (smartcore's rule, format 1.1).
    if missing_left.iter().any(|&m| m != 0) {
        spec.missing_left = PackedU8(missing_left);
    }
    Grown {
        spec,
        leaf_stats,
        stride,
        row_leaf,
    }
}
