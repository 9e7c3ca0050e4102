//! Helpers shared by the CLI's integration test modules.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[cfg(target_os = "linux")]
pub mod fault_server;
pub mod server;

/// Runs the built `tabship` binary to completion.
pub fn tabship(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tabship"))
        .args(args)
        .output()
        .expect("binary runs")
}

/// A file of the repository's `testdata/`.
pub fn testdata(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(name)
        .to_string_lossy()
        .into_owned()
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
