//! The prediction layout of a tree ensemble, derived from the stored trees when a pipeline is
//! assembled (the artifact keeps smartcore's layout; nothing here is serialised).
//!
//! A strict split `x < t` is walked as `x <= u` for `u` the largest `f64` below `t`
//! ([`TreeSpec::inclusive_threshold`]), which decides alike for every value but NaN. NaN has a
//! rank of its own, [`Rank::NAN`], above every other: it goes right at every node, unless the
//! node sends missing values left (XGBoost's and LightGBM's default direction), which the walk
//! marks in the high bit of the node's `left` and applies by flipping the comparison for that
//! one rank (ensembles without such nodes are walked without the flip). A feature that only
//! categorical nodes split is ranked by its category code instead (negative values and codes
//! beyond every bitset of the feature share one rank past them), and a categorical node, marked
//! by another bit of `left`, looks that code up in its bitset. LightGBM's missing types are
//! ranked per feature when every node of the feature has the same: under `None` NaN takes the
//! rank of `0.0`; under `Zero` NaN and the zero band take NaN's rank, so that the node's missing
//! side applies as for NaN. A feature whose nodes differ in missing type, or that is split both
//! by threshold and by category, cannot be told by one rank per value: such an ensemble is walked
//! on `f64` values by [`Plain`], node by node with [`TreeSpec::goes_left`].
//! Ensembles that compare in `f32` round each value before ranking it (or walking it plainly):
//! a rank of the rounded value decides as the rounded value does.
//!
//! Splits compare *ranks* instead of `f64` values. For each feature, the distinct thresholds of
//! every tree are sorted once; a value `x` becomes `rank(x)`, the number of thresholds below it,
//! and a node's threshold `t` becomes its own position `j` in that list. Then
//! `x <= t  ⇔  rank(x) <= j` for every non-NaN `x` (the thresholds below `x` are exactly those
//! below `t` or fewer), and NaN, which smartcore sends right, gets the largest rank. So every walk
//! reaches exactly the leaf of the `f64` comparison, while a row shrinks from one `f64` to one `u16`
//! per feature and a node from 16 to 8 bytes (`u32` and 12 bytes when a model has more than 65,536
//! features or more than 65,534 thresholds on one feature), which keeps a block of rows and a tree
//! in L1 and the whole forest in L2.
//!
//! Nodes are renumbered breadth-first so that the right child is always `left + 1`, and a leaf
//! points to itself with a threshold no rank exceeds: a step is `i = left + (rank > threshold)`
//! without branches, a walk that reached its leaf stays there, and several independent walks (rows
//! of a block over one tree, or one row over several trees) run in lockstep for the tree's depth so
//! that their memory loads overlap.

use super::{
    LEAF, MISSING_NAN, MISSING_NONE, MISSING_ZERO, SPLIT_LISTED_RIGHT, SPLIT_NUMERIC, TreeSpec,
    ZERO_THRESHOLD,
};

/// The integer type of ranks and feature indices in a layout: `u16` when they fit, else `u32`.
pub(super) trait Rank: Copy + Ord + Default + std::fmt::Debug + 'static {
    /// Above every rank, so a walk never leaves a leaf.
    const LEAF: Self;
    /// The rank of NaN: above every value's rank and every node's, below [`Rank::LEAF`].
    const NAN: Self;
    /// The largest value `from_u32` accepts for a rank (the leaf and NaN values excluded).
    const MAX_RANK: u32;
    /// Converts a value known to fit.
    fn from_u32(v: u32) -> Self;
    /// As an index.
    fn index(self) -> usize;
}

impl Rank for u16 {
    const LEAF: u16 = u16::MAX;
    const NAN: u16 = u16::MAX - 1;
    const MAX_RANK: u32 = u16::MAX as u32 - 2;
    #[inline(always)]
    fn from_u32(v: u32) -> u16 {
        v as u16
    }
    #[inline(always)]
    fn index(self) -> usize {
        usize::from(self)
    }
}

impl Rank for u32 {
    const LEAF: u32 = u32::MAX;
    const NAN: u32 = u32::MAX - 1;
    const MAX_RANK: u32 = u32::MAX - 2;
    #[inline(always)]
    fn from_u32(v: u32) -> u32 {
        v
    }
    #[inline(always)]
    fn index(self) -> usize {
        self as usize
    }
}

/// Rows walked in lockstep through one tree. Eight indices stay in registers next to the
/// pointers the loop needs; more would spill to the stack (16 was slower, 4 much slower).
pub(super) const LANES: usize = 8;

/// Trees a single row walks in lockstep. Its walks wait on nodes spread over the whole forest
/// (in L2 at best), so more of them in flight hide more latency than the stack traffic of indices
/// that no longer fit in registers costs (12 was fastest of 8 to 32 on the adult forest).
pub(super) const TREE_LANES: usize = 12;

/// Rows walked through every tree before the next rows start: the block's ranks (27 KB for the
/// adult forest's 107 features in `u16`) and one tree's nodes stay in L1 while the tree is
/// walked (128 was fastest of 32 to 256).
pub(super) const BLOCK_ROWS: usize = 128;

/// Every feature's distinct split thresholds, sorted, and how values map to ranks.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Ranks {
    /// Feature `f`'s thresholds are `thresholds[starts[f]..starts[f + 1]]`.
    starts: Vec<u32>,
    thresholds: Vec<f64>,
    /// The rank of `0.0` for each feature ([`NAN_RANK`] when zero is missing there): a row's
    /// features that no entry names are zero.
    zero: Vec<u32>,
    /// Per feature, the missing type of all its nodes ([`MISSING_NAN`] when it has none).
    modes: Vec<u8>,
    /// Per feature, 0 when it is compared with thresholds; else it is split only by category,
    /// and this is one past the largest code any of its bitsets can list: the rank of every
    /// value that is no listable code (negative, beyond, infinite).
    codes: Vec<u32>,
    /// Some feature is split both by threshold and by category, or by nodes of different
    /// missing types.
    mixed: bool,
}

/// [`Ranks::zero`]'s mark for "NaN's rank" ([`Rank::NAN`] of the layout's type).
const NAN_RANK: u32 = u32::MAX;

impl Ranks {
    /// Collects the thresholds of `trees` (validated: features below `width`, thresholds finite).
    fn new(trees: &[TreeSpec], width: usize) -> Ranks {
        // Sorted as packed integer keys: a plain `u128` sort is several times faster than a
        // comparator over `(u32, f64)`, and the sort is most of the load time of a large forest.
        let mut keys: Vec<u128> = trees
            .iter()
            .flat_map(|t| {
                // Categorical nodes compare no threshold.
                let numeric = |i: usize| t.left.0[i] != LEAF && t.split_kind(i) == SPLIT_NUMERIC;
                (0..t.left.len()).filter(move |&i| numeric(i)).map(|i| {
                    (u128::from(t.feature.0[i]) << 64)
                        | u128::from(ordered_bits(t.inclusive_threshold(i)))
                })
            })
            .collect();
        keys.sort_unstable();
        let mut splits: Vec<(u32, f64)> = keys
            .into_iter()
            .map(|key| ((key >> 64) as u32, from_ordered_bits(key as u64)))
            .collect();
        // `==` also merges -0.0 with 0.0, which every comparison treats alike.
        splits.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        let mut starts = Vec::with_capacity(width + 1);
        let mut at = 0;
        for f in 0..width as u32 {
            starts.push(at as u32);
            while at < splits.len() && splits[at].0 == f {
                at += 1;
            }
        }
        starts.push(at as u32);
        let mut codes = vec![0u32; width];
        for t in trees {
            for i in (0..t.left.len()).filter(|&i| t.split_kind(i) != SPLIT_NUMERIC) {
                let words = t.category_offsets.0[i + 1] - t.category_offsets.0[i];
                let f = t.feature.0[i] as usize;
                // At least 1: the feature is categorical even with an empty bitset.
                codes[f] = codes[f].max(words.saturating_mul(32)).max(1);
            }
        }
        let mut modes: Vec<Option<u8>> = vec![None; width];
        let mut mixed_modes = false;
        for t in trees {
            for i in (0..t.left.len()).filter(|&i| t.left.0[i] != LEAF) {
                let mode = t.missing_type_of(i);
                let seen = &mut modes[t.feature.0[i] as usize];
                mixed_modes |= seen.is_some_and(|m| m != mode);
                *seen = Some(mode);
            }
        }
        let mixed = mixed_modes || (0..width).any(|f| codes[f] != 0 && starts[f + 1] > starts[f]);
        let mut ranks = Ranks {
            starts,
            thresholds: splits.into_iter().map(|(_, x)| x).collect(),
            zero: Vec::new(),
            modes: modes
                .into_iter()
                .map(|m| m.unwrap_or(MISSING_NAN))
                .collect(),
            codes,
            mixed,
        };
        ranks.zero = (0..width)
            .map(|f| match ranks.modes[f] {
                MISSING_ZERO => NAN_RANK,
                _ => ranks.rank(f, 0.0),
            })
            .collect();
        ranks
    }

    /// The rank a walk gives value `x` of feature `feature`: NaN's own rank for a missing
    /// value (NaN; under LightGBM's `Zero` also the zero band), the rank of `0.0` for NaN under
    /// `None`, else [`rank`](Self::rank).
    #[inline]
    fn walk_rank<R: Rank>(&self, feature: usize, x: f64) -> R {
        match self.modes[feature] {
            MISSING_NONE if x.is_nan() => R::from_u32(self.zero[feature]),
            MISSING_ZERO if x.is_nan() || (-ZERO_THRESHOLD..=ZERO_THRESHOLD).contains(&x) => R::NAN,
            _ if x.is_nan() => R::NAN,
            _ => R::from_u32(self.rank(feature, x)),
        }
    }

    /// [`Ranks::zero`] of feature `f` as a rank of type `R`.
    #[inline]
    fn zero_rank<R: Rank>(&self, f: usize) -> R {
        match self.zero[f] {
            NAN_RANK => R::NAN,
            z => R::from_u32(z),
        }
    }

    /// Number of features.
    fn width(&self) -> usize {
        self.zero.len()
    }

    /// The most thresholds any feature has (so the largest rank).
    fn max_rank(&self) -> u32 {
        let thresholds = self.starts.windows(2).map(|w| w[1] - w[0]);
        thresholds
            .chain(self.codes.iter().copied())
            .max()
            .unwrap_or(0)
    }

    /// The number of feature `feature`'s thresholds below `x`; NaN ranks above them all (the
    /// walk gives it [`Rank::NAN`] instead, above every value's rank).
    #[inline]
    pub(super) fn rank(&self, feature: usize, x: f64) -> u32 {
        let codes = self.codes[feature];
        if codes != 0 && !x.is_nan() {
            // `TreeSpec::lists`: `x >= 0` truncated to its code; anything else is no code.
            return if x >= 0.0 && x < f64::from(codes) {
                x as u32
            } else {
                codes
            };
        }
        let t = &self.thresholds[self.starts[feature] as usize..self.starts[feature + 1] as usize];
        if x.is_nan() {
            t.len() as u32
        } else {
            t.partition_point(|&v| v < x) as u32
        }
    }
}

/// The bits of `x` as an unsigned integer that orders like `f64::total_cmp`.
fn ordered_bits(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// The inverse of [`ordered_bits`].
fn from_ordered_bits(key: u64) -> f64 {
    f64::from_bits(if key >> 63 == 1 {
        key & !(1 << 63)
    } else {
        !key
    })
}

/// A node as walked: go to `left` when the row's rank of `feature` is at most `rank`, else to
/// `left + 1`; the high bit of `left` ([`MISSING_LEFT`]) sends NaN's rank left instead.
/// The bit of [`Node::left`] set on a node that sends missing values left (node indices stay
/// below 2^28, the node limit).
const MISSING_LEFT: u32 = 1 << 31;
/// The bit of [`Node::left`] set on a categorical node ([`Walker::categories`] holds its bitset).
const CATEGORICAL: u32 = 1 << 30;
/// The node index in [`Node::left`].
const INDEX: u32 = !(MISSING_LEFT | CATEGORICAL);

/// Where a categorical node's bitset lies in [`Walker::bits`], and which side its listed codes
/// go.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct CategorySplit {
    start: u32,
    words: u32,
    listed_right: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Node<R> {
    left: u32,
    feature: R,
    rank: R,
}

/// The whole ensemble laid out for prediction: the ranks, the nodes, and every tree's leaf
/// outputs in one array.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Layout {
    ranks: Ranks,
    nodes: Nodes,
    /// Every tree's `leaf_values`, in tree order (`outputs` values per leaf).
    pub(super) leaf_values: Vec<f64>,
    /// Every tree's `leaf_class`, in tree order (classifiers).
    pub(super) leaf_class: Vec<u32>,
    /// Values are rounded to `f32` before they are ranked or compared.
    features_f32: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Nodes {
    Narrow(Walker<u16>),
    Wide(Walker<u32>),
    /// Some node sends missing values left, which one rank per value cannot say: the trees
    /// are walked on `f64` values instead (correct, and slower than ranks).
    Plain(Plain),
}

impl Default for Nodes {
    fn default() -> Self {
        Nodes::Wide(Walker::default())
    }
}

/// Per-thread buffers for ranked rows, reused between calls.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    narrow: Vec<[u16; LANES]>,
    wide: Vec<[u32; LANES]>,
}

impl Scratch {
    /// Empty buffers (no allocation).
    pub(super) const fn new() -> Scratch {
        Scratch {
            narrow: Vec::new(),
            wide: Vec::new(),
        }
    }
}

impl Layout {
    /// Derives the layout of validated trees over `width` features, rounding values to `f32`
    /// first when `features_f32`.
    pub(super) fn new(trees: &[TreeSpec], width: usize, features_f32: bool) -> Layout {
        let ranks = Ranks::new(trees, width);
        let narrow = width <= usize::from(u16::MAX) + 1 && ranks.max_rank() <= u16::MAX_RANK;
        let plain = ranks.mixed;
        Layout {
            features_f32,
            nodes: if plain {
                Nodes::Plain(Plain::new(trees, width, features_f32))
            } else if narrow {
                Nodes::Narrow(Walker::new(trees, &ranks))
            } else {
                Nodes::Wide(Walker::new(trees, &ranks))
            },
            ranks,
            leaf_values: trees
                .iter()
                .flat_map(|t| t.leaf_values.0.iter().copied())
                .collect(),
            leaf_class: trees
                .iter()
                .flat_map(|t| t.leaf_class.0.iter().copied())
                .collect(),
        }
    }

    /// Forces the `u32` layout (tests of the wide case on small trees).
    #[cfg(test)]
    pub(super) fn new_wide(trees: &[TreeSpec], width: usize, features_f32: bool) -> Layout {
        let mut layout = Layout::new(trees, width, features_f32);
        layout.nodes = Nodes::Wide(Walker::new(trees, &layout.ranks));
        layout
    }

    /// Whether the trees are walked on ranks (not on values by [`Plain`]).
    #[cfg(test)]
    pub(super) fn is_ranked(&self) -> bool {
        !matches!(self.nodes, Nodes::Plain(_))
    }

    /// Whether nodes and ranks are `u16`.
    #[cfg(test)]
    pub(super) fn is_narrow(&self) -> bool {
        matches!(self.nodes, Nodes::Narrow(_))
    }

    /// Calls `visit(row, leaf)` for every row of `source` and every tree, in tree order for each
    /// row; `leaf` indexes [`leaf_class`](Self::leaf_class) (and
    /// [`leaf_values`](Self::leaf_values) in strides of the number of outputs).
    #[inline]
    pub(super) fn for_each_leaf(
        &self,
        source: &impl RowValues,
        scratch: &mut Scratch,
        visit: impl FnMut(usize, usize),
    ) {
        match &self.nodes {
            Nodes::Narrow(w) => {
                let rows = self.rank_rows(source, &mut scratch.narrow);
                w.for_each_leaf(&rows, visit);
            }
            Nodes::Wide(w) => {
                let rows = self.rank_rows(source, &mut scratch.wide);
                w.for_each_leaf(&rows, visit);
            }
            Nodes::Plain(p) => p.for_each_leaf(source, visit),
        }
    }

    /// Ranks per row in a buffer: at least one, so that a leaf's `feature` 0 always indexes.
    fn row_len(&self) -> usize {
        self.ranks.width().max(1)
    }

    /// Ranks `source`'s rows into `buf`.
    #[inline]
    fn rank_rows<'a, R: Rank>(
        &self,
        source: &impl RowValues,
        buf: &'a mut Vec<[R; LANES]>,
    ) -> RankedRows<'a, R> {
        let rows = source.n_rows();
        let row_len = self.row_len();
        let width = self.ranks.width();
        let f32_values = self.features_f32;
        let rank = |f: usize, x: f64| {
            let x = if f32_values { round_f32(x) } else { x };
            self.ranks.walk_rank::<R>(f, x)
        };
        buf.clear();
        if rows == 1 {
            // One row walks several trees at once: lane 0 only.
            buf.resize(row_len, [R::default(); LANES]);
            for (f, d) in buf.iter_mut().enumerate().take(width) {
                d[0] = self.ranks.zero_rank(f);
            }
            source.for_each_value(0, |f, x| buf[f][0] = rank(f, x));
        } else {
            buf.resize(rows.div_ceil(LANES) * row_len, [R::default(); LANES]);
            for group in buf.chunks_exact_mut(row_len) {
                for (f, d) in group.iter_mut().enumerate().take(width) {
                    *d = [self.ranks.zero_rank(f); LANES];
                }
            }
            for r in 0..rows {
                let group = &mut buf[r / LANES * row_len..(r / LANES + 1) * row_len];
                let lane = r % LANES;
                source.for_each_value(r, |f, x| group[f][lane] = rank(f, x));
            }
        }
        RankedRows {
            groups: buf,
            rows,
            row_len,
        }
    }
}

/// `x` rounded to the nearest `f32` (ties to even, as a C cast does), back in `f64`.
#[inline]
pub(super) fn round_f32(x: f64) -> f64 {
    f64::from(x as f32)
}

/// A source of rows to rank: each row is `(feature, value)` pairs; features it does not name
/// are zero, and a later pair for the same feature wins.
pub(super) trait RowValues {
    /// Number of rows.
    fn n_rows(&self) -> usize;
    /// Calls `set(feature, value)` for the values of row `row`.
    fn for_each_value(&self, row: usize, set: impl FnMut(usize, f64));
}

/// Ranked rows, `LANES` at a time: group `g` holds rows `g * LANES..`, and
/// `groups[g * row_len + f][l]` is the rank of feature `f` of row `g * LANES + l`, so that rows
/// walked together read one array at a fixed offset. Groups are padded with all-zero rows; a
/// single row has a group of its own with only lane 0 set.
struct RankedRows<'a, R> {
    groups: &'a [[R; LANES]],
    rows: usize,
    row_len: usize,
}

/// The stored trees, walked one row and one tree at a time on `f64` values with each node's
/// rules.
#[derive(Debug, Clone, PartialEq)]
struct Plain {
    trees: Vec<TreeSpec>,
    /// Per tree, the index of its first leaf among every tree's leaves.
    first_leaf: Vec<usize>,
    width: usize,
    features_f32: bool,
}

impl Plain {
    fn new(trees: &[TreeSpec], width: usize, features_f32: bool) -> Plain {
        let mut first_leaf = Vec::with_capacity(trees.len());
        let mut at = 0;
        for t in trees {
            first_leaf.push(at);
            at += t.left.0.iter().filter(|&&l| l == LEAF).count();
        }
        Plain {
            trees: trees.to_vec(),
            first_leaf,
            width,
            features_f32,
        }
    }

    fn for_each_leaf(&self, source: &impl RowValues, mut visit: impl FnMut(usize, usize)) {
        let mut row = vec![0.0; self.width];
        for r in 0..source.n_rows() {
            row.fill(0.0);
            if self.features_f32 {
                source.for_each_value(r, |f, x| row[f] = round_f32(x));
            } else {
                source.for_each_value(r, |f, x| row[f] = x);
            }
            for (tree, &first) in self.trees.iter().zip(&self.first_leaf) {
                let mut i = 0;
                while tree.left.0[i] != LEAF {
                    let x = row[tree.feature.0[i] as usize];
                    i = if tree.goes_left(i, x) {
                        tree.left.0[i]
                    } else {
                        tree.right.0[i]
                    } as usize;
                }
                visit(r, first + tree.right.0[i] as usize);
            }
        }
    }
}

/// Where one tree lives in [`Walker::nodes`].
#[derive(Debug, Clone, Copy, PartialEq)]
struct TreeRef {
    root: u32,
    /// Steps from the root to the deepest leaf.
    depth: u32,
}

/// Every tree's nodes in one array, so that a walk only carries a node index, whichever tree it
/// is in.
#[derive(Debug, Clone, Default, PartialEq)]
struct Walker<R> {
    nodes: Vec<Node<R>>,
    /// Per node, its index in [`Layout::leaf_class`] (leaves only; read once per walk).
    leaf: Vec<u32>,
    trees: Vec<TreeRef>,
    /// A leaf node, where lanes without a tree wait.
    any_leaf: u32,
    /// Some node sends missing values left: walks apply [`MISSING_LEFT`] (walks without it skip
    /// the test).
    missing_left: bool,
    /// Per node (empty when no node is categorical), a categorical node's bitset.
    categories: Vec<CategorySplit>,
    /// Every categorical node's bitset.
    bits: Vec<u32>,
}

impl<R: Rank> Walker<R> {
    /// Lays out validated trees whose ranks and features fit `R`.
    fn new(trees: &[TreeSpec], ranks: &Ranks) -> Walker<R> {
        let total = trees.iter().map(|t| t.left.len()).sum();
        let mut walker = Walker {
            nodes: Vec::with_capacity(total),
            leaf: Vec::with_capacity(total),
            trees: Vec::with_capacity(trees.len()),
            any_leaf: 0,
            missing_left: false,
            categories: Vec::new(),
            bits: Vec::new(),
        };
        if trees
            .iter()
            .any(|t| t.categorical.0.iter().any(|&c| c != SPLIT_NUMERIC))
        {
            walker.categories = Vec::with_capacity(total);
        }
        let mut first_leaf = 0;
        for tree in trees {
            walker.push_tree(tree, ranks, first_leaf);
            first_leaf += tree.left.0.iter().filter(|&&l| l == LEAF).count() as u32;
        }
        // Every tree has a leaf: the last node laid out is one.
        walker.any_leaf = walker.nodes.len().saturating_sub(1) as u32;
        walker
    }

    /// Appends a tree breadth-first with adjacent siblings; its leaves are numbered from
    /// `first_leaf`.
    fn push_tree(&mut self, tree: &TreeSpec, ranks: &Ranks, first_leaf: u32) {
        let root = self.nodes.len() as u32;
        let mut depth = 0;
        // (stored index, depth) in the order nodes receive their new index.
        let mut queue = std::collections::VecDeque::with_capacity(tree.left.len());
        queue.push_back((0usize, 0u32));
        let mut next_index = root + 1;
        while let Some((i, d)) = queue.pop_front() {
            depth = depth.max(d);
            let me = self.nodes.len() as u32;
            if tree.left.0[i] == LEAF {
                self.nodes.push(Node {
                    left: me,
                    feature: R::default(),
                    rank: R::LEAF,
                });
                self.leaf.push(first_leaf + tree.right.0[i]);
                self.push_category(None);
            } else {
                let feature = tree.feature.0[i];
                let missing_left = tree.goes_left_when_missing(i);
                self.missing_left |= missing_left;
                let kind = tree.split_kind(i);
                let categorical = kind != SPLIT_NUMERIC;
                self.nodes.push(Node {
                    left: next_index
                        | if missing_left { MISSING_LEFT } else { 0 }
                        | if categorical { CATEGORICAL } else { 0 },
                    feature: R::from_u32(feature),
                    // The threshold's own position among its feature's thresholds (unused by a
                    // categorical node).
                    rank: if categorical {
                        R::default()
                    } else {
                        R::from_u32(ranks.rank(feature as usize, tree.inclusive_threshold(i)))
                    },
                });
                self.push_category(categorical.then(|| {
                    let (start, end) = (
                        tree.category_offsets.0[i] as usize,
                        tree.category_offsets.0[i + 1] as usize,
                    );
                    (
                        &tree.category_bits.0[start..end],
                        kind == SPLIT_LISTED_RIGHT,
                    )
                }));
                self.leaf.push(0);
                next_index += 2;
                queue.push_back((tree.left.0[i] as usize, d + 1));
                queue.push_back((tree.right.0[i] as usize, d + 1));
            }
        }
        self.trees.push(TreeRef { root, depth });
    }

    /// Records the node just laid out: its bitset and listed side when categorical (only when
    /// the ensemble has categorical nodes).
    fn push_category(&mut self, split: Option<(&[u32], bool)>) {
        if self.categories.capacity() == 0 {
            return;
        }
        self.categories.push(match split {
            Some((words, listed_right)) => {
                let start = self.bits.len() as u32;
                self.bits.extend_from_slice(words);
                CategorySplit {
                    start,
                    words: words.len() as u32,
                    listed_right,
                }
            }
            None => CategorySplit::default(),
        });
    }

    /// The leaves reached by the `LANES` rows of `group` in `tree`, walked in lockstep.
    #[inline]
    fn walk_rows<const M: bool, const C: bool>(
        &self,
        tree: TreeRef,
        group: &[[R; LANES]],
    ) -> [u32; LANES] {
        let mut idx = [tree.root; LANES];
        for _ in 0..tree.depth {
            for (l, i) in idx.iter_mut().enumerate() {
                *i = self.step::<M, C>(*i, |f| group[f][l]);
            }
        }
        idx.map(|i| self.leaf[i as usize])
    }

    /// One step from node `i`, the row's rank of a feature given by `rank`: `left`, or
    /// `left + 1` when the rank is above the node's. With `M` (some node sends missing values
    /// left), NaN's rank goes the other way at a [`MISSING_LEFT`] node: NaN ranks above every
    /// node, so the comparison's result is flipped, without a branch. With `C` (some node is
    /// categorical), a [`CATEGORICAL`] node sends NaN to its missing side and looks the rank,
    /// a category code, up in its bitset.
    #[inline(always)]
    fn step<const M: bool, const C: bool>(&self, i: u32, rank: impl Fn(usize) -> R) -> u32 {
        let n = self.nodes[i as usize];
        let r = rank(n.feature.index());
        if C && n.left & CATEGORICAL != 0 {
            let base = n.left & INDEX;
            if r == R::NAN {
                return base + u32::from(n.left & MISSING_LEFT == 0);
            }
            // A code (or the feature's "no code" rank, beyond every bitset).
            let split = self.categories[i as usize];
            let code = r.index();
            let listed = code / 32 < split.words as usize
                && (self.bits[split.start as usize + code / 32] >> (code % 32)) & 1 == 1;
            return base + u32::from(listed == split.listed_right);
        }
        if M {
            let flip = u32::from(r == R::NAN) & (n.left >> 31);
            (n.left & !MISSING_LEFT) + (u32::from(r > n.rank) ^ flip)
        } else {
            n.left + u32::from(r > n.rank)
        }
    }

    /// The leaves reached by one row (lane 0 of `row`) in up to `LANES` trees, walked in
    /// lockstep.
    #[inline]
    fn walk_trees<const M: bool, const C: bool>(
        &self,
        trees: &[TreeRef],
        row: &[[R; LANES]],
    ) -> [u32; TREE_LANES] {
        // Missing lanes stay on a leaf, which costs no cache miss; their leaves are not read.
        let mut idx: [u32; TREE_LANES] =
            std::array::from_fn(|l| trees.get(l).map_or(self.any_leaf, |t| t.root));
        let depth = trees.iter().map(|t| t.depth).max().unwrap_or(0);
        for _ in 0..depth {
            for i in &mut idx {
                *i = self.step::<M, C>(*i, |f| row[f][0]);
            }
        }
        idx.map(|i| self.leaf[i as usize])
    }

    /// Calls `visit(row, leaf)` for every row and tree, in tree order for each row.
    ///
    /// Blocks of `BLOCK_ROWS` rows walk every tree in turn, `LANES` rows at a time; a single row
    /// walks `LANES` trees at a time instead.
    #[inline]
    fn for_each_leaf(&self, rows: &RankedRows<'_, R>, visit: impl FnMut(usize, usize)) {
        match (self.missing_left, !self.categories.is_empty()) {
            (false, false) => self.for_each_leaf_with::<false, false>(rows, visit),
            (true, false) => self.for_each_leaf_with::<true, false>(rows, visit),
            (false, true) => self.for_each_leaf_with::<false, true>(rows, visit),
            (true, true) => self.for_each_leaf_with::<true, true>(rows, visit),
        }
    }

    /// [`for_each_leaf`](Self::for_each_leaf), applying [`MISSING_LEFT`] when `M` and
    /// [`CATEGORICAL`] when `C`.
    #[inline]
    fn for_each_leaf_with<const M: bool, const C: bool>(
        &self,
        rows: &RankedRows<'_, R>,
        mut visit: impl FnMut(usize, usize),
    ) {
        let row_len = rows.row_len;
        if rows.rows == 1 {
            for group in self.trees.chunks(TREE_LANES) {
                let leaves = self.walk_trees::<M, C>(group, rows.groups);
                for &leaf in &leaves[..group.len()] {
                    visit(0, leaf as usize);
                }
            }
            return;
        }
        let groups_per_block = BLOCK_ROWS / LANES;
        for (b, block) in rows.groups.chunks(groups_per_block * row_len).enumerate() {
            for &tree in &self.trees {
                for (g, group) in block.chunks_exact(row_len).enumerate() {
                    let first = b * BLOCK_ROWS + g * LANES;
                    let leaves = self.walk_rows::<M, C>(tree, group);
                    let real = LANES.min(rows.rows - first);
                    for (l, &leaf) in leaves[..real].iter().enumerate() {
                        visit(first + l, leaf as usize);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::packed::{PackedF64, PackedU32};

    /// One split per threshold in `cuts`, all on feature 0, as a right-leaning chain.
    fn chain(cuts: &[f64]) -> TreeSpec {
        let k = cuts.len() as u32;
        let (mut feature, mut threshold, mut left, mut right) = (vec![], vec![], vec![], vec![]);
        for (i, &c) in cuts.iter().enumerate() {
            let i = i as u32;
            feature.push(0);
            threshold.push(c);
            // Node 2i splits; its left child 2i+1 is leaf i, its right child 2i+2 splits next.
            left.push(2 * i + 1);
            right.push(2 * i + 2);
            feature.push(0);
            threshold.push(0.0);
            left.push(LEAF);
            right.push(i);
        }
        feature.push(0);
        threshold.push(0.0);
        left.push(LEAF);
        right.push(k);
        // Reorder into the stored form: node indices as pushed above already respect
        // parent-before-child.
        TreeSpec {
            feature: PackedU32(feature),
            threshold: PackedF64(threshold),
            left: PackedU32(left),
            right: PackedU32(right),
            leaf_values: PackedF64((0..=k).map(f64::from).collect()),
            leaf_class: PackedU32(vec![]),
            ..TreeSpec::default()
        }
    }

    /// Rows with one feature.
    struct Column<'a>(&'a [f64]);

    impl RowValues for Column<'_> {
        fn n_rows(&self) -> usize {
            self.0.len()
        }
        fn for_each_value(&self, row: usize, mut set: impl FnMut(usize, f64)) {
            set(0, self.0[row]);
        }
    }

    /// The leaf smartcore's rule reaches: left when `x <= threshold` (NaN goes right).
    fn reference_leaf(tree: &TreeSpec, x: f64) -> u32 {
        let mut i = 0;
        while tree.left.0[i] != LEAF {
            i = if x <= tree.threshold.0[i] {
                tree.left.0[i] as usize
            } else {
                tree.right.0[i] as usize
            };
        }
        tree.right.0[i]
    }

    #[test]
    fn ranks_decide_exactly_as_thresholds() {
        let tree = chain(&[-0.0, 2.5, 0.0, f64::MIN_POSITIVE, 2.5, -7.0]);
        let layout = Layout::new(std::slice::from_ref(&tree), 1, false);
        assert_eq!(
            layout.ranks.thresholds,
            [-7.0, -0.0, f64::MIN_POSITIVE, 2.5],
            "sorted, with duplicates and ±0 merged"
        );
        let probes = [
            f64::NEG_INFINITY,
            -7.0,
            -6.999,
            -0.0,
            0.0,
            f64::MIN_POSITIVE / 2.0,
            f64::MIN_POSITIVE,
            1.0,
            2.5,
            2.5000000000000004,
            f64::INFINITY,
            f64::NAN,
        ];
        let want: Vec<u32> = probes.iter().map(|&x| reference_leaf(&tree, x)).collect();
        assert!(layout.is_narrow());
        let wide = Layout::new_wide(std::slice::from_ref(&tree), 1, false);
        for layout in [&layout, &wide] {
            let mut got = vec![u32::MAX; probes.len()];
            layout.for_each_leaf(&Column(&probes), &mut Scratch::new(), |r, leaf| {
                got[r] = leaf as u32
            });
            assert_eq!(got, want);
        }
        assert_eq!(want.last(), Some(&6), "NaN goes right at every split");
    }

    #[test]
    fn a_single_row_walks_trees_in_lockstep() {
        // More trees than lanes, of different depths, over two features.
        let trees: Vec<TreeSpec> = (0..LANES + 3)
            .map(|t| chain(&(0..=t).map(|c| c as f64 * 0.5).collect::<Vec<_>>()))
            .collect();
        let layout = Layout::new(&trees, 2, false);
        for x in [-1.0, 0.0, 0.7, 3.0, 100.0] {
            let mut got = Vec::new();
            layout.for_each_leaf(&Column(&[x]), &mut Scratch::new(), |r, leaf| {
                assert_eq!(r, 0);
                got.push(leaf as u32);
            });
            // Leaves are numbered across trees: tree `t` of the chain family has `t + 2` leaves.
            let want: Vec<u32> = trees
                .iter()
                .enumerate()
                .map(|(t, tree)| {
                    (0..t as u32).map(|s| s + 2).sum::<u32>() + reference_leaf(tree, x)
                })
                .collect();
            assert_eq!(got, want, "x = {x}");
        }
    }

    #[test]
    fn ordered_bits_sort_like_total_cmp_and_round_trip() {
        let mut values = vec![
            3.5,
            -0.0,
            0.0,
            -1e300,
            1e300,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            -2.25,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut by_key = values.clone();
        by_key.sort_unstable_by_key(|&x| ordered_bits(x));
        values.sort_unstable_by(f64::total_cmp);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&by_key), bits(&values));
        for x in values {
            assert_eq!(from_ordered_bits(ordered_bits(x)).to_bits(), x.to_bits());
        }
    }
}
