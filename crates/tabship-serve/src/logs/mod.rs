//! The prediction log read back: its record types (written by the server, read by the tools),
//! log files found by pattern with their rotated predecessors, and logged predictions joined
//! with their labels by request id (`tabship labels export`), and the fleet's drift and live
//! quality over them (`tabship monitor`).

mod files;
mod fleet;
mod join;
mod record;
mod textfile;

pub use files::{BadLine, Replica, read_replica, replicas};
pub use fleet::{FleetOptions, FleetReport, Quality, ReplicaSummary, monitor};
pub use join::{
    ExternalLabel, JoinReport, Joined, JoinedRequest, LogSource, join, read_label_file,
};
pub use record::{FeedbackRecord, Kind, LogRecord, PredictionRecord};
pub use textfile::prometheus_text;
