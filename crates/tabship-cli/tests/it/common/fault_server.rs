//! The fault tests' `tabship serve` children: started with a lowered open-file limit, and their
//! memory read from `/proc/<pid>/status` (so Linux only).

use std::process::Command;

use super::serve_command;
pub use tabship_test_support::{
    PATIENCE, Served as Server, connect, head, listening_address, read_response, spawn_json_logs,
    version_names,
};

/// `tabship serve ARGS --port 0 --json-logs`, returned once `/health/ready` answers 200.
pub fn start(args: &[&str]) -> Server {
    Server::start(serve_command(args))
}

/// As [`start`] with the open-file limit (`ulimit -n`) at `nofile`.
pub fn start_with_nofile(nofile: u32, args: &[&str]) -> Server {
    let mut shell = Command::new("sh");
    shell
        .arg("-c")
        .arg(format!("ulimit -n {nofile} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_tabship"))
        .arg("serve")
        .args(args);
    Server::start(shell)
}

/// (VmRSS, VmHWM) of `server` in KiB.
pub fn memory_kib(server: &Server) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id()))
        .expect("/proc status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {status}"))
    };
    (field("VmRSS:"), field("VmHWM:"))
}
