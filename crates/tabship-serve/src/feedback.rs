//! Predictions remembered by request id, so that `/feedback` can join a true label to them.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;

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

impl Predicted {
    /// What scores predicted.
    pub(crate) fn of(scores: &tabship::Scores) -> Self {
        match scores {
            tabship::Scores::Classes { classes, .. } => Predicted::Classes(classes.clone()),
            tabship::Scores::Values(v) => Predicted::Values(v.clone()),
        }
    }
}

/// Who made a prediction: the key's username, or `None` on a server without keys (anonymous).
pub type Principal = Option<Arc<str>>;

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
    /// Who made the prediction: only it (or an admin key) may label it.
    pub principal: Principal,
    /// For a request id the client chose: the SHA-256 of the request (path, query, body), so
    /// that an identical resend by the same principal is told apart from a reused id.
    pub fingerprint: Option<[u8; 32]>,
}

impl Remembered {
    /// A prediction not labelled yet.
    pub fn new(
        model: &str,
        version: &str,
        predicted: Predicted,
        principal: Principal,
        fingerprint: Option<[u8; 32]>,
    ) -> Self {
        let rows = match &predicted {
            Predicted::Classes(c) => c.len(),
            Predicted::Values(v) => v.len(),
        };
        Remembered {
            model: model.to_owned(),
            version: version.to_owned(),
            predicted,
            labelled: vec![false; rows],
            principal,
            fingerprint,
        }
    }

    /// True when a new request with this id, `principal` and `fingerprint` is a resend of this
    /// one (a retry after a lost answer) that may replace it: same principal, same request, and
    /// no row labelled yet (a label joins the answer it was given for).
    fn is_retry(&self, principal: &Principal, fingerprint: Option<&[u8; 32]>) -> bool {
        self.principal == *principal
            && fingerprint.is_some()
            && self.fingerprint.as_ref() == fingerprint
            && !self.labelled.contains(&true)
    }
}

/// Why a request id cannot be used for a new prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// Another request (another body, route or principal) used it.
    Used,
    /// The same request used it and a row already has a label.
    Labelled,
}

/// One lock's share: ids in arrival order (the key is shared with the map, not copied), and the
/// map. Values are boxed and the map is sized for twice its share up front, so that under the
/// steady insert-one-evict-one of a busy server its probes stay short and it never grows: a map
/// filled to its limit by that churn spent ~9% of the server's CPU probing past deleted slots.
#[derive(Debug)]
struct Shard {
    map: FxHashMap<Arc<str>, Box<Remembered>>,
    order: VecDeque<Arc<str>>,
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
        let per_shard = capacity.div_ceil(SHARDS).max(1);
        let shard = || {
            Mutex::new(Shard {
                map: FxHashMap::with_capacity_and_hasher(per_shard * 2, Default::default()),
                order: VecDeque::with_capacity(per_shard),
            })
        };
        FeedbackStore {
            shards: (0..SHARDS).map(|_| shard()).collect(),
            per_shard,
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

    /// Whether `id` may be used for a new prediction by `principal` (checked before scoring, so a
    /// reused id costs no work; [`remember`](Self::remember) checks again atomically).
    pub fn check(
        &self,
        id: &str,
        principal: &Principal,
        fingerprint: Option<&[u8; 32]>,
    ) -> Result<(), Taken> {
        match self.shard(id).map.get(id) {
            None => Ok(()),
            Some(old) => refusal(old, principal, fingerprint),
        }
    }

    /// Remembers a request's predictions under `id`, unless the id is still remembered for
    /// another request (see [`Remembered::is_retry`] for the one exception, a resend).
    pub fn remember(&self, id: String, entry: Remembered) -> Result<(), Taken> {
        let mut shard = self.shard(&id);
        if let Some(old) = shard.map.get_mut(id.as_str()) {
            refusal(old, &entry.principal, entry.fingerprint.as_ref())?;
            // A resend: feedback joins the answer the client received last.
            **old = entry;
            return Ok(());
        }
        if shard.order.len() >= self.per_shard {
            if let Some(old) = shard.order.pop_front() {
                shard.map.remove(&old);
            }
        }
        let id: Arc<str> = Arc::from(id);
        shard.order.push_back(Arc::clone(&id));
        shard.map.insert(id, Box::new(entry));
        Ok(())
    }

    /// The remembered request, without changing it.
    pub fn peek(&self, id: &str) -> Option<Remembered> {
        self.shard(id)
            .map
            .get(id)
            .map(|entry| Remembered::clone(entry))
    }

    /// Marks `row` of request `id` labelled and returns the request (as it was before), or why
    /// not. `allowed` says whether the caller may label a prediction of that principal; when it
    /// may not, the answer is [`Lookup::Unknown`], as if the id did not exist.
    pub fn take_row(
        &self,
        id: &str,
        row: usize,
        allowed: impl FnOnce(&Principal) -> bool,
    ) -> Result<Remembered, Lookup> {
        let mut shard = self.shard(id);
        let entry = shard.map.get_mut(id).ok_or(Lookup::Unknown)?;
        if !allowed(&entry.principal) {
            return Err(Lookup::Unknown);
        }
        let snapshot = Remembered::clone(entry);
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

fn refusal(
    old: &Remembered,
    principal: &Principal,
    fingerprint: Option<&[u8; 32]>,
) -> Result<(), Taken> {
    if old.is_retry(principal, fingerprint) {
        Ok(())
    } else if old.principal == *principal
        && fingerprint.is_some()
        && old.fingerprint.as_ref() == fingerprint
    {
        Err(Taken::Labelled)
    } else {
        Err(Taken::Used)
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

    fn entry(principal: Option<&str>, fingerprint: Option<[u8; 32]>) -> Remembered {
        Remembered::new(
            "m",
            "1",
            Predicted::Classes(vec![1, 0]),
            principal.map(Arc::from),
            fingerprint,
        )
    }

    fn anyone(_: &Principal) -> bool {
        true
    }

    #[test]
    fn remembers_and_evicts() {
        let store = FeedbackStore::new(160);
        for i in 0..400 {
            store
                .remember(format!("r{i}"), entry(None, None))
                .expect("new id");
        }
        assert_eq!(store.take_row("r399", 1, anyone).expect("row").version, "1");
        assert_eq!(
            store.take_row("r399", 1, anyone).expect_err("again"),
            Lookup::AlreadyLabelled
        );
        assert_eq!(
            store.take_row("r399", 2, anyone).expect_err("no row"),
            Lookup::NoRow(2)
        );
        assert_eq!(
            store.take_row("zzz", 0, anyone).expect_err("unknown"),
            Lookup::Unknown
        );
        let kept = (0..400)
            .filter(|i| store.take_row(&format!("r{i}"), 0, anyone).is_ok())
            .count();
        assert!((100..=160).contains(&kept), "{kept}");
        assert!(
            store.take_row("r0", 0, anyone).is_err(),
            "the oldest is forgotten"
        );
        // A forgotten id may be used again.
        store
            .remember("r0".to_owned(), entry(None, None))
            .expect("reuse after eviction");
    }

    #[test]
    fn a_used_id_is_refused_unless_the_same_request_is_resent() {
        let store = FeedbackStore::new(100);
        let (a, b) = ([1u8; 32], [2u8; 32]);
        store
            .remember("x".to_owned(), entry(Some("ana"), Some(a)))
            .expect("first");
        // Another request body, another principal, or a server-made id: refused.
        assert_eq!(
            store.check("x", &Some("ana".into()), Some(&b)),
            Err(Taken::Used)
        );
        assert_eq!(
            store.check("x", &Some("bo".into()), Some(&a)),
            Err(Taken::Used)
        );
        assert_eq!(
            store.check("x", &Some("ana".into()), None),
            Err(Taken::Used)
        );
        assert_eq!(
            store.remember("x".to_owned(), entry(Some("bo"), Some(a))),
            Err(Taken::Used)
        );
        assert_eq!(
            store.peek("x").expect("kept").principal.as_deref(),
            Some("ana")
        );
        // The same request resent by its principal replaces the answer until a row is labelled.
        assert_eq!(store.check("x", &Some("ana".into()), Some(&a)), Ok(()));
        store
            .remember("x".to_owned(), entry(Some("ana"), Some(a)))
            .expect("resend");
        store.take_row("x", 0, anyone).expect("label");
        assert_eq!(
            store.remember("x".to_owned(), entry(Some("ana"), Some(a))),
            Err(Taken::Labelled)
        );
        assert_eq!(
            store.take_row("x", 1, anyone).expect("row 1").labelled,
            [true, false]
        );
    }

    #[test]
    fn only_an_allowed_caller_labels() {
        let store = FeedbackStore::new(100);
        store
            .remember("x".to_owned(), entry(Some("ana"), None))
            .expect("first");
        let only_bo = |p: &Principal| p.as_deref() == Some("bo");
        assert_eq!(
            store.take_row("x", 0, only_bo).expect_err("foreign"),
            Lookup::Unknown
        );
        assert!(
            !store.peek("x").expect("kept").labelled[0],
            "nothing consumed"
        );
        let only_ana = |p: &Principal| p.as_deref() == Some("ana");
        store.take_row("x", 0, only_ana).expect("owner");
    }
}
