//! One module per subcommand.

pub mod bench;
pub mod demo;
pub mod drift;
pub mod evaluate;
pub mod inspect;
pub mod keys;
pub mod predict;
pub mod serve;
pub mod train;

/// All cores, as the default for fitting forests and batch prediction.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
