//! Seeded train/test splits and k-fold cross-validation indices.
//!
//! The shuffles use ChaCha8 seeded from the user's seed, so a split is the same on every machine
//! and every tabship version that keeps this algorithm.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Row indices of the two sides of a split, each sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Rows to fit on.
    pub train: Vec<usize>,
    /// Rows held out.
    pub test: Vec<usize>,
}

/// A random split of `n` rows with `round(n * test_fraction)` test rows.
pub fn train_test_split(n: usize, test_fraction: f64, seed: u64) -> Split {
    let mut rows: Vec<usize> = (0..n).collect();
    rows.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let n_test = (n as f64 * test_fraction).round() as usize;
    let (test, train) = rows.split_at(n_test.min(n));
    sorted(train, test)
}

/// A split that keeps each class's share: within every class, `floor(count * test_fraction)` rows
/// go to the test side, so a class seen only once is always trained on.
pub fn stratified_split(classes: &[usize], test_fraction: f64, seed: u64) -> Split {
    let n_classes = classes.iter().max().map_or(0, |m| m + 1);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for (row, &c) in classes.iter().enumerate() {
        by_class[c].push(row);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for rows in &mut by_class {
        rows.shuffle(&mut rng);
        let n_test = (rows.len() as f64 * test_fraction).floor() as usize;
        test.extend_from_slice(&rows[..n_test]);
        train.extend_from_slice(&rows[n_test..]);
    }
    sorted(&train, &test)
}

fn sorted(train: &[usize], test: &[usize]) -> Split {
    let mut split = Split {
        train: train.to_vec(),
        test: test.to_vec(),
    };
    split.train.sort_unstable();
    split.test.sort_unstable();
    split
}

/// `k` folds over `n` shuffled rows: fold `i` tests on its rows and trains on the rest.
/// Fold sizes differ by at most one.
pub fn k_fold(n: usize, k: usize, seed: u64) -> Vec<Split> {
    let mut rows: Vec<usize> = (0..n).collect();
    rows.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let k = k.max(1);
    (0..k)
        .map(|i| {
            let start = i * n / k;
            let end = (i + 1) * n / k;
            let test = &rows[start..end];
            let train: Vec<usize> = rows[..start].iter().chain(&rows[end..]).copied().collect();
            sorted(&train, test)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn split_partitions_rows(n in 0usize..500, frac in 0.0f64..0.99, seed in any::<u64>()) {
            let s = train_test_split(n, frac, seed);
            let mut all: Vec<usize> = s.train.iter().chain(&s.test).copied().collect();
            all.sort_unstable();
            prop_assert_eq!(all, (0..n).collect::<Vec<_>>());
            prop_assert_eq!(s.test.len(), (n as f64 * frac).round() as usize);
        }

        #[test]
        fn folds_cover_each_row_once(n in 1usize..300, k in 2usize..10, seed in any::<u64>()) {
            let folds = k_fold(n, k, seed);
            let mut tested: Vec<usize> = folds.iter().flat_map(|f| f.test.clone()).collect();
            tested.sort_unstable();
            prop_assert_eq!(tested, (0..n).collect::<Vec<_>>());
            for f in &folds {
                prop_assert_eq!(f.train.len() + f.test.len(), n);
            }
        }
    }

    #[test]
    fn stratified_keeps_rare_class_in_train() {
        let classes = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let s = stratified_split(&classes, 0.2, 1);
        assert!(s.train.contains(&10));
        assert_eq!(s.test.len(), 2);
        assert_eq!(s, stratified_split(&classes, 0.2, 1));
    }
}
