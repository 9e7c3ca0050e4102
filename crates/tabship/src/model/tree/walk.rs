//! The prediction layout of a tree ensemble, derived from the stored trees when a pipeline is
//! assembled (the artifact keeps smartcore's layout; nothing here is serialised).
//!
//! Splits compare *ranks* instead of `f64` values. For each feature, the distinct thresholds of
//! every tree are sorted once; a value `x` becomes `rank(x)`, the number of thresholds below it,
//! and a node's threshold `t` becomes its own position `j` in that list. Then
//! `x <= t  ⇔  rank(x) <= j` for every non-NaN `x` (the thresholds below `x` are exactly those
//! below `t` or fewer), and NaN, which smartcore sends right, gets the largest rank. So every walk
//! reaches exactly the leaf of the `f64` comparison, while a row shrinks from one `f64` to one `u32`
//! per feature and a node from 16 to 12 bytes, which keeps a block of rows and a tree in L1.
//!
//! Nodes are renumbered breadth-first so that the right child is always `left + 1`, and a leaf
//! points to itself with a threshold no rank exceeds: a step is `i = left + (rank > threshold)`
//! without branches, a walk that reached its leaf stays there, and several independent walks (rows
//! of a block over one tree, or one row over several trees) run in lockstep for the tree's depth so
//! that their memory loads overlap.

use super::{LEAF, TreeSpec};

/// Independent walks interleaved in lockstep. Eight indices stay in registers next to the
/// pointers the loop needs; more would spill to the stack.
pub(super) const LANES: usize = 8;

/// Rows walked through every tree before the next rows start: 64 rows of ranks plus one tree's
/// nodes stay in L1 for the whole block.
pub(super) const BLOCK_ROWS: usize = 64;

/// Threshold of a leaf: above every rank, so a walk never leaves it.
const LEAF_RANK: u32 = u32::MAX;

/// Every feature's distinct split thresholds, sorted, and how values map to ranks.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Ranks {
    /// Feature `f`'s thresholds are `thresholds[starts[f]..starts[f + 1]]`.
    starts: Vec<u32>,
    thresholds: Vec<f64>,
    /// The rank of `0.0` for each feature: a row's features that no entry names are zero.
    zero: Vec<u32>,
}

impl Ranks {
    /// Collects the thresholds of `trees` (validated: features below `width`, thresholds finite).
    fn new(trees: &[TreeSpec], width: usize) -> Ranks {
        let mut splits: Vec<(u32, f64)> = trees
            .iter()
            .flat_map(|t| {
                t.left
                    .0
                    .iter()
                    .zip(&t.feature.0)
                    .zip(&t.threshold.0)
                    .filter(|((left, _), _)| **left != LEAF)
                    .map(|((_, &f), &x)| (f, x))
            })
            .collect();
        splits.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
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
        let mut ranks = Ranks {
            starts,
            thresholds: splits.into_iter().map(|(_, x)| x).collect(),
            zero: Vec::new(),
        };
        ranks.zero = (0..width).map(|f| ranks.rank(f, 0.0)).collect();
        ranks
    }

    /// Number of features.
    fn width(&self) -> usize {
        self.zero.len()
    }

    /// The number of feature `feature`'s thresholds below `x`; NaN ranks above them all.
    #[inline]
    pub(super) fn rank(&self, feature: usize, x: f64) -> u32 {
        let t = &self.thresholds[self.starts[feature] as usize..self.starts[feature + 1] as usize];
        if x.is_nan() {
            t.len() as u32
        } else {
            t.partition_point(|&v| v < x) as u32
        }
    }
}

/// A node as walked: go to `left` when the row's rank of `feature` is at most `rank`, else to
/// `left + 1`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Node {
    left: u32,
    feature: u32,
    rank: u32,
}

/// Where one tree lives in [`Layout::nodes`].
#[derive(Debug, Clone, Copy, PartialEq)]
struct TreeRef {
    root: u32,
    /// Steps from the root to the deepest leaf.
    depth: u32,
}

/// The whole ensemble laid out for prediction: every tree's nodes in one array, so that a walk
/// only carries a node index, whichever tree it is in, and every tree's leaves in one array.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Layout {
    ranks: Ranks,
    nodes: Vec<Node>,
    /// Per node, its index in [`leaf_class`](Self::leaf_class) (leaves only; read once per walk).
    leaf: Vec<u32>,
    trees: Vec<TreeRef>,
    /// Every tree's `leaf_values`, in tree order (`outputs` values per leaf).
    pub(super) leaf_values: Vec<f64>,
    /// Every tree's `leaf_class`, in tree order (classifiers).
    pub(super) leaf_class: Vec<u32>,
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
pub(super) struct RankedRows<'a> {
    groups: &'a [[u32; LANES]],
    rows: usize,
    row_len: usize,
}

impl RankedRows<'_> {
    /// Number of rows (without the padding).
    pub(super) fn len(&self) -> usize {
        self.rows
    }
}

impl Layout {
    /// Derives the layout of validated trees over `width` features.
    pub(super) fn new(trees: &[TreeSpec], width: usize) -> Layout {
        let total = trees.iter().map(|t| t.left.len()).sum();
        let mut layout = Layout {
            ranks: Ranks::new(trees, width),
            nodes: Vec::with_capacity(total),
            leaf: Vec::with_capacity(total),
            trees: Vec::with_capacity(trees.len()),
            leaf_values: trees
                .iter()
                .flat_map(|t| t.leaf_values.0.iter().copied())
                .collect(),
            leaf_class: trees
                .iter()
                .flat_map(|t| t.leaf_class.0.iter().copied())
                .collect(),
        };
        let mut first_leaf = 0;
        for tree in trees {
            layout.push_tree(tree, first_leaf);
            first_leaf += tree.left.0.iter().filter(|&&l| l == LEAF).count() as u32;
        }
        layout
    }

    /// Appends a validated tree breadth-first with adjacent siblings; its leaves are numbered
    /// from `first_leaf`.
    fn push_tree(&mut self, tree: &TreeSpec, first_leaf: u32) {
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
                    feature: 0,
                    rank: LEAF_RANK,
                });
                self.leaf.push(first_leaf + tree.right.0[i]);
            } else {
                let feature = tree.feature.0[i];
                self.nodes.push(Node {
                    left: next_index,
                    feature,
                    // The threshold's own position among its feature's thresholds.
                    rank: self.ranks.rank(feature as usize, tree.threshold.0[i]),
                });
                self.leaf.push(0);
                next_index += 2;
                queue.push_back((tree.left.0[i] as usize, d + 1));
                queue.push_back((tree.right.0[i] as usize, d + 1));
            }
        }
        self.trees.push(TreeRef { root, depth });
    }

    /// Ranks per row in a buffer: at least one, so that a leaf's `feature` 0 always indexes.
    fn row_len(&self) -> usize {
        self.ranks.width().max(1)
    }

    /// Ranks `source`'s rows into `buf`.
    #[inline]
    pub(super) fn rank_rows<'a>(
        &self,
        source: &impl RowValues,
        buf: &'a mut Vec<[u32; LANES]>,
    ) -> RankedRows<'a> {
        let rows = source.n_rows();
        let row_len = self.row_len();
        let zero = &self.ranks.zero;
        buf.clear();
        if rows == 1 {
            // One row walks several trees at once: lane 0 only.
            buf.resize(row_len, [0; LANES]);
            for (d, &z) in buf.iter_mut().zip(zero) {
                d[0] = z;
            }
            source.for_each_value(0, |f, x| buf[f][0] = self.ranks.rank(f, x));
        } else {
            buf.resize(rows.div_ceil(LANES) * row_len, [0; LANES]);
            for group in buf.chunks_exact_mut(row_len) {
                for (d, &z) in group.iter_mut().zip(zero) {
                    *d = [z; LANES];
                }
            }
            for r in 0..rows {
                let group = &mut buf[r / LANES * row_len..(r / LANES + 1) * row_len];
                let lane = r % LANES;
                source.for_each_value(r, |f, x| group[f][lane] = self.ranks.rank(f, x));
            }
        }
        RankedRows {
            groups: buf,
            rows,
            row_len,
        }
    }

    /// The leaves reached by the `LANES` rows of `group` in `tree`, walked in lockstep.
    #[inline]
    fn walk_rows(&self, tree: TreeRef, group: &[[u32; LANES]]) -> [u32; LANES] {
        let mut idx = [tree.root; LANES];
        for _ in 0..tree.depth {
            for (l, i) in idx.iter_mut().enumerate() {
                let n = self.nodes[*i as usize];
                *i = n.left + u32::from(group[n.feature as usize][l] > n.rank);
            }
        }
        idx.map(|i| self.leaf[i as usize])
    }

    /// The leaves reached by one row (lane 0 of `row`) in up to `LANES` trees, walked in
    /// lockstep.
    #[inline]
    fn walk_trees(&self, trees: &[TreeRef], row: &[[u32; LANES]]) -> [u32; LANES] {
        // Missing lanes walk the first tree again; their leaves are not read.
        let mut idx: [u32; LANES] = std::array::from_fn(|l| trees.get(l).unwrap_or(&trees[0]).root);
        let depth = trees.iter().map(|t| t.depth).max().unwrap_or(0);
        for _ in 0..depth {
            for i in &mut idx {
                let n = self.nodes[*i as usize];
                *i = n.left + u32::from(row[n.feature as usize][0] > n.rank);
            }
        }
        idx.map(|i| self.leaf[i as usize])
    }

    /// Calls `visit(row, leaf)` for every row and tree, in tree order for each row; `leaf`
    /// indexes [`leaf_class`](Self::leaf_class) (and [`leaf_values`](Self::leaf_values) in
    /// strides of the number of outputs).
    ///
    /// Blocks of `BLOCK_ROWS` rows walk every tree in turn, `LANES` rows at a time; a single row
    /// walks `LANES` trees at a time instead.
    #[inline]
    pub(super) fn for_each_leaf(&self, rows: &RankedRows<'_>, mut visit: impl FnMut(usize, usize)) {
        let row_len = rows.row_len;
        if rows.rows == 1 {
            for group in self.trees.chunks(LANES) {
                let leaves = self.walk_trees(group, rows.groups);
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
                    let leaves = self.walk_rows(tree, group);
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
        let layout = Layout::new(std::slice::from_ref(&tree), 1);
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
        let mut buf = Vec::new();
        let rows = layout.rank_rows(&Column(&probes), &mut buf);
        let mut got = vec![u32::MAX; probes.len()];
        layout.for_each_leaf(&rows, |r, leaf| got[r] = leaf as u32);
        let want: Vec<u32> = probes.iter().map(|&x| reference_leaf(&tree, x)).collect();
        assert_eq!(got, want);
        assert_eq!(want.last(), Some(&6), "NaN goes right at every split");
    }

    #[test]
    fn a_single_row_walks_trees_in_lockstep() {
        // More trees than lanes, of different depths, over two features.
        let trees: Vec<TreeSpec> = (0..LANES + 3)
            .map(|t| chain(&(0..=t).map(|c| c as f64 * 0.5).collect::<Vec<_>>()))
            .collect();
        let layout = Layout::new(&trees, 2);
        for x in [-1.0, 0.0, 0.7, 3.0, 100.0] {
            let mut buf = Vec::new();
            let rows = layout.rank_rows(&Column(&[x]), &mut buf);
            let mut got = Vec::new();
            layout.for_each_leaf(&rows, |r, leaf| {
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
}
