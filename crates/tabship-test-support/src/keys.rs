//! Keys files written the way users write them: by `tabship keys add`.

use std::path::Path;
use std::process::Command;

/// Runs `tabship keys add --username USERNAME --scopes SCOPES --keys KEYS` with the binary at
/// `tabship` (a test's `env!("CARGO_BIN_EXE_tabship")`) and returns the token it printed.
pub fn add_key(tabship: &Path, keys: &Path, username: &str, scopes: &str) -> String {
    let out = Command::new(tabship)
        .args([
            "keys",
            "add",
            "--username",
            username,
            "--scopes",
            scopes,
            "--keys",
        ])
        .arg(keys)
        .output()
        .expect("tabship runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
