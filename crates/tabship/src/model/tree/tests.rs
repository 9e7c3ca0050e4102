//! Tree ensembles against a plain walk: the proptest oracle and hostile trees.

use super::buffers::MAX_ROWS_AT_ONCE;
use super::combine::{self, first_max};
use super::walk::Layout;
use super::*;
use crate::artifact::packed::{PackedF64, PackedU8, PackedU32};
use crate::model::Outputs;

/// x0 <= 0.5 ? leaf 0 (class 0, p = [0.9, 0.1]) : leaf 1 (class 1, p = [0.2, 0.8])
fn stump() -> TreeSpec {
    TreeSpec {
        feature: PackedU32(vec![0, 0, 0]),
        threshold: PackedF64(vec![0.5, 0.0, 0.0]),
        left: PackedU32(vec![1, LEAF, LEAF]),
        right: PackedU32(vec![2, 0, 1]),
        leaf_values: PackedF64(vec![0.9, 0.1, 0.2, 0.8]),
        leaf_class: PackedU32(vec![0, 1]),
        ..TreeSpec::default()
    }
}

#[test]
fn votes_and_probabilities() {
    let mut e = TreeEnsemble::new(Task::Classification, vec![stump(), stump()]);
    e.prepare(1, Some(2)).unwrap();
    let x = [0.5, 0.7, -3.0];
    let mut classes = [9; 3];
    let mut proba = [0.0; 6];
    e.predict_dense(
        &x,
        1,
        Outputs {
            classes: Some(&mut classes),
            proba: Some(&mut proba),
            ..Outputs::default()
        },
    );
    assert_eq!(classes, [0, 1, 0], "<= goes left");
    let mut one = [9];
    e.predict_dense(
        &[0.7],
        1,
        Outputs {
            classes: Some(&mut one),
            ..Outputs::default()
        },
    );
    assert_eq!(one, [1], "a single row walks the trees in lockstep");
    // Nothing asked for: nothing written, nothing counted.
    e.predict_dense(&x, 1, Outputs::default());
    assert_eq!(&proba[..2], &[0.9, 0.1]);
}

#[test]
fn hostile_trees_are_refused() {
    let mutated = |change: fn(&mut TreeSpec)| {
        let mut tree = stump();
        change(&mut tree);
        vec![tree]
    };
    for (what, trees) in [
        ("a cycle", mutated(|t| t.left.0[0] = 0)),
        ("a feature past the width", mutated(|t| t.feature.0[0] = 5)),
        ("a shared child", mutated(|t| t.right.0[0] = 1)),
        ("a leaf reached twice", mutated(|t| t.right.0[2] = 0)),
        ("a class past k", mutated(|t| t.leaf_class.0[1] = 2)),
        ("no trees", vec![]),
    ] {
        assert!(
            TreeEnsemble::new(Task::Classification, trees)
                .prepare(1, Some(2))
                .is_err(),
            "{what}"
        );
    }
}

#[test]
fn regression_averages_in_tree_order() {
    let mut a = stump();
    a.leaf_values = PackedF64(vec![1.0, 3.0]);
    a.leaf_class = PackedU32(vec![]);
    let mut b = a.clone();
    b.leaf_values = PackedF64(vec![2.0, 6.0]);
    let mut e = TreeEnsemble::new(Task::Regression, vec![a, b]);
    e.prepare(1, None).unwrap();
    let mut values = [0.0; 2];
    e.predict_dense(
        &[0.0, 1.0],
        1,
        Outputs {
            values: Some(&mut values),
            ..Outputs::default()
        },
    );
    assert_eq!(values, [1.5, 4.5]);
}

/// xorshift64*: random trees from one proptest-drawn seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

/// Values that splits and rows share, so that ties, signed zeros and infinities all occur.
const POOL: [f64; 9] = [
    -2.5,
    -1.0,
    -0.0,
    0.0,
    0.5,
    1.0,
    1.0 + f64::EPSILON,
    3.0,
    1e300,
];

/// A random valid tree over `width` features: `k` classes, or regression when `k` is 1.
fn random_tree(rng: &mut Rng, width: usize, k: usize, max_depth: usize) -> TreeSpec {
    fn grow(rng: &mut Rng, t: &mut TreeSpec, width: usize, k: usize, depth: usize) {
        let i = t.left.0.len();
        t.feature.0.push(0);
        t.threshold.0.push(0.0);
        t.left.0.push(LEAF);
        t.right.0.push(0);
        if depth == 0 || rng.below(4) == 0 {
            t.right.0[i] = t.leaf_class.0.len().max(t.leaf_values.0.len() / k) as u32;
            if k == 1 {
                t.leaf_values.0.push(POOL[rng.below(POOL.len() - 1)] * 0.3);
            } else {
                let counts: Vec<f64> = (0..k).map(|_| rng.below(5) as f64).collect();
                let total: f64 = counts.iter().sum::<f64>() + 1.0;
                let mut dist: Vec<f64> = counts.iter().map(|c| c / total).collect();
                dist[0] += 1.0 / total;
                t.leaf_class.0.push(first_max_f(&dist) as u32);
                t.leaf_values.0.extend(dist);
            }
            return;
        }
        t.feature.0[i] = rng.below(width) as u32;
        t.threshold.0[i] = POOL[rng.below(POOL.len())];
        t.left.0[i] = t.left.0.len() as u32;
        grow(rng, t, width, k, depth - 1);
        t.right.0[i] = t.left.0.len() as u32;
        grow(rng, t, width, k, depth - 1);
    }
    let mut t = TreeSpec::default();
    grow(rng, &mut t, width, k, max_depth);
    t
}

fn first_max_f(v: &[f64]) -> usize {
    (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b })
}

/// A node's decision written plainly from the spec (`docs/artifact-format.md`, §2.3), not from
/// `TreeSpec::goes_left`: NaN per the missing type (its missing side under type 0, else 0.0),
/// LightGBM's zero band, categorical bitsets with their listed side, then `x < threshold` where
/// `strict` is 1, else `x <= threshold`. A forest's trees carry no rules, so this is smartcore's
/// decision for them (NaN right).
fn oracle_goes_left(t: &TreeSpec, i: usize, x: f64) -> bool {
    let missing_type = t.missing_type.0.get(i).copied().unwrap_or(0);
    let missing_left = t.missing_left.0.get(i) == Some(&1);
    let mut x = x;
    if x.is_nan() {
        if missing_type == 0 {
            return missing_left;
        }
        x = 0.0;
    }
    if missing_type == 2 && x.abs() <= f64::from(1e-35_f32) {
        return missing_left;
    }
    let kind = t.categorical.0.get(i).copied().unwrap_or(0);
    if kind != 0 {
        let words = &t.category_bits.0
            [t.category_offsets.0[i] as usize..t.category_offsets.0[i + 1] as usize];
        let code = x.trunc();
        let listed = x >= 0.0
            && code < (32 * words.len()) as f64
            && words[code as usize / 32] & (1 << (code as usize % 32)) != 0;
        return listed == (kind == 1);
    }
    if t.strict.0.get(i) == Some(&1) {
        x < t.threshold.0[i]
    } else {
        x <= t.threshold.0[i]
    }
}

/// The leaf a row reaches, walked plainly on values with [`oracle_goes_left`].
fn plain_leaf(tree: &TreeSpec, row: &[f64]) -> usize {
    let mut i = 0;
    while tree.left.0[i] != LEAF {
        let x = row[tree.feature.0[i] as usize];
        i = if oracle_goes_left(tree, i, x) {
            tree.left.0[i]
        } else {
            tree.right.0[i]
        } as usize;
    }
    tree.right.0[i] as usize
}

/// smartcore's prediction, written plainly: the [`plain_leaf`] of each tree, the trees' outputs
/// added in tree order, divided by the number of trees, votes for classes.
fn reference(trees: &[TreeSpec], k: usize, row: &[f64]) -> (usize, Vec<f64>) {
    let mut sums = vec![0.0; k];
    let mut votes = vec![0u32; k];
    for t in trees {
        let leaf = plain_leaf(t, row);
        for (s, v) in sums
            .iter_mut()
            .zip(&t.leaf_values.0[leaf * k..(leaf + 1) * k])
        {
            *s += v;
        }
        if let Some(&c) = t.leaf_class.0.get(leaf) {
            votes[c as usize] += 1;
        }
    }
    let n = trees.len() as f64;
    (first_max(&votes), sums.iter().map(|s| s / n).collect())
}

/// Values rows draw besides [`POOL`], which no split holds: NaN, infinities, values between and
/// beyond the thresholds, values that `f32` rounds onto or past a threshold, LightGBM's zero
/// band and its edge, and category codes (whole, fractional, negative, beyond every bitset).
const SPECIALS: [f64; 17] = [
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    0.75,
    -1e-300,
    1e-35,
    -1e-36,
    1.0000000596046448,
    0.49999999,
    2.0,
    5.0,
    33.0,
    40.7,
    -0.5,
    -1.0,
    95.0,
    1e10,
];

/// `n_rows` rows of `width` values from [`POOL`] and [`SPECIALS`].
fn random_rows(rng: &mut Rng, n_rows: usize, width: usize) -> Vec<f64> {
    (0..n_rows * width)
        .map(|_| match rng.below(POOL.len() + SPECIALS.len()) {
            i if i < POOL.len() => POOL[i],
            i => SPECIALS[i - POOL.len()],
        })
        .collect()
}

/// Predicts `x` as one block, then each row on its own (the single-row path), and checks every
/// output bit for bit (and every class when `k > 1`) against `want`, one entry per row; `label`
/// names the case in a failure.
fn check_blocks(
    e: &TreeEnsemble,
    x: &[f64],
    width: usize,
    k: usize,
    want: &[(usize, Vec<f64>)],
    label: &str,
) -> Result<(), proptest::test_runner::TestCaseError> {
    let blocks: Vec<(usize, &[f64])> = std::iter::once((0, x))
        .chain(x.chunks(width).enumerate())
        .collect();
    for (first, block) in blocks {
        let rows = block.len() / width;
        let mut classes = vec![usize::MAX; rows];
        let mut out = vec![f64::NAN; rows * k];
        if k == 1 {
            e.predict_dense(
                block,
                width,
                Outputs {
                    values: Some(&mut out),
                    ..Outputs::default()
                },
            );
        } else {
            e.predict_dense(
                block,
                width,
                Outputs {
                    classes: Some(&mut classes),
                    proba: Some(&mut out),
                    ..Outputs::default()
                },
            );
        }
        for r in 0..rows {
            let (class, p) = &want[first + r];
            let got: Vec<u64> = out[r * k..(r + 1) * k]
                .iter()
                .map(|v| v.to_bits())
                .collect();
            let exp: Vec<u64> = p.iter().map(|v| v.to_bits()).collect();
            proptest::prop_assert_eq!(got, exp, "row {} {}", first + r, label);
            if k > 1 {
                proptest::prop_assert_eq!(classes[r], *class, "row {} {}", first + r, label);
            }
        }
    }
    Ok(())
}

/// How the oracle treats a boosted ensemble: the ensemble-level flags of format 1.5.
#[derive(Clone, Copy)]
struct Semantics {
    features_f32: bool,
    accumulate_f32: bool,
}

/// A boosted ensemble written plainly: round values to f32 when asked, the [`plain_leaf`] of
/// each tree (its nodes' rules), add the leaves' margins to `base` in tree order (tree `t` into
/// class `t % k` under softmax; in `f32` when asked), then the link (XGBoost's f32 sigmoid and
/// softmax when asked). Returns the class (none for regression) and the outputs.
fn boosted_reference(
    trees: &[TreeSpec],
    k: usize,
    base: f64,
    link: Link,
    sem: Semantics,
    row: &[f64],
) -> (usize, Vec<f64>) {
    let groups = if link == Link::Softmax { k } else { 1 };
    let row: Vec<f64> = if sem.features_f32 {
        row.iter().map(|&x| x as f32 as f64).collect()
    } else {
        row.to_vec()
    };
    let mut margins = vec![base; groups];
    let mut margins32 = vec![base as f32; groups];
    for (t, tree) in trees.iter().enumerate() {
        let leaf = tree.leaf_values.0[plain_leaf(tree, &row)];
        margins[t % groups] += leaf;
        margins32[t % groups] += leaf as f32;
    }
    if sem.accumulate_f32 {
        return match link {
            Link::Identity => (0, vec![f64::from(margins32[0])]),
            Link::Logistic => {
                let p = 1.0_f32 / ((-margins32[0]).min(88.7).exp() + 1.0 + 1e-16);
                (usize::from(p > 0.5), vec![f64::from(1.0 - p), f64::from(p)])
            }
            Link::Softmax => {
                let max = margins32.iter().copied().fold(margins32[0], f32::max);
                let e: Vec<f32> = margins32.iter().map(|m| (m - max).exp()).collect();
                let total = e.iter().map(|&v| f64::from(v)).sum::<f64>() as f32;
                let p: Vec<f32> = e.iter().map(|v| v / total).collect();
                let class = (0..k).fold(0, |b, i| if p[i] > p[b] { i } else { b });
                (class, p.into_iter().map(f64::from).collect())
            }
        };
    }
    match link {
        Link::Identity => (0, margins),
        Link::Logistic => {
            let p = 1.0 / (1.0 + (-margins[0]).exp());
            (usize::from(p > 0.5), vec![1.0 - p, p])
        }
        Link::Softmax => {
            let class = first_max_f(&margins);
            let max = margins.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = margins.iter().map(|m| (m - max).exp()).collect();
            let total: f64 = e.iter().sum();
            (class, e.iter().map(|v| v / total).collect())
        }
    }
}

/// `random_tree` turned into a boosted tree: one margin per leaf (an `f32` value when
/// `f32_leaves`), no votes. `rules` 1 adds random strict splits, 2 also random missing
/// directions (both still walked on ranks), 3 also LightGBM's missing types (walked on values),
/// 4 instead categorical splits on every odd feature (bitsets listing codes 0 to 95), 5 missing
/// types and categorical splits on random nodes (a feature split both ways: walked on values),
/// 6 missing types by feature (`feature % 3`: one per feature, walked on ranks).
fn boosted_tree(rng: &mut Rng, width: usize, rules: usize, f32_leaves: bool) -> TreeSpec {
    let depth = 1 + rng.below(6);
    let mut t = random_tree(rng, width, 1, depth);
    let n = t.left.len();
    if f32_leaves {
        for v in &mut t.leaf_values.0 {
            *v = f64::from(*v as f32);
        }
    }
    if rules >= 1 {
        t.strict = PackedU8((0..n).map(|_| rng.below(2) as u8).collect());
    }
    if rules >= 2 {
        t.missing_left = PackedU8((0..n).map(|_| rng.below(2) as u8).collect());
    }
    if rules == 3 || rules == 5 {
        t.missing_type = PackedU8((0..n).map(|_| rng.below(3) as u8).collect());
    } else if rules == 4 {
        t.missing_type = PackedU8(vec![MISSING_NAN; n]);
    } else if rules == 6 {
        t.missing_type = PackedU8((0..n).map(|i| (t.feature.0[i] % 3) as u8).collect());
    }
    if rules == 4 || rules == 5 {
        let mut kinds = vec![SPLIT_NUMERIC; n];
        let mut offsets = vec![0u32];
        let mut bits = Vec::new();
        for (i, kind) in kinds.iter_mut().enumerate() {
            let categorical = match rules {
                4 => t.feature.0[i] % 2 == 1,
                _ => rng.below(2) == 0,
            };
            if t.left.0[i] != LEAF && categorical {
                *kind = [SPLIT_LISTED_LEFT, SPLIT_LISTED_RIGHT][rng.below(2)];
                t.threshold.0[i] = 0.0;
                t.strict.0[i] = 0;
                t.missing_type.0[i] = MISSING_NAN;
                for _ in 0..rng.below(4) {
                    bits.push((0..32).fold(0u32, |w, b| w | (u32::from(rng.below(3) == 0) << b)));
                }
            }
            offsets.push(bits.len() as u32);
        }
        t.categorical = PackedU8(kinds);
        t.category_offsets = PackedU32(offsets);
        t.category_bits = PackedU32(bits);
    }
    t
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Ranked walks, in blocks and one row at a time, in the `u16` and the `u32` layouts,
    /// give bit for bit what the plain `f64` walk gives.
    #[test]
    fn walks_match_the_plain_walk_bit_for_bit(
        seed in 1u64..,
        width in 1usize..6,
        k in 1usize..4,
        n_trees in 1usize..30,
        n_rows in 1usize..40,
    ) {
        let mut rng = Rng(seed);
        let trees: Vec<TreeSpec> =
            (0..n_trees).map(|_| { let depth = 1 + rng.below(7); random_tree(&mut rng, width, k, depth) }).collect();
        let task = if k == 1 { Task::Regression } else { Task::Classification };
        let mut e = TreeEnsemble::new(task, trees);
        e.prepare(width, (k > 1).then_some(k)).expect("valid trees");
        let x = random_rows(&mut rng, n_rows, width);
        let want: Vec<(usize, Vec<f64>)> =
            x.chunks(width).map(|row| reference(&e.trees, k, row)).collect();
        let narrow = e.layout.is_narrow();
        proptest::prop_assert!(narrow);
        for wide in [false, true] {
            if wide {
                *e.layout = Layout::new_wide(&e.trees, width, false);
            }
            check_blocks(&e, &x, width, k, &want, &format!("wide {wide}"))?;
        }
        if k > 1 {
            // Soft voting: the same probabilities, the class their first maximum.
            let mut soft = TreeEnsemble::new(task, e.trees.clone()).with_soft_vote(true);
            soft.prepare(width, Some(k)).expect("valid trees");
            let want: Vec<(usize, Vec<f64>)> = want
                .into_iter()
                .map(|(_, p)| (combine::first_max_f64(&p), p))
                .collect();
            check_blocks(&soft, &x, width, k, &want, "soft vote")?;
        }
    }

    /// Summed ensembles with per-node rules (strict splits, missing directions and types,
    /// categorical bitsets), compared in f64 or f32 and summed in f64 or f32, give bit for bit
    /// what the plain oracle gives, for every link, in blocks and one row at a time, in the
    /// `u16` and the `u32` layouts when ranked.
    #[test]
    fn boosted_walks_match_the_plain_walk_bit_for_bit(
        seed in 1u64..,
        width in 1usize..5,
        link in 0usize..3,
        rounds in 1usize..8,
        rules in 0usize..7,
        features_f32: bool,
        accumulate_f32: bool,
        n_rows in 1usize..30,
    ) {
        let mut rng = Rng(seed);
        let (link, k, task) = match link {
            0 => (Link::Identity, 1, Task::Regression),
            1 => (Link::Logistic, 2, Task::Classification),
            _ => (Link::Softmax, 3, Task::Classification),
        };
        let sem = Semantics { features_f32, accumulate_f32 };
        let per_round = if link == Link::Softmax { k } else { 1 };
        let trees: Vec<TreeSpec> = (0..rounds * per_round)
            .map(|_| boosted_tree(&mut rng, width, rules, accumulate_f32))
            .collect();
        let mut base = POOL[rng.below(POOL.len() - 1)] * 0.1;
        if accumulate_f32 {
            base = f64::from(base as f32);
        }
        // Random rules can all come out as the defaults (a one-split tree, say): the ranked
        // walker then still applies. Missing directions and categorical features are ranked
        // too; missing types and features split both ways are walked on values.
        let mut kinds = vec![(false, false); width];
        let mut modes: Vec<std::collections::BTreeSet<u8>> = vec![Default::default(); width];
        for t in &trees {
            for i in (0..t.left.len()).filter(|&i| t.left.0[i] != LEAF) {
                let f = t.feature.0[i] as usize;
                if t.categorical.0.get(i).is_some_and(|&c| c != 0) {
                    kinds[f].1 = true;
                } else {
                    kinds[f].0 = true;
                }
                modes[f].insert(t.missing_type.0.get(i).copied().unwrap_or(0));
            }
        }
        let plain = kinds.iter().any(|&(numeric, categorical)| numeric && categorical)
            || modes.iter().any(|m| m.len() > 1);
        let mut e = TreeEnsemble::new(task, trees)
            .with_combination(Combination::Sum { base_score: base, link })
            .with_features_f32(features_f32)
            .with_accumulate_f32(accumulate_f32);
        e.prepare(width, (k > 1).then_some(k)).expect("valid trees");
        proptest::prop_assert_eq!(e.layout.is_ranked(), !plain);
        let x = random_rows(&mut rng, n_rows, width);
        let want: Vec<(usize, Vec<f64>)> = x
            .chunks(width)
            .map(|row| boosted_reference(&e.trees, k, base, link, sem, row))
            .collect();
        check_blocks(&e, &x, width, k, &want, "")?;
        if !plain {
            *e.layout = Layout::new_wide(&e.trees, width, features_f32);
            check_blocks(&e, &x, width, k, &want, "wide")?;
        }
    }

    /// Forests (averaged, voting) that compare values rounded to f32, as scikit-learn's trees
    /// do, give what the oracle gives on the rounded values, ranked and wide.
    #[test]
    fn f32_forests_match_the_plain_walk_on_rounded_values(
        seed in 1u64..,
        width in 1usize..4,
        n_rows in 1usize..20,
    ) {
        let mut rng = Rng(seed);
        let trees: Vec<TreeSpec> = (0..5).map(|_| random_tree(&mut rng, width, 2, 5)).collect();
        let mut e = TreeEnsemble::new(Task::Classification, trees).with_features_f32(true);
        e.prepare(width, Some(2)).expect("valid trees");
        let x = random_rows(&mut rng, n_rows, width);
        let want: Vec<(usize, Vec<f64>)> = x
            .chunks(width)
            .map(|row| {
                let rounded: Vec<f64> = row.iter().map(|&v| v as f32 as f64).collect();
                reference(&e.trees, 2, &rounded)
            })
            .collect();
        for wide in [false, true] {
            if wide {
                *e.layout = Layout::new_wide(&e.trees, width, true);
            }
            check_blocks(&e, &x, width, 2, &want, &format!("wide {wide}"))?;
        }
    }
}

#[test]
fn long_inputs_are_predicted_in_pieces() {
    let mut rng = Rng(7);
    let trees: Vec<TreeSpec> = (0..5).map(|_| random_tree(&mut rng, 3, 2, 6)).collect();
    let mut e = TreeEnsemble::new(Task::Classification, trees);
    e.prepare(3, Some(2)).unwrap();
    let rows = 2 * MAX_ROWS_AT_ONCE + 3;
    let entries: Vec<Entry> = (0..rows * 3)
        .map(|i| ((i % 3) as u32, POOL[rng.below(POOL.len())]))
        .collect();
    let mut classes = vec![usize::MAX; rows];
    let mut proba = vec![f64::NAN; rows * 2];
    e.predict_entries(
        &entries,
        3,
        &mut Vec::new(),
        Outputs {
            classes: Some(&mut classes),
            proba: Some(&mut proba),
            ..Outputs::default()
        },
    );
    for (r, row) in entries.chunks(3).enumerate() {
        let dense: Vec<f64> = row.iter().map(|&(_, x)| x).collect();
        let (class, p) = reference(&e.trees, 2, &dense);
        assert_eq!(classes[r], class, "row {r}");
        assert_eq!(proba[2 * r..2 * r + 2], p[..], "row {r}");
    }
}

#[test]
fn wide_models_use_the_u32_layout() {
    // A feature index past u16.
    let mut wide = stump();
    wide.feature.0[0] = 70_000;
    let mut e = TreeEnsemble::new(Task::Classification, vec![wide]);
    e.prepare(70_001, Some(2)).unwrap();
    assert!(!e.layout.is_narrow());
    let mut x = vec![0.0; 2 * 70_001];
    x[70_000] = 0.7;
    let mut classes = [9; 2];
    e.predict_dense(
        &x,
        70_001,
        Outputs {
            classes: Some(&mut classes),
            ..Outputs::default()
        },
    );
    assert_eq!(classes, [1, 0]);
    // More distinct thresholds on one feature than u16 ranks hold.
    let n = 70_000u32;
    let chain = TreeSpec {
        feature: PackedU32(vec![0; 2 * n as usize + 1]),
        threshold: PackedF64(
            (0..=2 * n)
                .map(|i| if i % 2 == 0 { f64::from(i / 2) } else { 0.0 })
                .collect(),
        ),
        left: PackedU32(
            (0..=2 * n)
                .map(|i| if i % 2 == 0 && i < 2 * n { i + 1 } else { LEAF })
                .collect(),
        ),
        right: PackedU32(
            (0..=2 * n)
                .map(|i| {
                    if i % 2 == 0 && i < 2 * n {
                        i + 2
                    } else {
                        i / 2
                    }
                })
                .collect(),
        ),
        leaf_values: PackedF64((0..=n).map(f64::from).collect()),
        leaf_class: PackedU32(vec![]),
        ..TreeSpec::default()
    };
    let mut e = TreeEnsemble::new(Task::Regression, vec![chain]);
    e.prepare(1, None).unwrap();
    assert!(!e.layout.is_narrow());
    let mut values = [0.0; 3];
    e.predict_dense(
        &[0.5, 69_998.5, 1e9],
        1,
        Outputs {
            values: Some(&mut values),
            ..Outputs::default()
        },
    );
    assert_eq!(values, [1.0, 69_999.0, 70_000.0]);
}

#[test]
fn summed_ensembles_must_fit_their_task() {
    let mut rng = Rng(3);
    let tree = boosted_tree(&mut rng, 2, 0, false);
    let sum = |link| Combination::Sum {
        base_score: 0.5,
        link,
    };
    let refused = |task, k: Option<usize>, trees: usize, c: Combination| {
        TreeEnsemble::new(task, vec![tree.clone(); trees])
            .with_combination(c)
            .prepare(2, k)
            .is_err()
    };
    let nan_base = Combination::Sum {
        base_score: f64::NAN,
        link: Link::Identity,
    };
    for (task, k, trees, combination, refuse) in [
        (Task::Regression, None, 1, sum(Link::Logistic), true),
        (Task::Classification, Some(3), 3, sum(Link::Logistic), true),
        (Task::Classification, Some(3), 4, sum(Link::Softmax), true),
        (Task::Classification, Some(2), 1, sum(Link::Identity), true),
        (Task::Regression, None, 1, nan_base, true),
        (Task::Classification, Some(3), 6, sum(Link::Softmax), false),
    ] {
        assert_eq!(
            refused(task, k, trees, combination),
            refuse,
            "{task:?} k={k:?} {trees} trees"
        );
    }
    // A forest's classifier leaves (distributions, votes) are not margins.
    let mut e = TreeEnsemble::new(Task::Classification, vec![stump()])
        .with_combination(sum(Link::Logistic));
    assert!(e.prepare(1, Some(2)).is_err());
    let mut bad_rule = tree.clone();
    bad_rule.strict = PackedU8(vec![2; tree.left.len()]);
    assert!(refused_with(&bad_rule, "strict[0]"));
    let mut short_rule = tree.clone();
    short_rule.missing_left = PackedU8(vec![1]);
    assert!(tree.left.len() == 1 || refused_with(&short_rule, "missing_left"));
}

/// Whether a regressor of `tree` is refused with an error naming `field`.
fn refused_with(tree: &TreeSpec, field: &str) -> bool {
    TreeEnsemble::new(Task::Regression, vec![tree.clone()])
        .prepare(2, None)
        .is_err_and(|e| e.to_string().contains(field))
}

#[test]
fn only_the_boosting_layout_needs_format_1_4() {
    let forest = TreeEnsemble::new(Task::Classification, vec![stump()]);
    assert_eq!(forest.format_minor(), 1);
    let summed = forest.clone().with_combination(Combination::Sum {
        base_score: 0.0,
        link: Link::Logistic,
    });
    assert_eq!(summed.format_minor(), 4);
    let mut rules = stump();
    rules.strict = PackedU8(vec![1, 0, 0]);
    assert_eq!(
        TreeEnsemble::new(Task::Classification, vec![rules]).format_minor(),
        4
    );
}

#[test]
fn format_1_5_fields_are_validated() {
    let mut rng = Rng(11);
    let tree = boosted_tree(&mut rng, 2, 4, true);
    let n = tree.left.len();
    let refused = |t: &TreeSpec, field: &str| refused_with(t, field);
    let mut bad = tree.clone();
    bad.missing_type = PackedU8(vec![3; n]);
    assert!(refused(&bad, "missing_type[0]"));
    let mut bad = tree.clone();
    bad.categorical = PackedU8(vec![0; n + 1]);
    assert!(refused(&bad, "categorical"));
    let mut bad = tree.clone();
    bad.category_offsets.0.pop();
    assert!(refused(&bad, "category_offsets"));
    let mut bad = tree.clone();
    bad.category_bits.0.push(1);
    assert!(refused(&bad, "category_offsets"));
    // A bitset on a leaf, and offsets that go back.
    let mut leaf_bits = stump();
    leaf_bits.leaf_class = PackedU32(vec![]);
    leaf_bits.leaf_values = PackedF64(vec![1.0, 2.0]);
    leaf_bits.threshold.0[0] = 0.0;
    leaf_bits.categorical = PackedU8(vec![0, 1, 0]);
    leaf_bits.category_offsets = PackedU32(vec![0, 0, 0, 0]);
    assert!(refused(&leaf_bits, "categorical[1]"));
    leaf_bits.categorical = PackedU8(vec![2, 0, 0]);
    leaf_bits.category_offsets = PackedU32(vec![0, 2, 1, 2]);
    leaf_bits.category_bits = PackedU32(vec![1, 1]);
    assert!(refused(&leaf_bits, "category_offsets[1]"));
    // A categorical node compares no threshold and keeps the default missing type.
    leaf_bits.category_offsets = PackedU32(vec![0, 2, 2, 2]);
    assert!(!refused(&leaf_bits, ""));
    leaf_bits.threshold.0[0] = 0.5;
    assert!(refused(&leaf_bits, "categorical[0]"));
    leaf_bits.threshold.0[0] = 0.0;
    leaf_bits.missing_type = PackedU8(vec![1, 0, 0]);
    assert!(refused(&leaf_bits, "categorical[0]"));
    // Too long a bitset.
    leaf_bits.missing_type = PackedU8(vec![]);
    let words = validate::MAX_CATEGORY_WORDS + 1;
    leaf_bits.category_offsets = PackedU32(vec![0, words as u32, words as u32, words as u32]);
    leaf_bits.category_bits = PackedU32(vec![0; words]);
    assert!(refused(&leaf_bits, "category_offsets[0]"));
    // Bitsets without kinds.
    let mut stray = stump();
    stray.leaf_class = PackedU32(vec![]);
    stray.leaf_values = PackedF64(vec![1.0, 2.0]);
    stray.category_bits = PackedU32(vec![1]);
    assert!(refused(&stray, "category_offsets"));
}

#[test]
fn f32_sums_hold_f32_values_only() {
    let mut rng = Rng(5);
    let tree = boosted_tree(&mut rng, 2, 0, true);
    let sum = |base_score| Combination::Sum {
        base_score,
        link: Link::Identity,
    };
    let prepare = |t: &TreeSpec, c: Combination| {
        TreeEnsemble::new(Task::Regression, vec![t.clone()])
            .with_combination(c)
            .with_accumulate_f32(true)
            .prepare(2, None)
    };
    assert!(prepare(&tree, sum(0.5)).is_ok());
    assert!(prepare(&tree, sum(0.1)).is_err_and(|e| e.to_string().contains("base_score")));
    assert!(prepare(&tree, Combination::Average).is_err());
    let mut wide_leaf = tree.clone();
    wide_leaf.leaf_values.0[0] = 0.1;
    assert!(prepare(&wide_leaf, sum(0.5)).is_err_and(|e| e.to_string().contains("leaf_values")));
}

#[test]
fn only_format_1_5_content_needs_format_1_5() {
    let mut rng = Rng(9);
    let plain = boosted_tree(&mut rng, 2, 2, true);
    let summed = TreeEnsemble::new(Task::Regression, vec![plain.clone()]).with_combination(
        Combination::Sum {
            base_score: 0.5,
            link: Link::Identity,
        },
    );
    assert_eq!(summed.format_minor(), 4);
    assert_eq!(summed.clone().with_features_f32(true).format_minor(), 5);
    assert_eq!(summed.clone().with_accumulate_f32(true).format_minor(), 5);
    let categorical = boosted_tree(&mut rng, 2, 4, true);
    assert_eq!(
        TreeEnsemble::new(Task::Regression, vec![categorical]).format_minor(),
        5
    );
    assert_eq!(
        TreeEnsemble::new(Task::Classification, vec![stump()])
            .with_features_f32(true)
            .format_minor(),
        5
    );
}

#[test]
fn xgboost_links_in_f32() {
    // Known values of XGBoost's f32 sigmoid: 0 → 0.5, the clamp keeps large negative margins
    // finite and positive.
    assert_eq!(combine::sigmoid_f32(0.0), 0.5);
    assert!(combine::sigmoid_f32(-200.0) > 0.0);
    assert_eq!(combine::sigmoid_f32(200.0), 1.0);
    let mut m = [1.0_f32, 1.0, 1.0, 1.0];
    combine::softmax_f32(&mut m);
    assert_eq!(m, [0.25; 4]);
}

#[test]
fn lightgbm_missing_types_are_ranked_per_feature() {
    // Feature 0 under `None` (NaN is 0.0), feature 1 under `Zero` (NaN and the zero band go to
    // the missing side, left here): x0 <= 0.5 ? (x1 <= -1 ? 1 : 2) : 3.
    let tree = TreeSpec {
        feature: PackedU32(vec![0, 1, 0, 0, 0]),
        threshold: PackedF64(vec![0.5, -1.0, 0.0, 0.0, 0.0]),
        left: PackedU32(vec![1, 2, LEAF, LEAF, LEAF]),
        right: PackedU32(vec![4, 3, 0, 1, 2]),
        leaf_values: PackedF64(vec![1.0, 2.0, 3.0]),
        missing_left: PackedU8(vec![0, 1, 0, 0, 0]),
        missing_type: PackedU8(vec![MISSING_NONE, MISSING_ZERO, 0, 0, 0]),
        ..TreeSpec::default()
    };
    let mut e =
        TreeEnsemble::new(Task::Regression, vec![tree]).with_combination(Combination::Sum {
            base_score: 0.0,
            link: Link::Identity,
        });
    e.prepare(2, None).expect("valid");
    assert!(e.layout.is_ranked(), "one missing type per feature");
    let rows = [
        [f64::NAN, 5.0],      // NaN is 0.0 <= 0.5; 5 > -1: leaf 2
        [f64::NAN, f64::NAN], // x1 missing: left, leaf 1
        [0.0, 1e-36],         // in the zero band: missing, leaf 1
        [0.0, -2.0],          // -2 <= -1: leaf 1
        [0.0, 2e-35],         // out of the band: 2e-35 > -1, leaf 2
        [0.7, f64::NAN],      // leaf 3
    ];
    let x: Vec<f64> = rows.iter().flatten().copied().collect();
    let mut values = [0.0; 6];
    e.predict_dense(
        &x,
        2,
        Outputs {
            values: Some(&mut values),
            ..Outputs::default()
        },
    );
    assert_eq!(values, [2.0, 1.0, 1.0, 1.0, 2.0, 3.0]);
    // A feature no entry names is 0.0: under `Zero`, missing (leaf 1); one row and two.
    for rows in [1, 2] {
        let entries: Vec<Entry> = vec![(0, 0.0); rows];
        let mut values = vec![0.0; rows];
        e.predict_entries(
            &entries,
            1,
            &mut Vec::new(),
            Outputs {
                values: Some(&mut values),
                ..Outputs::default()
            },
        );
        assert_eq!(values, vec![1.0; rows]);
    }
}

/// Soft voting: the class of highest mean probability, where the majority vote disagrees.
#[test]
fn soft_votes_follow_the_mean_probability() {
    // Leaf 0 leans to class 0 (0.6), leaf 1 is sure of class 1 (0.0 / 1.0).
    let lean = |p: f64| TreeSpec {
        leaf_values: PackedF64(vec![p, 1.0 - p, 0.0, 1.0]),
        ..stump()
    };
    let trees = vec![lean(0.6), lean(0.6), stump_right()];
    let predict = |soft: bool| {
        let mut e = TreeEnsemble::new(Task::Classification, trees.clone()).with_soft_vote(soft);
        e.prepare(1, Some(2)).unwrap();
        let (mut classes, mut proba) = ([9; 2], [0.0; 4]);
        e.predict_dense(
            &[0.0, 0.0],
            1,
            Outputs {
                classes: Some(&mut classes),
                proba: Some(&mut proba),
                ..Outputs::default()
            },
        );
        let mut one = [9];
        e.predict_dense(
            &[0.0],
            1,
            Outputs {
                classes: Some(&mut one),
                ..Outputs::default()
            },
        );
        assert_eq!(one[0], classes[0], "one row as in a batch");
        (classes[0], proba)
    };
    let (hard, proba) = predict(false);
    let (soft, soft_proba) = predict(true);
    // Two trees vote class 0 at 0.6, one votes class 1 at 1.0: mean [0.4, 0.6].
    assert_eq!((hard, soft), (0, 1));
    assert_eq!(proba, soft_proba, "probabilities do not change");
    let e = TreeEnsemble::new(Task::Classification, trees.clone()).with_soft_vote(true);
    assert_eq!(e.format_minor(), 5);
    let values = TreeSpec {
        leaf_values: PackedF64(vec![1.0, 2.0]),
        leaf_class: PackedU32(Vec::new()),
        ..stump()
    };
    let mut regression = TreeEnsemble::new(Task::Regression, vec![values.clone()]);
    assert!(regression.prepare(1, None).is_ok());
    let mut regression = regression.with_soft_vote(true);
    assert!(
        regression
            .prepare(1, None)
            .is_err_and(|e| e.to_string().contains("soft_vote")),
        "only classifiers vote"
    );
}

/// A stump whose both leaves are class 1 with certainty.
fn stump_right() -> TreeSpec {
    TreeSpec {
        leaf_values: PackedF64(vec![0.0, 1.0, 0.0, 1.0]),
        leaf_class: PackedU32(vec![1, 1]),
        ..stump()
    }
}
