//! Integration tests of the importers: parity with the source libraries' own predictions.

mod xgboost_parity;
