//! Integration tests of the importers: one binary, a module per source library.

mod lightgbm;
