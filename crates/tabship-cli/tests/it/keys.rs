//! `tabship keys list|remove|rotate` and `keys add` with a token the user chose.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::{add_key, assert_refused, path, stderr, stdout, tabship};

fn sha256_hex(token: &str) -> String {
    tabship_serve::auth::token_sha256(token)
}

/// A keys file in `dir` where `ana` and `bo` hold `ana_scopes` and `bo_scopes`: the file and
/// their tokens.
fn ana_and_bo(dir: &Path, ana_scopes: &str, bo_scopes: &str) -> (PathBuf, String, String) {
    let file = dir.join("keys.toml");
    let ana = add_key(&file, "ana", ana_scopes);
    let bo = add_key(&file, "bo", bo_scopes);
    (file, ana, bo)
}

#[test]
fn list_shows_users_scopes_and_fingerprints_never_tokens() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (file, ana, bo) = ana_and_bo(dir.path(), "predict", "admin,metrics");
    let keys = path(&file);
    let out = tabship(&["keys", "list", "--keys", keys]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains(&ana) && !text.contains(&bo), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[1].starts_with("ana ") && lines[1].ends_with("predict"),
        "{text}"
    );
    assert!(lines[1].contains(&sha256_hex(&ana)[..12]), "{text}");
    assert!(lines[2].ends_with("admin, metrics"), "{text}");
    let out = tabship(&["keys", "list", "--keys", keys, "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(listed[1]["username"], "bo");
    assert_eq!(listed[1]["scopes"], serde_json::json!(["admin", "metrics"]));
    assert_eq!(listed[1]["fingerprint"], &sha256_hex(&bo)[..12]);
}

#[test]
fn rotate_prints_a_new_token_once_and_remove_names_an_unknown_user() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (file, ana, _) = ana_and_bo(dir.path(), "predict,feedback", "admin");
    let keys = path(&file);
    let out = tabship(&["keys", "rotate", "--username", "ana", "--keys", keys]);
    assert!(out.status.success(), "{}", stderr(&out));
    let fresh = stdout(&out).trim().to_owned();
    assert!(fresh.starts_with("tsk_") && fresh != ana, "{fresh}");
    let text = std::fs::read_to_string(&file).expect("keys");
    assert!(!text.contains(&sha256_hex(&ana)), "the old hash is gone");
    assert!(text.contains(&sha256_hex(&fresh)), "{text}");
    assert!(!text.contains(&fresh), "only the hash is stored");
    assert!(
        text.contains("scopes = [\"predict\", \"feedback\"]"),
        "{text}"
    );

    let out = tabship(&["keys", "remove", "--username", "carla", "--keys", keys]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("no key for user `carla`"), "{err}");
    assert!(err.contains("`ana`, `bo`"), "{err}");
    let out = tabship(&["keys", "rotate", "--username", "carla", "--keys", keys]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty(), "no token printed on failure");

    let out = tabship(&["keys", "remove", "--username", "ana", "--keys", keys]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = tabship(&["keys", "list", "--keys", keys]);
    let text = stdout(&out);
    assert!(!text.contains("ana") && text.contains("bo"), "{text}");
}

#[test]
fn add_takes_a_chosen_token_from_stdin_or_a_file_and_refuses_short_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("keys.toml");
    let keys = path(&file);
    let chosen = "a-token-from-our-vault-0123456789abcdef";
    let mut child = Command::new(env!("CARGO_BIN_EXE_tabship"))
        .args(["keys", "add", "--username", "ana", "--scopes", "predict"])
        .args(["--keys", keys, "--token-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{chosen}\n").as_bytes())
        .expect("write token");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "a chosen token is not echoed");
    let text = std::fs::read_to_string(&file).expect("keys");
    assert!(text.contains(&sha256_hex(chosen)), "{text}");
    assert!(!text.contains(chosen));

    let token_file = dir.path().join("token.txt");
    let add_admin_from_file = |username: &str| {
        tabship(&[
            "keys",
            "add",
            "--username",
            username,
            "--scopes",
            "admin",
            "--keys",
            keys,
            "--token-file",
            path(&token_file),
        ])
    };
    std::fs::write(&token_file, "B".repeat(40)).expect("token file");
    let out = add_admin_from_file("bo");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        std::fs::read_to_string(&file)
            .expect("keys")
            .contains(&sha256_hex(&"B".repeat(40)))
    );

    std::fs::write(&token_file, "hunter2\n").expect("short token");
    let out = add_admin_from_file("carla");
    assert_refused(&out, 1, "7 characters, fewer than 32");
    // The same user twice is refused with the way to replace a token.
    let out = tabship(&[
        "keys",
        "add",
        "--username",
        "ana",
        "--scopes",
        "predict",
        "--keys",
        keys,
    ]);
    assert_refused(&out, 1, "keys rotate");
}
