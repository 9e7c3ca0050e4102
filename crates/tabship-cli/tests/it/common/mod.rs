//! Helpers shared by the CLI's integration test modules.

use std::path::Path;
use std::process::{Command, Output};

#[cfg(target_os = "linux")]
pub mod fault_server;

pub use tabship_test_support::{
    Served, exchange, json_body, request, signal, wait_exit, wait_ready,
};

/// `tabship serve ARGS` (the caller's `Served` adds the port and the JSON logs).
pub fn serve_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tabship"));
    command.arg("serve").args(args);
    command
}

/// Runs the built `tabship` binary to completion.
pub fn tabship(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tabship"))
        .args(args)
        .output()
        .expect("binary runs")
}

/// `tabship train DATA --target TARGET ARGS…`, run to completion.
pub fn train(data: &str, target: &str, args: &[&str]) -> Output {
    let mut all = vec!["train", data, "--target", target];
    all.extend_from_slice(args);
    tabship(&all)
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

/// Fails the test unless `out` exited with `code` and its stderr contains `expected` (the
/// stderr is shown on failure).
#[track_caller]
pub fn assert_refused(out: &Output, code: i32, expected: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert!(err.contains(expected), "{err}");
}
