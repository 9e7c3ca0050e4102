//! Limits of format v1. Artifacts cross trust boundaries, so every count a file declares is bounded
//! before memory is committed to it.

/// Largest artifact file (header + body), in bytes: 1 GiB.
pub const MAX_ARTIFACT_BYTES: u64 = 1 << 30;
/// Longest producing-library version string in the header, in bytes.
pub const MAX_LIBRARY_VERSION_BYTES: usize = 64;
/// Most feature columns in a schema.
pub const MAX_COLUMNS: usize = 100_000;
/// Most categories (kept, and rare) in one categorical column.
pub const MAX_CATEGORIES: usize = 1_000_000;
/// Most model features after encoding.
pub const MAX_FEATURES: usize = 10_000_000;
/// Most classes of a classifier.
pub const MAX_CLASSES: usize = 100_000;
/// Most trees in an ensemble.
pub const MAX_TREES: usize = 100_000;
/// Most nodes in one tree.
pub const MAX_NODES_PER_TREE: usize = 1 << 26;
/// Most nodes in all trees of an ensemble.
pub const MAX_TOTAL_NODES: usize = 1 << 28;
