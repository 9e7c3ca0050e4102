//! Exact importers of models trained elsewhere into tabship pipelines.
//!
//! Each source library has its own module; every importer reproduces the library's own
//! predictions bit for bit or refuses the model with an error naming what it cannot reproduce.

mod error;
pub mod lightgbm;

pub use error::{Error, Result};
