//! Integration tests of the core crate: golden artifacts, hostile files, round trips, records.

mod batch_codes;
mod common;
mod corrupt;
mod decision;
mod drift;
mod encode_columns;
mod evaluate;
mod extremes;
mod golden;
mod paths;
mod records;
mod round_trip;
mod summary;
