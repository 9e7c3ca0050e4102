//! Predictions remembered by request id, so that `/feedback` can join a true label to them.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;
use std::sync::Mutex;

/// Independent locks, so concurrent requests rarely wait on each other.
const SHARDS: usize = 16;

/// What a request predicted, row by row.
#[derive(Debug, Clone, PartialEq)]
pub enum Predicted {
    /// Class indices.
    Classes(Vec<usize>),
    /// Values.
    Values(Vec<f64>),
}

/// One remembered request.
#[derive(Debug, Clone)]
pub struct Remembered {
    /// Model name.
    pub model: String,
    /// Version that answered.
    pub version: String,
    /// Its predictions.
    pub predicted: Predicted,
    /// Rows already labelled.
    pub labelled: Vec<bool>,
}

#[derive(Debug, Default)]
struct Shard {
    map: FxHashMap<String, Remembered>,
    order: VecDeque<String>,
}

/// A bounded map of request id → prediction, oldest evicted first.
#[derive(Debug)]
pub struct FeedbackStore {
    shards: Vec<Mutex<Shard>>,
    per_shard: usize,
}

impl FeedbackStore {
    /// Remembers up to `capacity` requests.
    pub fn new(capacity: usize) -> Self {
        FeedbackStore {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
        }
    }

    fn shard(&self, id: &str) -> std::sync::MutexGuard<'_, Shard> {
        let h = id.bytes().fold(0usize, |h, b| {
            h.wrapping_mul(31).wrapping_add(usize::from(b))
        });
        match self.shards[h % SHARDS].lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Remembers a request's predictions.
    pub fn remember(&self, id: String, model: &str, version: &str, predicted: Predicted) {
        let rows = match &predicted {
            Predicted::Classes(c) => c.len(),
            Predicted::Values(v) => v.len(),
        };
        let mut shard = self.shard(&id);
        if shard.order.len() >= self.per_shard {
            if let Some(old) = shard.order.pop_front() {
                shard.map.remove(&old);
            }
        }
        shard.order.push_back(id.clone());
        shard.map.insert(
            id,
            Remembered {
                model: model.to_owned(),
                version: version.to_owned(),
                predicted,
                labelled: vec![false; rows],
            },
        );
    }

    /// The remembered request, without changing it.
    pub fn peek(&self, id: &str) -> Option<Remembered> {
        self.shard(id).map.get(id).cloned()
    }

    /// Marks `row` of request `id` labelled and returns the request (as it was before), or why not.
    pub fn take_row(&self, id: &str, row: usize) -> Result<Remembered, Lookup> {
        let mut shard = self.shard(id);
        let entry = shard.map.get_mut(id).ok_or(Lookup::Unknown)?;
        let snapshot = entry.clone();
        match entry.labelled.get_mut(row) {
            None => Err(Lookup::NoRow(snapshot.labelled.len())),
            Some(true) => Err(Lookup::AlreadyLabelled),
            Some(flag) => {
                *flag = true;
                Ok(snapshot)
            }
        }
    }
}

/// Why a feedback lookup failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// No such request id (never seen, or forgotten).
    Unknown,
    /// The request had this many rows.
    NoRow(usize),
    /// The row already has a label.
    AlreadyLabelled,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_and_evicts() {
        let store = FeedbackStore::new(160);
        for i in 0..400 {
            store.remember(format!("r{i}"), "m", "1", Predicted::Classes(vec![1, 0]));
        }
        assert_eq!(store.take_row("r399", 1).expect("row").version, "1");
        assert_eq!(
            store.take_row("r399", 1).expect_err("again"),
            Lookup::AlreadyLabelled
        );
        assert_eq!(
            store.take_row("r399", 2).expect_err("no row"),
            Lookup::NoRow(2)
        );
        assert_eq!(
            store.take_row("zzz", 0).expect_err("unknown"),
            Lookup::Unknown
        );
        let kept = (0..400)
            .filter(|i| store.take_row(&format!("r{i}"), 0).is_ok())
            .count();
        assert!((100..=160).contains(&kept), "{kept}");
        assert!(store.take_row("r0", 0).is_err(), "the oldest is forgotten");
    }
}
