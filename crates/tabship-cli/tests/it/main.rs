//! Integration tests of the `tabship` binary, one test binary: every command end to end, CSV
//! dialects, drift reports, class imbalance, input/output edge cases, keys files, a served child
//! (signals, the admin token, the state dir), and the resource and fault tests of a real
//! `tabship serve`.

mod boosting;
mod cli;
mod common;
mod compare;
mod dialects;
mod drift;
mod export;
#[cfg(target_os = "linux")]
mod faults;
mod imbalance;
mod import;
mod io;
mod keys;
mod labels;
mod monitor;
mod retrain;
mod serve;
mod triggers;
