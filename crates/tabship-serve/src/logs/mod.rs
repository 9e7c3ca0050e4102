//! The prediction log read back: its record types (written by the server, read by the tools),
//! log files found by pattern with their rotated predecessors, and logged predictions joined
//! with their labels by request id (`tabship labels export`, `tabship monitor`).

mod files;
mod join;
mod record;

pub use files::{BadLine, Replica, read_replica, replicas};
pub use join::{ExternalLabel, JoinReport, Joined, JoinedRequest, join, read_label_file};
pub use record::{FeedbackRecord, Kind, LogRecord, PredictionRecord};
