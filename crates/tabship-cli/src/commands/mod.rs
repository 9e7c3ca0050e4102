//! One module per subcommand.

pub mod inspect;
pub mod predict;
pub mod train;
