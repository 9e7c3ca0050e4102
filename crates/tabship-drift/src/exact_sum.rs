//! An exact, mergeable sum of `f64` values: the live samples' moment sums.
//!
//! A plain `f64` sum depends on the order of its terms, so a sample merged from shards (Dask
//! partitions, Ray blocks, threads, replicas) would differ from the same rows observed in one
//! pass in the last bits of its mean shift, std ratio and out-of-range mass. [`ExactSum`] keeps
//! the sum exactly, as Shewchuk's non-overlapping partials ("Adaptive Precision Floating-Point
//! Arithmetic and Fast Robust Geometric Predicates", 1997), and [`ExactSum::value`] rounds it
//! once, correctly (CPython's `math.fsum`, including its half-way step across partials). The
//! correctly rounded value of an exact sum does not depend on the order of the terms or on how
//! shards were merged, so a merged sample reports what one pass reports, bit for bit.
//!
//! Non-finite terms (and a sum of finite terms whose partials overflow) are kept apart in
//! `special`, added plainly: `inf + -inf` and NaN give NaN, in any order.

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The exact sum of the `f64` values added so far; see the module documentation.
#[derive(Debug, Clone, Default)]
pub struct ExactSum {
    /// Non-overlapping partials, increasing in magnitude; their exact sum is the sum.
    partials: Vec<f64>,
    /// The sum of the non-finite terms (0 when there were none).
    special: f64,
}

impl ExactSum {
    /// Adds `x` exactly.
    #[inline]
    pub fn add(&mut self, x: f64) {
        if !x.is_finite() {
            self.special += x;
            return;
        }
        let mut x = x;
        let mut kept = 0;
        for i in 0..self.partials.len() {
            let mut y = self.partials[i];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            if !hi.is_finite() {
                // The partials overflow: the sum is ±inf whatever else is added.
                self.special += hi;
                self.partials.truncate(kept);
                return;
            }
            let lo = y - (hi - x);
            if lo != 0.0 {
                self.partials[kept] = lo;
                kept += 1;
            }
            x = hi;
        }
        self.partials.truncate(kept);
        if x != 0.0 {
            self.partials.push(x);
        }
    }

    /// Adds every term of `other` (exactly: the result is the sum of both term lists).
    pub fn merge(&mut self, other: &ExactSum) {
        for &p in &other.partials {
            self.add(p);
        }
        self.special += other.special;
    }

    /// The sum, correctly rounded to the nearest `f64` (ties to even), or the non-finite
    /// terms' sum when there were any.
    pub fn value(&self) -> f64 {
        if self.special != 0.0 || self.special.is_nan() {
            return self.special;
        }
        let p = &self.partials;
        let mut n = p.len();
        if n == 0 {
            return 0.0;
        }
        n -= 1;
        let mut hi = p[n];
        let mut lo = 0.0;
        // Add the partials from the largest down until the addition becomes inexact.
        while n > 0 {
            let x = hi;
            n -= 1;
            let y = p[n];
            hi = x + y;
            lo = y - (hi - x);
            if lo != 0.0 {
                break;
            }
        }
        // Half-way cases: when the dropped remainder and the next partial share a sign, the
        // exact sum lies beyond the half-way point, so round away from `hi`.
        if n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0)) {
            let y = lo * 2.0;
            let x = hi + y;
            if y == x - hi {
                hi = x;
            }
        }
        hi
    }
}

impl From<f64> for ExactSum {
    fn from(x: f64) -> Self {
        let mut s = ExactSum::default();
        s.add(x);
        s
    }
}

/// Equal when the correctly rounded sums are the same number (bit for bit, so NaN equals NaN):
/// two shards' sums may hold different partials for the same total.
impl PartialEq for ExactSum {
    fn eq(&self, other: &Self) -> bool {
        self.value().to_bits() == other.value().to_bits()
    }
}

/// Stored as the list of its terms (the partials, then the non-finite sum if any): adding them
/// back gives the same exact sum. A plain number (a state written before sums were exact) is
/// read as a one-term sum.
impl Serialize for ExactSum {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let special = (self.special != 0.0 || self.special.is_nan()).then_some(self.special);
        serializer.collect_seq(self.partials.iter().chain(special.iter()))
    }
}

impl<'de> Deserialize<'de> for ExactSum {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Terms;
        impl<'de> Visitor<'de> for Terms {
            type Value = ExactSum;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a list of numbers (the terms of a sum)")
            }
            fn visit_f64<E: de::Error>(self, x: f64) -> Result<ExactSum, E> {
                Ok(ExactSum::from(x))
            }
            fn visit_f32<E: de::Error>(self, x: f32) -> Result<ExactSum, E> {
                Ok(ExactSum::from(f64::from(x)))
            }
            fn visit_i64<E: de::Error>(self, x: i64) -> Result<ExactSum, E> {
                Ok(ExactSum::from(x as f64))
            }
            fn visit_u64<E: de::Error>(self, x: u64) -> Result<ExactSum, E> {
                Ok(ExactSum::from(x as f64))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ExactSum, A::Error> {
                let mut s = ExactSum::default();
                while let Some(x) = seq.next_element::<f64>()? {
                    s.add(x);
                }
                Ok(s)
            }
        }
        deserializer.deserialize_any(Terms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sum_of(xs: &[f64]) -> f64 {
        let mut s = ExactSum::default();
        xs.iter().for_each(|&x| s.add(x));
        s.value()
    }

    #[test]
    fn cancellation_and_half_way_cases_are_exact() {
        assert_eq!(sum_of(&[1e100, 1.0, -1e100]), 1.0);
        assert_eq!(sum_of(&[0.1; 10]), 1.0);
        // CPython's test_math cases for the half-way step.
        assert_eq!(sum_of(&[1e-16, 1.0, 1e16]), 1.0000000000000002e16);
        assert_eq!(
            sum_of(&[1.0, 1e-100, -1e-100, 2f64.powi(-53), 2f64.powi(-106)]),
            1.0 + f64::EPSILON
        );
        assert_eq!(sum_of(&[]), 0.0);
    }

    #[test]
    fn non_finite_terms_are_kept_apart() {
        assert_eq!(sum_of(&[1.0, f64::INFINITY, 2.0]), f64::INFINITY);
        assert!(sum_of(&[f64::INFINITY, f64::NEG_INFINITY]).is_nan());
        assert_eq!(sum_of(&[f64::MAX, f64::MAX]), f64::INFINITY);
    }

    #[test]
    fn a_plain_number_reads_as_a_one_term_sum() {
        let bytes = rmp_serde::to_vec(&2.5f64).unwrap();
        let s: ExactSum = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(s.value(), 2.5);
    }

    proptest! {
        /// Any order and any split into merged shards gives the same bits, and the value is
        /// the exact sum rounded (checked against a sum in i128 fixed point, exact for these).
        #[test]
        fn order_and_sharding_do_not_change_the_sum(
            xs in proptest::collection::vec(-1_000_000i64..1_000_000, 0..60),
            scale in -40i32..40,
            split in 0usize..60,
            seed in any::<u64>(),
        ) {
            let unit = 2f64.powi(scale);
            let values: Vec<f64> = xs.iter().map(|&x| x as f64 * unit).collect();
            let exact: i128 = xs.iter().map(|&x| i128::from(x)).sum();
            let want = exact as f64 * unit;
            let mut shuffled = values.clone();
            let mut state = seed | 1;
            for i in (1..shuffled.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                shuffled.swap(i, (state % (i as u64 + 1)) as usize);
            }
            let cut = split.min(shuffled.len());
            let mut a = ExactSum::default();
            shuffled[..cut].iter().for_each(|&x| a.add(x));
            let mut b = ExactSum::default();
            shuffled[cut..].iter().for_each(|&x| b.add(x));
            b.merge(&a);
            prop_assert_eq!(sum_of(&values).to_bits(), want.to_bits());
            prop_assert_eq!(b.value().to_bits(), want.to_bits());
            let bytes = rmp_serde::to_vec(&b).unwrap();
            let back: ExactSum = rmp_serde::from_slice(&bytes).unwrap();
            prop_assert_eq!(back.value().to_bits(), want.to_bits());
        }

        /// Terms of very different magnitudes: the merged sum equals the one-pass sum.
        #[test]
        fn merged_equals_one_pass(
            xs in proptest::collection::vec(any::<f64>().prop_filter("finite", |x| x.is_finite() && x.abs() < 1e300), 0..40),
            split in 0usize..40,
        ) {
            let cut = split.min(xs.len());
            let mut a = ExactSum::default();
            xs[..cut].iter().for_each(|&x| a.add(x));
            let mut b = ExactSum::default();
            xs[cut..].iter().rev().for_each(|&x| b.add(x));
            a.merge(&b);
            prop_assert_eq!(a.value().to_bits(), sum_of(&xs).to_bits());
        }
    }
}
