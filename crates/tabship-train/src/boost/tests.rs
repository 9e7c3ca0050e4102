//! Unit tests of boosting: the objectives against finite differences, base scores, early
//! stopping, class weights, the order of softmax trees, determinism across thread counts, and
//! the exported model predicting the booster's own margins to the bit.

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tabship::{Batch, CategoricalValues, ColumnValues};

use super::loss::{Labels, Objective, sigmoid, softmax};
use super::rounds::{RoundOptions, leaf_of};
use super::*;
use crate::options::{BoostingParams, ModelKind};

/// The per-row loss whose derivatives the gradients are: log loss, cross-entropy, half the
/// squared error.
fn row_loss(objective: Objective, margins: &[f64], label: f64) -> f64 {
    match objective {
        Objective::Logistic => {
            let p = sigmoid(margins[0]);
            -(label * p.ln() + (1.0 - label) * (1.0 - p).ln())
        }
        Objective::Softmax { classes } => {
            let mut p = vec![0.0; classes];
            softmax(margins, &mut p);
            -p[label as usize].ln()
        }
        Objective::SquaredError => 0.5 * (margins[0] - label).powi(2),
    }
}

#[test]
fn gradients_and_hessians_match_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let h = 1e-4;
    for objective in [
        Objective::Logistic,
        Objective::Softmax { classes: 3 },
        Objective::SquaredError,
    ] {
        let k = objective.groups();
        let n = 20;
        let margins: Vec<f64> = (0..n * k).map(|_| rng.random_range(-3.0..3.0)).collect();
        let labels: Vec<f64> = (0..n)
            .map(|_| match objective {
                Objective::SquaredError => rng.random_range(-2.0..2.0),
                _ => rng.random_range(0..k.max(2)) as f64,
            })
            .collect();
        let weights: Vec<f64> = (0..n).map(|_| rng.random_range(0.5..3.0)).collect();
        let (mut grad, mut hess) = (vec![0f32; n * k], vec![0f32; n * k]);
        objective.gradients(
            &margins,
            Labels::Values(&labels),
            Some(&weights),
            &mut grad,
            &mut hess,
        );
        for r in 0..n {
            for c in 0..k {
                let at = |delta: f64| {
                    let mut m = margins[r * k..(r + 1) * k].to_vec();
                    m[c] += delta;
                    weights[r] * row_loss(objective, &m, labels[r])
                };
                let g = (at(h) - at(-h)) / (2.0 * h);
                let second = (at(h) - 2.0 * at(0.0) + at(-h)) / (h * h);
                let (got_g, got_h) = (f64::from(grad[c * n + r]), f64::from(hess[c * n + r]));
                assert!(
                    (got_g - g).abs() < 1e-4 * (1.0 + g.abs()),
                    "{objective:?} row {r} class {c}: gradient {got_g} vs {g}"
                );
                assert!(
                    (got_h - second).abs() < 1e-3 * (1.0 + second.abs()),
                    "{objective:?} row {r} class {c}: hessian {got_h} vs {second}"
                );
            }
        }
    }
}

#[test]
fn base_scores_are_the_weighted_log_odds_the_mean_and_zero() {
    let y = [0usize, 1, 1, 1];
    let logistic = Objective::Logistic.base_score(Labels::Classes(&y), None);
    assert!((logistic - 3f64.ln()).abs() < 1e-12, "{logistic}");
    // Weighting class 0 by 3 makes the weighted positive rate 1/2: log-odds 0.
    let w = [3.0, 1.0, 1.0, 1.0];
    let weighted = Objective::Logistic.base_score(Labels::Classes(&y), Some(&w));
    assert!(weighted.abs() < 1e-12, "{weighted}");
    let values = [1.0, 2.0, 6.0];
    assert_eq!(
        Objective::SquaredError.base_score(Labels::Values(&values), None),
        3.0
    );
    assert_eq!(
        Objective::Softmax { classes: 3 }.base_score(Labels::Classes(&[0, 1, 2, 2]), None),
        0.0
    );
}

/// `n` rows of `features` uniform numbers; the class depends on the first two (with noise
/// `flip` of the labels flipped).
fn classification_data(
    n: usize,
    features: usize,
    classes: usize,
    flip: f64,
    seed: u64,
) -> (Array2<f64>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = Array2::from_shape_fn((n, features), |_| rng.random_range(0.0..1.0));
    let y = (0..n)
        .map(|r| {
            let score = x[[r, 0]] + 0.5 * x[[r, 1]];
            let class = ((score / 1.5) * classes as f64).floor() as usize;
            if rng.random_bool(flip) {
                rng.random_range(0..classes)
            } else {
                class.min(classes - 1)
            }
        })
        .collect();
    (x, y)
}

fn options(rounds: usize) -> TrainOptions {
    let mut o = TrainOptions::new("y");
    o.model = Some(ModelKind::GradientBoosting);
    o.trees.n_trees = rounds;
    o.trees.threads = 1;
    o.boosting = BoostingParams {
        max_leaves: 8,
        min_samples_leaf: 5,
        ..BoostingParams::default()
    };
    o
}

#[test]
fn early_stopping_keeps_the_best_round() {
    // Mostly noise, a big learning rate and small leaves: the validation loss soon rises.
    let (x, y) = classification_data(600, 4, 2, 0.45, 7);
    let mut o = options(60);
    o.boosting.learning_rate = 0.5;
    o.boosting.min_samples_leaf = 2;
    o.boosting.early_stopping_rounds = Some(5);
    let stopped = fit_classifier(&x, &y, 2, None, &o).unwrap();
    let s = &stopped.summary;
    assert!(s.rounds_kept < s.rounds_fitted, "{s:?}");
    assert_eq!(s.rounds_fitted, s.rounds_kept + 5, "{s:?}");
    assert_eq!(stopped.ensemble.trees.len(), s.rounds_kept);
    // The same rows fitted without stopping: the kept round is the first with the lowest
    // validation loss among the rounds fitted.
    let split = validation_split(&o, y.len(), Some(&y)).unwrap().unwrap();
    let mut test = split.test.clone();
    test.sort_unstable();
    let mut all = o.clone();
    all.boosting.early_stopping_rounds = None;
    let mut train = split.train.clone();
    train.sort_unstable();
    let fit_x = x.select(ndarray::Axis(0), &train);
    let fit_y: Vec<usize> = train.iter().map(|&r| y[r]).collect();
    let full = fit_classifier(&fit_x, &fit_y, 2, None, &all).unwrap();
    let held_y: Vec<usize> = test.iter().map(|&r| y[r]).collect();
    let mut margins = vec![full.rounds.base_score; test.len()];
    let mut losses = Vec::new();
    for tree in full.ensemble.trees.iter().take(s.rounds_fitted) {
        for (m, &r) in margins.iter_mut().zip(&test) {
            *m += tree.leaf_values.0[leaf_of(tree, x.row(r))];
        }
        losses.push(Objective::Logistic.loss(&margins, Labels::Classes(&held_y), None));
    }
    let best = losses
        .iter()
        .enumerate()
        .fold(0, |b, (i, &l)| if l < losses[b] { i } else { b });
    assert_eq!(s.rounds_kept, best + 1, "{losses:?}");
    assert_eq!(s.validation_loss, Some(losses[best]));
    assert_eq!(
        stopped.ensemble.trees[..],
        full.ensemble.trees[..s.rounds_kept]
    );
}

#[test]
fn class_weights_change_the_fit() {
    let (x, y) = classification_data(400, 3, 2, 0.3, 3);
    let o = options(10);
    let plain = fit_classifier(&x, &y, 2, None, &o).unwrap();
    let weighted = fit_classifier(&x, &y, 2, Some(&[1.0, 5.0]), &o).unwrap();
    let mean = |b: &Boosted| b.rounds.margins.iter().sum::<f64>() / b.rounds.margins.len() as f64;
    assert!(
        mean(&weighted) > mean(&plain) + 0.5,
        "weighting class 1 raises its margins: {} vs {}",
        mean(&weighted),
        mean(&plain)
    );
    assert_ne!(plain.ensemble.trees, weighted.ensemble.trees);
}

#[test]
fn softmax_tree_t_fits_class_t_mod_k() {
    let (x, y) = classification_data(300, 2, 3, 0.0, 5);
    let o = options(4);
    let boosted = fit_classifier(&x, &y, 3, None, &o).unwrap();
    assert_eq!(boosted.ensemble.trees.len(), 4 * 3);
    // Every tree raises the margin of its own class most on that class's rows.
    for (t, tree) in boosted.ensemble.trees.iter().enumerate() {
        let class = t % 3;
        let mean_on = |want: bool| {
            let rows: Vec<usize> = (0..y.len()).filter(|&r| (y[r] == class) == want).collect();
            rows.iter()
                .map(|&r| tree.leaf_values.0[leaf_of(tree, x.row(r))])
                .sum::<f64>()
                / rows.len() as f64
        };
        assert!(
            mean_on(true) > mean_on(false),
            "tree {t} (class {class}): {} vs {}",
            mean_on(true),
            mean_on(false)
        );
    }
}

#[test]
fn threads_do_not_change_the_trees() {
    let (x, y) = classification_data(500, 6, 3, 0.1, 11);
    let mut one = options(5);
    one.trees.threads = 1;
    let mut two = one.clone();
    two.trees.threads = 2;
    let a = fit_classifier(&x, &y, 3, None, &one).unwrap();
    let b = fit_classifier(&x, &y, 3, None, &two).unwrap();
    assert_eq!(a.ensemble.trees, b.ensemble.trees);
    assert_eq!(a.rounds.margins, b.rounds.margins);
}

#[test]
fn training_margins_are_the_walked_margins() {
    let (mut x, y) = classification_data(300, 3, 2, 0.2, 13);
    for r in (0..300).step_by(7) {
        x[[r, 1]] = f64::NAN;
    }
    let boosted = fit_classifier(&x, &y, 2, None, &options(8)).unwrap();
    for r in 0..x.nrows() {
        let mut m = boosted.rounds.base_score;
        for tree in &boosted.ensemble.trees {
            m += tree.leaf_values.0[leaf_of(tree, x.row(r))];
        }
        assert_eq!(m.to_bits(), boosted.rounds.margins[r].to_bits(), "row {r}");
    }
}

/// A batch of a numeric column with missing values, a categorical column and a 3-class target.
fn batch(n: usize) -> Batch {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let a: Vec<f64> = (0..n)
        .map(|_| {
            if rng.random_bool(0.1) {
                f64::NAN
            } else {
                rng.random_range(0.0..10.0)
            }
        })
        .collect();
    let colours = ["red", "green", "blue"];
    let c: Vec<Option<&str>> = (0..n)
        .map(|_| Some(colours[rng.random_range(0..3)]))
        .collect();
    let y: Vec<Option<String>> = (0..n)
        .map(|r| {
            let v = if a[r].is_nan() { 5.0 } else { a[r] }
                + if c[r] == Some("red") { 3.0 } else { 0.0 };
            Some(format!("k{}", ((v / 13.0) * 3.0).floor().min(2.0)))
        })
        .collect();
    Batch::new(vec![
        ("a".into(), ColumnValues::Numeric(a)),
        (
            "c".into(),
            ColumnValues::Categorical(CategoricalValues::from_options(c)),
        ),
        (
            "y".into(),
            ColumnValues::Categorical(CategoricalValues::from_options(
                y.iter().map(|s| s.as_deref()),
            )),
        ),
    ])
    .unwrap()
}

#[test]
fn the_saved_model_predicts_the_boosters_probabilities_to_the_bit() {
    let data = batch(400);
    for classes in [3usize, 2] {
        let data = if classes == 2 {
            // Two classes: k0 against the rest.
            let ColumnValues::Categorical(y) = data.column("y").unwrap() else {
                unreachable!()
            };
            let y2: Vec<Option<&str>> = (0..y.len())
                .map(|r| {
                    Some(if y.get(r) == Some("k0") {
                        "k0"
                    } else {
                        "other"
                    })
                })
                .collect();
            let mut columns: Vec<(String, ColumnValues)> = ["a", "c"]
                .iter()
                .map(|n| (n.to_string(), data.column(n).unwrap().clone()))
                .collect();
            columns.push((
                "y".into(),
                ColumnValues::Categorical(CategoricalValues::from_options(y2)),
            ));
            Batch::new(columns).unwrap()
        } else {
            data.clone()
        };
        let mut o = options(6);
        o.test_fraction = 0.0;
        let trained = crate::train(&data, &o).unwrap();
        let pipeline = &trained.pipeline;
        // The rows in the order the trainer fitted them (its split shuffles them).
        let order = &trained.report.split.train;
        let features = Batch::new(
            ["a", "c"]
                .iter()
                .map(|n| (n.to_string(), data.column(n).unwrap().clone()))
                .collect(),
        )
        .unwrap()
        .take(order);
        let x = pipeline.encoder().encode_dense(&features).unwrap();
        assert!(
            x.iter().any(|v| v.is_nan()),
            "missing numbers reach the trees as NaN"
        );
        let crate::target::Target::Classes { y, .. } =
            crate::target::prepare("y", data.column("y").unwrap(), None)
                .unwrap()
                .target
        else {
            unreachable!()
        };
        let y: Vec<usize> = order.iter().map(|&r| y[r]).collect();
        let boosted = fit_classifier(&x, &y, classes, None, &o).unwrap();
        let proba = pipeline.predict_proba_batch(&features).unwrap();
        let k = boosted.ensemble.trees.len() / 6;
        for r in 0..x.nrows() {
            let expected: Vec<f64> = if classes == 2 {
                let p = sigmoid(boosted.rounds.margins[r]);
                vec![1.0 - p, p]
            } else {
                let mut p = vec![0.0; k];
                softmax(&boosted.rounds.margins[r * k..(r + 1) * k], &mut p);
                p
            };
            let got: Vec<u64> = proba.row(r).iter().map(|p| p.to_bits()).collect();
            let want: Vec<u64> = expected.iter().map(|p| p.to_bits()).collect();
            assert_eq!(got, want, "{classes} classes, row {r}");
        }
    }
}

#[test]
fn round_options_follow_the_training_options() {
    let mut o = options(7);
    o.trees.max_depth = Some(3);
    o.boosting.l2 = 2.0;
    let r: RoundOptions = round_options(&o);
    assert_eq!(r.rounds, 7);
    assert_eq!(r.grow.max_depth, Some(3));
    assert_eq!(r.grow.max_leaves, Some(8));
    assert_eq!(r.grow.l2, 2.0);
    assert_eq!(r.grow.min_samples_leaf, 5);
}
