//! Helpers shared by the CLI's integration test modules.

use std::path::Path;
use std::process::{Command, Output};

#[cfg(target_os = "linux")]
pub mod fault_server;

pub use tabship_test_support::{PATIENCE, ServerLog, wait_exit};

/// Runs the built `tabship` binary to completion.
pub fn tabship(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tabship"))
        .args(args)
        .output()
        .expect("binary runs")
}

/// A file of the repository's `testdata/`, as the `&str` a command line takes.
pub fn testdata(name: &str) -> String {
    tabship_test_support::testdata(name)
        .to_string_lossy()
        .into_owned()
}

/// `tabship keys add` into `keys`; the printed token.
pub fn add_key(keys: &Path, username: &str, scopes: &str) -> String {
    tabship_test_support::add_key(
        Path::new(env!("CARGO_BIN_EXE_tabship")),
        keys,
        username,
        scopes,
    )
}

/// A temporary path as the `&str` a command line takes.
pub fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// The captured standard output.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The captured standard error.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
