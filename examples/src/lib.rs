//! Runnable examples of tabship: see `examples/` (`cargo run -p tabship-examples --example iris`).
//!
//! The repository README is included below so that its Rust snippet is compiled and run as a doctest.
#![doc = include_str!("../../README.md")]
