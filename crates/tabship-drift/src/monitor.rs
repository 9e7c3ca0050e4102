//! Windowed monitors: live rows binned into count blocks, so memory depends on the bins (and the
//! number of blocks), never on the number of rows.
//!
//! A sliding window of `N` rows is kept as `B` blocks of `ceil(N / B)` rows; when the newest block
//! is full the oldest is dropped. The window therefore holds between `N − N/B` and `N` of the
//! most recent rows and slides in steps of `N/B` rows. This trades exactness for memory: an exact
//! sliding window must remember every row (a ring of per-row bin indices costs 2 bytes per row and
//! column, 2 MB for a million-row window of 1,000 columns), while blocks cost one count vector
//! per block, whatever `N` — and blocks carry sums and out-of-range distances that a ring of bin
//! indices could not. With the default 16 blocks the window is never more than 1/16 short.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::profile::ReferenceProfile;
use crate::report::{DriftOptions, DriftReport, report};
use crate::sample::{Binner, Cell, LiveColumn, LiveSample};
use crate::{Error, Result};

/// Blocks of a sliding window by default.
pub const DEFAULT_BLOCKS: usize = 16;

/// Which rows a monitor reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Window {
    /// Every row since creation (or the last [`Monitor::reset`]).
    Cumulative,
    /// The most recent `rows` rows, kept in `blocks` blocks (see the module docs).
    Sliding {
        /// Window length in rows.
        rows: usize,
        /// Number of blocks (at least 1, at most `rows`).
        blocks: usize,
    },
    /// Consecutive, non-overlapping windows of `rows` rows: [`Monitor::snapshot`] is the window
    /// being filled, [`Monitor::last_complete`] the last full one.
    Tumbling {
        /// Window length in rows.
        rows: usize,
    },
}

impl Window {
    /// A sliding window of `rows` rows in [`DEFAULT_BLOCKS`] blocks.
    pub fn sliding(rows: usize) -> Self {
        Window::Sliding {
            rows,
            blocks: DEFAULT_BLOCKS.min(rows.max(1)),
        }
    }

    fn validate(self) -> Result<()> {
        let bad = match self {
            Window::Cumulative => None,
            Window::Sliding { rows, blocks } if rows == 0 || blocks == 0 || blocks > rows => Some(
                format!("rows `{rows}` and blocks `{blocks}` (need 1 ≤ blocks ≤ rows)"),
            ),
            Window::Tumbling { rows: 0 } => Some("rows `0`".to_owned()),
            _ => None,
        };
        match bad {
            Some(reason) => Err(Error::InvalidOption {
                option: "window",
                reason,
            }),
            None => Ok(()),
        }
    }

    fn block_rows(self) -> u64 {
        match self {
            Window::Cumulative => u64::MAX,
            Window::Sliding { rows, blocks } => rows.div_ceil(blocks) as u64,
            Window::Tumbling { rows } => rows as u64,
        }
    }
}

/// A monitor's rows without its profile (which the owner keeps and pickles on its own): what
/// [`Monitor::state`] gives and [`Monitor::from_state`] checks and restores.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MonitorState {
    /// The window.
    pub window: Window,
    /// The blocks, oldest first; the last is the one being filled.
    pub blocks: Vec<LiveSample>,
    /// For a tumbling window: the last complete one.
    pub last_complete: Option<LiveSample>,
    /// Rows observed since creation (or the last reset).
    pub total_rows: u64,
}

/// A drift monitor over a window of live rows.
///
/// Feed it batches ([`observe`](Self::observe)) or rows ([`observe_row`](Self::observe_row));
/// take a [`snapshot`](Self::snapshot) (a few vector additions) and turn it into a
/// [`DriftReport`] with [`report`](Self::report). It is `Send + Sync` plain data: a server keeps
/// one behind a `Mutex` (updates cost well under a microsecond per row), or one per worker
/// thread, merged at report time with [`merge`](Self::merge).
#[derive(Debug, Clone)]
pub struct Monitor {
    binner: Arc<Binner>,
    window: Window,
    /// Oldest first; the last block is the one being filled.
    blocks: VecDeque<LiveSample>,
    last_complete: Option<LiveSample>,
    total_rows: u64,
}

impl Monitor {
    /// A monitor over `profile` (validate profiles read from outside first).
    pub fn new(profile: impl Into<Arc<ReferenceProfile>>, window: Window) -> Result<Self> {
        Self::with_binner(Arc::new(Binner::new(profile)), window)
    }

    /// A monitor sharing an already compiled profile.
    pub fn with_binner(binner: Arc<Binner>, window: Window) -> Result<Self> {
        window.validate()?;
        let mut blocks = VecDeque::new();
        blocks.push_back(binner.empty_sample());
        Ok(Monitor {
            binner,
            window,
            blocks,
            last_complete: None,
            total_rows: 0,
        })
    }

    /// The monitor's rows (to save or ship it; the profile is not included).
    pub fn state(&self) -> MonitorState {
        MonitorState {
            window: self.window,
            blocks: self.blocks.iter().cloned().collect(),
            last_complete: self.last_complete.clone(),
            total_rows: self.total_rows,
        }
    }

    /// A monitor restored from [`state`](Self::state) over the same profile; the state is
    /// checked (it may come from a corrupt or hostile file): the window, the block count and
    /// sizes, every sample's shape against the profile, finite sums.
    pub fn from_state(binner: Arc<Binner>, state: MonitorState) -> Result<Self> {
        state.window.validate()?;
        let max_blocks = match state.window {
            Window::Sliding { blocks, .. } => blocks,
            Window::Cumulative | Window::Tumbling { .. } => 1,
        };
        if state.blocks.is_empty() || state.blocks.len() > max_blocks {
            return Err(Error::state(
                "monitor.blocks",
                format!(
                    "expected 1 to {max_blocks} blocks, got `{}`",
                    state.blocks.len()
                ),
            ));
        }
        // Block sizes are not bounded by the window: merged shards hold several shards' rows.
        let empty = binner.empty_sample();
        let mut rows = 0u64;
        for (i, block) in state.blocks.iter().enumerate() {
            block.check_like(&empty, &format!("monitor.blocks[{i}]"))?;
            rows = rows.saturating_add(block.rows);
        }
        if let Some(last) = &state.last_complete {
            if !matches!(state.window, Window::Tumbling { .. }) {
                return Err(Error::state(
                    "monitor.last_complete",
                    "expected only for a tumbling window, got one for another window",
                ));
            }
            last.check_like(&empty, "monitor.last_complete")?;
        }
        if rows > state.total_rows {
            return Err(Error::state(
                "monitor.total_rows",
                format!(
                    "expected at least the `{rows}` rows in the window, got `{}`",
                    state.total_rows
                ),
            ));
        }
        Ok(Monitor {
            binner,
            window: state.window,
            blocks: state.blocks.into(),
            last_complete: state.last_complete,
            total_rows: state.total_rows,
        })
    }

    /// The compiled profile.
    pub fn binner(&self) -> &Arc<Binner> {
        &self.binner
    }

    /// The profile.
    pub fn profile(&self) -> &ReferenceProfile {
        self.binner.profile()
    }

    /// The window.
    pub fn window(&self) -> Window {
        self.window
    }

    /// Rows observed since creation (or the last reset), in or out of the window.
    pub fn total_rows(&self) -> u64 {
        self.total_rows
    }

    fn current(&mut self) -> &mut LiveSample {
        if self.blocks.is_empty() {
            self.blocks.push_back(self.binner.empty_sample());
        }
        let n = self.blocks.len();
        &mut self.blocks[n - 1]
    }

    /// Starts a new block when the current one is full.
    fn rotate_if_full(&mut self) {
        let block_rows = self.window.block_rows();
        let full = self.blocks.back().is_some_and(|b| b.rows >= block_rows);
        if !full {
            return;
        }
        match self.window {
            Window::Cumulative => {}
            Window::Sliding { blocks, .. } => {
                self.blocks.push_back(self.binner.empty_sample());
                while self.blocks.len() > blocks {
                    self.blocks.pop_front();
                }
            }
            Window::Tumbling { .. } => {
                self.last_complete = self.blocks.pop_back();
                self.blocks.push_back(self.binner.empty_sample());
            }
        }
    }

    /// Adds a batch: one column per profile column, in profile order, and optionally the
    /// predictions. Checks the whole batch first; on error nothing is added.
    pub fn observe(
        &mut self,
        columns: &[LiveColumn<'_>],
        prediction: Option<&LiveColumn<'_>>,
    ) -> Result<()> {
        let n = self.binner.check_batch(columns, prediction)?;
        let block_rows = self.window.block_rows();
        let binner = Arc::clone(&self.binner);
        let mut done = 0usize;
        while done < n {
            self.rotate_if_full();
            let room = block_rows - self.current().rows;
            let take = (n - done).min(usize::try_from(room).unwrap_or(usize::MAX));
            binner.push_rows(self.current(), columns, prediction, done..done + take);
            done += take;
        }
        self.total_rows += n as u64;
        Ok(())
    }

    /// Adds one row (cells in profile order) and optionally its prediction.
    pub fn observe_row(&mut self, row: &[Cell<'_>], prediction: Option<Cell<'_>>) -> Result<()> {
        self.rotate_if_full();
        let binner = Arc::clone(&self.binner);
        binner.push_row(self.current(), row, prediction)?;
        self.total_rows += 1;
        Ok(())
    }

    /// The live sample of the current window (for a tumbling window: the one being filled).
    pub fn snapshot(&self) -> LiveSample {
        let mut total = self.binner.empty_sample();
        for block in &self.blocks {
            // Blocks come from the same binner, so their shapes always match.
            let _ = total.merge(block);
        }
        total
    }

    /// For a tumbling window: the last complete window, once one has filled.
    pub fn last_complete(&self) -> Option<&LiveSample> {
        self.last_complete.as_ref()
    }

    /// The drift report of the current window.
    pub fn report(&self, options: &DriftOptions) -> Result<DriftReport> {
        report(self.profile(), &self.snapshot(), options)
    }

    /// Forgets every row.
    pub fn reset(&mut self) {
        self.blocks.clear();
        self.blocks.push_back(self.binner.empty_sample());
        self.last_complete = None;
        self.total_rows = 0;
    }

    /// Adds another monitor's rows (a shard of the same traffic, with the same profile and
    /// window). Blocks are matched newest with newest, so shards that rotate together merge
    /// exactly; otherwise the result approximates the union of their recent rows.
    pub fn merge(&mut self, other: &Monitor) -> Result<()> {
        if self.window != other.window {
            return Err(Error::mismatch(
                "merged monitor's window",
                format!("{:?}", self.window),
                format!("{:?}", other.window),
            ));
        }
        if self.profile() != other.profile() {
            return Err(Error::mismatch(
                "merged monitor's profile",
                "the same reference profile",
                "another profile",
            ));
        }
        let missing = other.blocks.len().saturating_sub(self.blocks.len());
        for _ in 0..missing {
            self.blocks.push_front(self.binner.empty_sample());
        }
        let (ours, theirs) = (self.blocks.len(), other.blocks.len());
        for (i, block) in other.blocks.iter().enumerate() {
            self.blocks[ours - theirs + i].merge(block)?;
        }
        match (&mut self.last_complete, &other.last_complete) {
            (Some(a), Some(b)) => a.merge(b)?,
            (None, Some(b)) => self.last_complete = Some(b.clone()),
            _ => {}
        }
        self.total_rows += other.total_rows;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{ColumnProfile, ProfileOptions};

    fn profile() -> ReferenceProfile {
        let values: Vec<f64> = (0..1000).map(f64::from).collect();
        ReferenceProfile {
            columns: vec![
                ColumnProfile::numeric("x", &values, &ProfileOptions::default()).expect("valid"),
            ],
            prediction: None,
        }
    }

    #[test]
    fn sliding_window_keeps_recent_blocks() {
        let mut m = Monitor::new(
            profile(),
            Window::Sliding {
                rows: 100,
                blocks: 4,
            },
        )
        .expect("ok");
        let values: Vec<f64> = (0..1000).map(f64::from).collect();
        m.observe(&[LiveColumn::Numeric(&values)], None)
            .expect("ok");
        // 1000 rows in blocks of 25: the last 4 blocks hold rows 900..1000.
        let s = m.snapshot();
        assert_eq!(s.rows, 100);
        assert_eq!(m.total_rows(), 1000);
        m.observe_row(&[Cell::Number(5.0)], None).expect("ok");
        assert_eq!(m.snapshot().rows, 76);
    }

    #[test]
    fn tumbling_windows_complete() {
        let mut m = Monitor::new(profile(), Window::Tumbling { rows: 10 }).expect("ok");
        for i in 0..25 {
            m.observe_row(&[Cell::Number(f64::from(i))], None)
                .expect("ok");
        }
        assert_eq!(m.snapshot().rows, 5);
        assert_eq!(m.last_complete().map(|s| s.rows), Some(10));
    }

    #[test]
    fn shards_merge_into_the_whole() {
        let values: Vec<f64> = (0..300).map(|i| f64::from(i) * 3.3).collect();
        let mut whole = Monitor::new(profile(), Window::Cumulative).expect("ok");
        whole
            .observe(&[LiveColumn::Numeric(&values)], None)
            .expect("ok");
        let mut a = Monitor::new(profile(), Window::Cumulative).expect("ok");
        let mut b = a.clone();
        a.observe(&[LiveColumn::Numeric(&values[..120])], None)
            .expect("ok");
        b.observe(&[LiveColumn::Numeric(&values[120..])], None)
            .expect("ok");
        a.merge(&b).expect("same profile");
        let (x, y) = (a.snapshot(), whole.snapshot());
        assert_eq!(x.rows, y.rows);
        assert_eq!(x.columns.len(), y.columns.len());
        let (ra, rb) = (
            a.report(&DriftOptions::default()).expect("ok"),
            whole.report(&DriftOptions::default()).expect("ok"),
        );
        assert_eq!(ra.columns[0].ks, rb.columns[0].ks);
        assert!(
            (ra.columns[0].mean_shift.unwrap_or(0.0) - rb.columns[0].mean_shift.unwrap_or(9.0))
                .abs()
                < 1e-9
        );
    }

    #[test]
    fn monitors_and_detectors_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Monitor>();
        assert_send_sync::<std::sync::Mutex<Monitor>>();
        assert_send_sync::<Box<dyn crate::Detector>>();
        assert_send_sync::<crate::DriftReport>();
    }

    #[test]
    fn tumbling_shards_merge_window_by_window() {
        let mut a = Monitor::new(profile(), Window::Tumbling { rows: 10 }).expect("ok");
        let mut b = a.clone();
        let values: Vec<f64> = (0..15).map(f64::from).collect();
        a.observe(&[LiveColumn::Numeric(&values)], None)
            .expect("ok");
        b.observe(&[LiveColumn::Numeric(&values)], None)
            .expect("ok");
        a.merge(&b).expect("same window");
        assert_eq!(a.last_complete().map(|s| s.rows), Some(20));
        assert_eq!(a.snapshot().rows, 10);
        assert_eq!(a.total_rows(), 30);
        let other = Monitor::new(profile(), Window::sliding(10)).expect("ok");
        assert!(a.merge(&other).is_err(), "windows differ");
        a.reset();
        assert_eq!((a.snapshot().rows, a.total_rows()), (0, 0));
    }

    #[test]
    fn state_round_trips_and_resumes_exactly() {
        let values: Vec<f64> = (0..500).map(|i| f64::from(i) * 1.7).collect();
        for window in [
            Window::Cumulative,
            Window::sliding(100),
            Window::Tumbling { rows: 64 },
        ] {
            let mut whole = Monitor::new(profile(), window).expect("ok");
            whole
                .observe(&[LiveColumn::Numeric(&values)], None)
                .expect("ok");
            let mut half = Monitor::new(profile(), window).expect("ok");
            half.observe(&[LiveColumn::Numeric(&values[..233])], None)
                .expect("ok");
            let bytes = rmp_serde::to_vec_named(&half.state()).expect("serializes");
            let state: MonitorState = rmp_serde::from_slice(&bytes).expect("deserializes");
            let mut back = Monitor::from_state(Arc::clone(half.binner()), state).expect("valid");
            back.observe(&[LiveColumn::Numeric(&values[233..])], None)
                .expect("ok");
            assert_eq!(back.state(), whole.state(), "{window:?}");
        }
        let m = Monitor::new(profile(), Window::sliding(100)).expect("ok");
        let mut state = m.state();
        state.blocks[0].rows = 1000;
        let err = Monitor::from_state(Arc::clone(m.binner()), state).expect_err("too many rows");
        assert!(err.to_string().contains("monitor.total_rows"), "{err}");
        let mut state = m.state();
        state.blocks[0].columns.clear();
        assert!(Monitor::from_state(Arc::clone(m.binner()), state).is_err());
    }

    #[test]
    fn bad_input_is_refused_and_changes_nothing() {
        let mut m = Monitor::new(profile(), Window::sliding(100)).expect("ok");
        let err = m
            .observe(&[LiveColumn::Categorical(&[Some("a")])], None)
            .expect_err("kind");
        assert!(err.to_string().contains("column `x`"), "{err}");
        assert!(m.observe_row(&[], None).is_err());
        assert_eq!(m.snapshot().rows, 0);
        assert!(Monitor::new(profile(), Window::Tumbling { rows: 0 }).is_err());
    }
}
