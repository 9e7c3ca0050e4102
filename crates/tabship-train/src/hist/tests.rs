//! The learner against plain references: binning, split finding (brute force over thresholds
//! and missing sides), histogram subtraction, trees walked by the core, determinism.

use ndarray::Array2;
use proptest::prelude::*;
use tabship::encode::ImputeStrategy;
use tabship::model::TreeEnsemble;
use tabship::{
    Batch, ColumnKind, ColumnSpec, ColumnValues, Model, Pipeline, PipelineParts, Predictions,
    Schema, Task, TrainingInfo,
};

use super::histogram::{Histogram, Layout, Targets};
use super::split::Constraints;
use super::*;
use crate::encoders::fit_numeric;
use crate::options::EncoderOptions;

/// A small matrix whose values come from a few levels (ties) with some missing.
fn matrix(rows: usize, features: usize) -> impl Strategy<Value = Array2<f64>> {
    prop::collection::vec(
        prop_oneof![1 => Just(f64::NAN), 6 => (0..6u8).prop_map(f64::from), 2 => -50.0..50.0f64],
        rows * features,
    )
    .prop_map(move |v| Array2::from_shape_vec((rows, features), v).expect("shape"))
}

fn data() -> impl Strategy<Value = (Array2<f64>, Vec<f32>, Vec<f32>)> {
    (2usize..40, 1usize..4).prop_flat_map(|(rows, features)| {
        (
            matrix(rows, features),
            prop::collection::vec(-2.0f32..2.0, rows),
            prop::collection::vec(0.01f32..1.0, rows),
        )
    })
}

fn sums(rows: &[usize], grad: &[f32], hess: &[f32]) -> [f64; 3] {
    let mut s = [0.0; 3];
    for &r in rows {
        s[0] += f64::from(grad[r]);
        s[1] += f64::from(hess[r]);
        s[2] += 1.0;
    }
    s
}

/// The best gain over every feature, threshold (between distinct values, plus "every value
/// left") and missing side, computed from the rows directly.
fn brute_force_gain(x: &Array2<f64>, grad: &[f32], hess: &[f32], c: &Constraints) -> Option<f64> {
    let n = x.nrows();
    let all: Vec<usize> = (0..n).collect();
    let total = sums(&all, grad, hess);
    let mut best: Option<f64> = None;
    for f in 0..x.ncols() {
        let col = x.column(f);
        let mut values: Vec<f64> = col.iter().copied().filter(|v| !v.is_nan()).collect();
        values.sort_by(f64::total_cmp);
        values.dedup();
        let has_missing = col.iter().any(|v| v.is_nan());
        for &t in &values {
            for missing_left in [false, true] {
                if missing_left && !has_missing {
                    continue;
                }
                let left: Vec<usize> = (0..n)
                    .filter(|&r| {
                        let v = col[r];
                        if v.is_nan() { missing_left } else { v <= t }
                    })
                    .collect();
                let l = sums(&left, grad, hess);
                let r = [total[0] - l[0], total[1] - l[1], total[2] - l[2]];
                if l[2] < c.min_samples_leaf
                    || r[2] < c.min_samples_leaf
                    || l[1] < c.min_child_weight
                    || r[1] < c.min_child_weight
                {
                    continue;
                }
                let gain = c.score(&l) + c.score(&r) - c.score(&total);
                best = Some(best.map_or(gain, |b: f64| b.max(gain)));
            }
        }
    }
    best
}

/// The leaf every row reaches, by the core's own prediction: a one-tree regressor whose leaf
/// values are the leaf indices, on raw numeric columns (NaN passed through).
fn leaves_by_core(x: &Array2<f64>, spec: &tabship::model::TreeSpec) -> Vec<u32> {
    let mut spec = spec.clone();
    let n_leaves = spec
        .left
        .0
        .iter()
        .filter(|&&l| l == tabship::model::LEAF)
        .count();
    spec.leaf_values.0 = (0..n_leaves).map(|i| i as f64).collect();
    let options = EncoderOptions {
        numeric_impute: Some(ImputeStrategy::Nan),
        ..EncoderOptions::default()
    };
    let names: Vec<String> = (0..x.ncols()).map(|f| format!("x{f}")).collect();
    let columns: Vec<(String, ColumnValues)> = names
        .iter()
        .enumerate()
        .map(|(f, n)| (n.clone(), ColumnValues::Numeric(x.column(f).to_vec())))
        .collect();
    let schema = Schema::new(
        names
            .iter()
            .map(|n| ColumnSpec {
                name: n.clone(),
                kind: ColumnKind::Numeric,
                nullable: true,
            })
            .collect(),
    )
    .expect("schema");
    let parts = PipelineParts {
        schema,
        encoders: (0..x.ncols())
            .map(|f| fit_numeric(&x.column(f).to_vec(), &options, false))
            .collect(),
        task: Task::Regression,
        classes: Vec::new(),
        model: Model::TreeEnsemble(TreeEnsemble::new(Task::Regression, vec![spec])),
        training: TrainingInfo::default(),
        metrics: Default::default(),
        drift_profile: None,
        decision_threshold: None,
        target_transform: None,
    };
    let pipeline = Pipeline::from_parts(parts).expect("a valid pipeline");
    let batch = Batch::new(columns).expect("batch");
    match pipeline.predict_batch(&batch).expect("predicts") {
        Predictions::Values(v) => v.into_iter().map(|l| l as u32).collect(),
        Predictions::Classes(_) => unreachable!("a regressor"),
    }
}

fn options(seed: u64) -> GrowOptions {
    GrowOptions {
        max_depth: None,
        max_leaves: None,
        min_samples_leaf: 1,
        min_child_weight: 0.0,
        l2: 0.0,
        min_split_gain: 0.0,
        features_per_split: None,
        random_thresholds: false,
        seed,
        threads: 1,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_value_lands_in_the_bin_whose_interval_holds_it(
        x in (1usize..300).prop_flat_map(|n| matrix(n, 1)),
        max_bins in 2usize..20,
    ) {
        let m = BinnedMatrix::new(&x.view(), max_bins, 1).unwrap();
        let vb = m.value_bins(0);
        prop_assert!(vb < max_bins);
        for (&v, &code) in x.column(0).iter().zip(m.column(0)) {
            let code = usize::from(code);
            if v.is_nan() {
                prop_assert_eq!(code, vb);
                continue;
            }
            prop_assert!(code < vb);
            prop_assert!(code == 0 || v > m.threshold(0, code - 1));
            prop_assert!(code == vb - 1 || v <= m.threshold(0, code));
        }
        let mut distinct: Vec<f64> = x.column(0).iter().copied().filter(|v| !v.is_nan()).collect();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        if distinct.len() < max_bins {
            prop_assert_eq!(vb, distinct.len().max(1));
        }
    }

    #[test]
    fn the_chosen_split_gains_the_brute_force_best(
        (x, grad, hess) in data(),
        min_samples_leaf in 1usize..4,
        min_child_weight in prop_oneof![Just(0.0), 0.0..1.0f64],
        l2 in prop_oneof![Just(0.0), 0.0..2.0f64],
    ) {
        let m = BinnedMatrix::new(&x.view(), 255, 1).unwrap();
        let targets = Targets::Gradients { grad: &grad, hess: &hess };
        let layout = Layout::new(&m, targets.stride());
        let rows: Vec<u32> = (0..x.nrows() as u32).collect();
        let totals = targets.totals(&rows);
        let hist = Histogram::build(&m, &targets, &layout, &rows, &totals, 1);
        let c = Constraints { channels: 1, min_samples_leaf: min_samples_leaf as f64, min_child_weight, l2 };
        let found = (0..m.n_features())
            .filter_map(|f| c.best_in_feature(&hist.data[layout.range(f)], m.value_bins(f), &totals, None))
            .map(|s| s.gain)
            .fold(None, |b: Option<f64>, g| Some(b.map_or(g, |b| b.max(g))));
        let expected = brute_force_gain(&x, &grad, &hess, &c);
        match (found, expected) {
            (Some(a), Some(b)) => prop_assert!((a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-12), "{a} vs {b}"),
            (a, b) => prop_assert_eq!(a.is_some(), b.is_some(), "{:?} vs {:?}", a, b),
        }
    }

    #[test]
    fn a_grown_tree_sends_every_row_where_the_core_does(
        (x, grad, hess) in data(),
        max_depth in prop::option::of(1u16..5),
        max_leaves in prop::option::of(2usize..8),
        features_per_split in prop::option::of(1usize..3),
        random_thresholds: bool,
        bootstrap: bool,
        seed: u64,
    ) {
        let m = BinnedMatrix::new(&x.view(), 255, 1).unwrap();
        let n = x.nrows() as u32;
        let rows: Vec<u32> = if bootstrap { (0..n).map(|r| (r * 7 + 3) % n).collect() } else { (0..n).collect() };
        let o = GrowOptions { max_depth, max_leaves, features_per_split, random_thresholds, ..options(seed) };
        let tree = grow(&m, &grad, &hess, &rows, &o);
        let by_core = leaves_by_core(&x, &tree.spec);
        for (entry, &r) in rows.iter().enumerate() {
            prop_assert_eq!(tree.row_leaf[entry], by_core[r as usize]);
        }
        let n_leaves = tree.leaves.len();
        prop_assert!(max_leaves.is_none_or(|l| n_leaves <= l));
        prop_assert_eq!(tree.leaves.iter().map(|l| l.count).sum::<usize>(), rows.len());
        for (leaf, sums) in tree.leaves.iter().enumerate() {
            let mine: Vec<usize> = rows.iter().zip(&tree.row_leaf).filter(|(_, l)| **l as usize == leaf).map(|(&r, _)| r as usize).collect();
            let direct = super::tests::sums(&mine, &grad, &hess);
            prop_assert_eq!(sums.count, mine.len());
            prop_assert!((sums.grad - direct[0]).abs() <= 1e-9 * direct[0].abs().max(1.0));
            prop_assert_eq!(tree.spec.leaf_values.0[leaf], -sums.grad / sums.hess);
        }
    }

    #[test]
    fn subtraction_equals_building_directly(
        (x, grad, hess) in data(),
        mask in prop::collection::vec(any::<bool>(), 40),
    ) {
        let m = BinnedMatrix::new(&x.view(), 255, 1).unwrap();
        let targets = Targets::Gradients { grad: &grad, hess: &hess };
        let layout = Layout::new(&m, targets.stride());
        let rows: Vec<u32> = (0..x.nrows() as u32).collect();
        let (a, b): (Vec<u32>, Vec<u32>) = rows.iter().partition(|&&r| mask[r as usize]);
        let build = |rows: &[u32]| Histogram::build(&m, &targets, &layout, rows, &targets.totals(rows), 1);
        let parent = build(&rows);
        let mut derived = build(&a);
        derived.subtract_from(&parent);
        let direct = build(&b);
        for (i, (d, e)) in derived.data.iter().zip(&direct.data).enumerate() {
            if i % 3 == 2 {
                prop_assert_eq!(d, e);
            } else {
                prop_assert!((d - e).abs() <= 1e-9 * e.abs().max(1.0), "{d} vs {e}");
            }
        }
    }
}

/// A larger data set, past the size where histograms are built on several threads.
fn larger() -> (Array2<f64>, Vec<f32>, Vec<f32>) {
    let (n, p) = (30_000, 8);
    let mut state = 12345u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as f64 / (1u64 << 31) as f64
    };
    let x = Array2::from_shape_fn((n, p), |(_, f)| {
        let v = next();
        if f == 3 && v < 0.1 {
            f64::NAN
        } else if f < 2 {
            (v * 3.0).floor()
        } else {
            v * 100.0
        }
    });
    let grad: Vec<f32> = (0..n)
        .map(|r| (x[[r, 2]].sin() + x[[r, 0]] - 1.0 + next() * 0.5) as f32)
        .collect();
    let hess = vec![1.0f32; n];
    (x, grad, hess)
}

#[test]
fn threads_do_not_change_the_tree() {
    let (x, grad, hess) = larger();
    let rows: Vec<u32> = (0..x.nrows() as u32).collect();
    for (max_depth, max_leaves, fps) in [
        (None, Some(31), None),
        (Some(6), None, Some(2)),
        (Some(8), None, None),
    ] {
        let mut trees = Vec::new();
        for threads in [1, 2] {
            let m = BinnedMatrix::new(&x.view(), 255, threads).unwrap();
            let o = GrowOptions {
                max_depth,
                max_leaves,
                features_per_split: fps,
                threads,
                min_samples_leaf: 20,
                ..options(7)
            };
            let t = grow(&m, &grad, &hess, &rows, &o);
            trees.push((t.spec, t.leaves, t.row_leaf));
        }
        assert!(
            trees[0].0.left.len() > 20,
            "a real tree: {} nodes",
            trees[0].0.left.len()
        );
        assert_eq!(trees[0], trees[1]);
    }
}

#[test]
fn missing_values_take_the_learned_side() {
    // Missing rows have the gradient of the low values: they must join them.
    let x = Array2::from_shape_vec((6, 1), vec![1.0, 2.0, f64::NAN, 8.0, 9.0, f64::NAN]).unwrap();
    let grad = [-1.0f32, -1.0, -1.0, 1.0, 1.0, -1.0];
    let hess = [1.0f32; 6];
    let m = BinnedMatrix::new(&x.view(), 255, 1).unwrap();
    let rows: Vec<u32> = (0..6).collect();
    let t = grow(
        &m,
        &grad,
        &hess,
        &rows,
        &GrowOptions {
            max_depth: Some(1),
            ..options(1)
        },
    );
    assert_eq!(t.spec.threshold.0[0], 5.0);
    assert_eq!(t.spec.missing_left.0, vec![1, 0, 0]);
    assert_eq!(t.row_leaf, vec![0, 0, 0, 1, 1, 0]);
}

/// Rows of a table with two categoricals one-hot encoded (exclusive runs, the second with a
/// level no row takes), a numeric column between them, and a 0/1 column that shares rows with
/// the first run: `(matrix, gradients, hessians)`.
fn one_hot(rows: usize, seed: u64) -> (Array2<f64>, Vec<f32>, Vec<f32>) {
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as f64 / (1u64 << 31) as f64
    };
    let (k1, k2) = (5, 4);
    let mut x = Array2::zeros((rows, k1 + 1 + k2 + 1));
    let mut grad = Vec::with_capacity(rows);
    for r in 0..rows {
        let a = (next() * k1 as f64) as usize;
        let b = (next() * (k2 - 1) as f64) as usize;
        let v = (next() * 20.0).floor();
        x[[r, a]] = 1.0;
        x[[r, k1]] = if next() < 0.05 { f64::NAN } else { v };
        x[[r, k1 + 1 + b]] = 1.0;
        x[[r, k1 + 1 + k2]] = f64::from(u8::from(a == 0 || next() < 0.3));
        grad.push((a as f64 - 2.0 + 0.1 * v + if b == 1 { 1.5 } else { 0.0 } + next()) as f32);
    }
    let hess = (0..rows).map(|r| 0.5 + (r % 3) as f32 * 0.25).collect();
    (x, grad, hess)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn bundled_and_unbundled_matrices_grow_identical_trees(
        rows in 2usize..120,
        data_seed: u64,
        max_depth in prop::option::of(1u16..6),
        max_leaves in prop::option::of(2usize..10),
        features_per_split in prop::option::of(1usize..8),
        random_thresholds: bool,
        seed: u64,
    ) {
        let (x, grad, hess) = one_hot(rows, data_seed);
        let bundled = BinnedMatrix::new(&x.view(), 255, 1).unwrap();
        let plain = bundled.clone().without_bundles();
        let all: Vec<u32> = (0..rows as u32).collect();
        let targets = Targets::Gradients { grad: &grad, hess: &hess };
        let layout = Layout::new(&bundled, targets.stride());
        let totals = targets.totals(&all);
        prop_assert_eq!(
            Histogram::build(&bundled, &targets, &layout, &all, &totals, 1),
            Histogram::build(&plain, &targets, &layout, &all, &totals, 1)
        );
        let o = GrowOptions { max_depth, max_leaves, features_per_split, random_thresholds, ..options(seed) };
        let a = grow(&bundled, &grad, &hess, &all, &o);
        let b = grow(&plain, &grad, &hess, &all, &o);
        prop_assert_eq!((a.spec, a.leaves, a.row_leaf), (b.spec, b.leaves, b.row_leaf));
    }
}

#[test]
fn bundles_change_no_tree_on_several_threads() {
    let (x, grad, hess) = one_hot(20_000, 99);
    let rows: Vec<u32> = (0..x.nrows() as u32).collect();
    let mut trees = Vec::new();
    for threads in [1, 2, 3] {
        let bundled = BinnedMatrix::new(&x.view(), 255, threads).unwrap();
        assert_eq!(bundled.units().len(), 5, "{:?}", bundled.units());
        for m in [bundled.clone(), bundled.without_bundles()] {
            let o = GrowOptions {
                max_leaves: Some(31),
                threads,
                min_samples_leaf: 20,
                ..options(3)
            };
            let t = grow(&m, &grad, &hess, &rows, &o);
            trees.push((t.spec, t.leaves, t.row_leaf));
        }
    }
    assert!(trees[0].0.left.len() > 20, "a real tree");
    for t in &trees[1..] {
        assert_eq!(&trees[0], t);
    }
}
