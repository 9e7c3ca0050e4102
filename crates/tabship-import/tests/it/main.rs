//! Integration tests of the importers: parity with the source libraries' own predictions.

mod lightgbm_parity;
mod xgboost_parity;
