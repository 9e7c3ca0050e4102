//! Resource and fault tests of the real `tabship serve` on 127.0.0.1: uploads an attacker sends
//! without a token (memory measured from `/proc`), idle connections past the connection cap
//! and the open-file limit, version swaps under prediction load, `kill -9` during uploads with
//! `--state-dir`, and an invalid field in `state.json`. The long versions, with their figures,
//! are `scripts/reliability/` and `docs/reliability.md`.
//!
//! Bounded in count and time; every wait is for a condition (an answer, a close, a count),
//! with [`PATIENCE`] as the upper bound.

use std::collections::BTreeSet;
use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use crate::common::fault_server::*;
use crate::common::*;

const SETOSA: &str =
    r#"{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}"#;
const MIB: usize = 1024 * 1024;
static ZEROS: [u8; MIB] = [0; MIB];

/// Sends `size` zero bytes to the upload route (declared by `Content-Length`) while reading the
/// answer as soon as it comes: (status, bytes written before the server answered or closed).
fn upload_zeros(addr: &str, headers: &[(&str, &str)], size: usize) -> (u16, usize) {
    let mut stream = connect(addr);
    let mut writer = stream.try_clone().expect("clone");
    let mut request = head(
        "POST",
        "/admin/models/iris/versions?version=x",
        headers,
        size,
    );
    request.push_str("Content-Type: application/octet-stream\r\n\r\n");
    let sender = std::thread::spawn(move || {
        writer.write_all(request.as_bytes()).expect("headers");
        let mut written = 0;
        while written < size {
            let n = MIB.min(size - written);
            // The server answering and closing ends the upload: a write error is expected.
            if writer.write_all(&ZEROS[..n]).is_err() {
                break;
            }
            written += n;
        }
        written
    });
    let status = read_response(&mut stream).map(|(status, _)| status);
    // Unblock the sender if the server answered without closing.
    let _ = stream.shutdown(Shutdown::Both);
    let written = sender.join().expect("sender");
    (status.expect("an answer"), written)
}

fn keys(dir: &Path) -> (PathBuf, String, String) {
    let keys = dir.join("keys.toml");
    let admin = add_key(&keys, "ops", "predict,admin");
    let predict = add_key(&keys, "app", "predict");
    (keys, admin, predict)
}

/// The audit's hole 1: one token-less 500 MB POST took the server from 13 MB to 1.04 GB before
/// the 401 (four: 2.56 GB). Six 64 MiB uploads at once (no token, a predict-only token, an
/// admin's that is not an artifact) and one declared over the limit must leave the peak
/// memory (VmHWM) within 32 MiB of where it was; buffering any one of them would exceed that.
#[test]
fn refused_uploads_leave_the_servers_memory_flat() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (keys, admin, predict) = keys(dir.path());
    let state = dir.path().join("state");
    let model = testdata("golden/iris_logistic.tabship");
    let server = start(&[&model, "--keys", path(&keys), "--state-dir", path(&state)]);
    let (_, before) = memory_kib(&server);

    let size = 64 * MIB;
    let predict_auth = format!("Bearer {predict}");
    let admin_auth = format!("Bearer {admin}");
    let cases: Vec<(Vec<(&str, &str)>, u16)> = vec![
        (vec![], 401),
        (vec![], 401),
        (vec![("Authorization", "Bearer tsk_not_a_key")], 401),
        (vec![("Authorization", &predict_auth)], 403),
        (vec![("Authorization", &predict_auth)], 403),
        (vec![("Authorization", &admin_auth)], 400),
    ];
    let outcomes: Vec<(u16, usize)> = std::thread::scope(|scope| {
        let running: Vec<_> = cases
            .iter()
            .map(|(headers, _)| scope.spawn(|| upload_zeros(&server.addr, headers, size)))
            .collect();
        running
            .into_iter()
            .map(|t| t.join().expect("client"))
            .collect()
    });
    for ((_, expected), (status, written)) in cases.iter().zip(&outcomes) {
        assert_eq!(status, expected, "written {written} bytes");
        if *expected != 400 {
            assert!(
                *written < size / 2,
                "refused with {status} after reading {written} of {size} bytes"
            );
        }
    }
    // Over the 512 MiB limit by its declared length: refused before a byte is read.
    let (status, written) =
        upload_zeros(&server.addr, &[("Authorization", &admin_auth)], 600 * MIB);
    assert_eq!(status, 413);
    assert!(
        written < 300 * MIB,
        "read {written} bytes of a declared 600 MiB"
    );

    let (_, after) = memory_kib(&server);
    assert!(
        after.saturating_sub(before) < 32 * 1024,
        "peak memory grew from {before} KiB to {after} KiB"
    );
    let (status, _) = {
        let mut stream = connect(&server.addr);
        let request = head("GET", "/models", &[("Authorization", &admin_auth)], 0) + "\r\n";
        stream.write_all(request.as_bytes()).expect("writes");
        read_response(&mut stream).expect("answered")
    };
    assert_eq!(status, 200, "still serving");
    server.stop();
}

/// The audit's hole 2: with the open-file limit at 1,024, 1,100 idle sockets made every
/// prediction time out. Here: 80 idle sockets against a server allowed 64 open files and 24
/// connections; a prediction on a new connection is still answered (once the header timeout
/// closed the idle ones ahead of it), and every idle socket is closed by the server.
#[test]
fn idle_connections_past_the_cap_and_the_file_limit_do_not_stop_predictions() {
    let model = testdata("golden/iris_logistic.tabship");
    let server = start_with_nofile(
        64,
        &[&model, "--max-connections", "24", "--header-timeout", "0.5"],
    );
    let idle: Vec<TcpStream> = (0..80).map(|_| connect(&server.addr)).collect();
    let mut client = connect(&server.addr);
    let request = head(
        "POST",
        "/predict",
        &[("Content-Type", "application/json")],
        SETOSA.len(),
    ) + "\r\n"
        + SETOSA;
    client.write_all(request.as_bytes()).expect("writes");
    let (status, body) = read_response(&mut client)
        .expect("a prediction is answered while 80 idle sockets wait (none within 30 s)");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("setosa"), "{body}");
    for (i, mut socket) in idle.into_iter().enumerate() {
        let mut byte = [0u8; 1];
        match std::io::Read::read(&mut socket, &mut byte) {
            Ok(0) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            other => panic!("idle socket {i} is still open: {other:?}"),
        }
    }
    server.stop();
}

/// Predictions running on keep-alive connections while iris is swapped between versions in
/// every way the admin API offers; each change waits until a prediction shows it took effect.
/// Not one request may fail.
#[test]
fn version_swaps_under_prediction_load_fail_no_request() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (keys, admin, _) = keys(dir.path());
    let model = testdata("golden/iris_logistic.tabship");
    let server = start(&[&model, "--keys", path(&keys)]);
    let auth = format!("Bearer {admin}");
    let tree = std::fs::read(testdata("golden/iris_tree.tabship")).expect("artifact");
    let raw = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/octet-stream"),
    ];
    let json_headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let answer = server.send(
        "POST",
        "/admin/models/iris/versions?version=tree&activate=false",
        &raw,
        &tree,
    );
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");

    let stop = AtomicBool::new(false);
    let served = AtomicUsize::new(0);
    let last = Mutex::new(String::new());
    let failures = Mutex::new(Vec::new());
    let predictor = || {
        let request =
            head("POST", "/models/iris/predict", &json_headers, SETOSA.len()) + "\r\n" + SETOSA;
        let mut stream: Option<TcpStream> = None;
        while !stop.load(Ordering::SeqCst) {
            let s = stream.get_or_insert_with(|| connect(&server.addr));
            let outcome = s
                .write_all(request.as_bytes())
                .and_then(|()| read_response(s));
            match outcome {
                Ok((200, body)) => {
                    let version: serde_json::Value = serde_json::from_str(&body).expect("JSON");
                    let version = version["version"].as_str().expect("version").to_owned();
                    *last.lock().expect("lock") = version;
                    served.fetch_add(1, Ordering::SeqCst);
                }
                other => {
                    failures.lock().expect("lock").push(format!("{other:?}"));
                    stream = None;
                }
            }
        }
    };
    let wait_for = |what: &dyn Fn() -> bool, goal: &str| {
        let started = Instant::now();
        while !what() {
            assert!(started.elapsed() < PATIENCE, "never saw {goal}");
            std::thread::yield_now();
        }
    };
    // Waits until a prediction was answered by `version`.
    let wait_shows = |version: &str| {
        wait_for(&|| *last.lock().expect("lock") == version, version);
    };
    let admin_call = |method: &str, uri: &str, body: &str| {
        let answer = server.send(method, uri, &json_headers, body.as_bytes());
        assert!(
            answer.starts_with("HTTP/1.1 20"),
            "{method} {uri}: {answer}"
        );
    };
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..3).map(|_| scope.spawn(predictor)).collect();
        wait_for(&|| served.load(Ordering::SeqCst) >= 3, "predictions");
        for cycle in 0..8 {
            admin_call(
                "POST",
                "/admin/models/iris/activate",
                r#"{"version": "tree"}"#,
            );
            wait_shows("tree");
            admin_call(
                "PUT",
                "/admin/models/iris/split",
                r#"{"versions": {"golden": 50, "tree": 50}}"#,
            );
            admin_call("DELETE", "/admin/models/iris/split", "");
            admin_call(
                "POST",
                "/admin/models/iris/activate",
                r#"{"version": "golden"}"#,
            );
            wait_shows("golden");
            let version = format!("tmp{cycle}");
            let answer = server.send(
                "POST",
                &format!("/admin/models/iris/versions?version={version}"),
                &raw,
                &tree,
            );
            assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
            wait_shows(&version);
            admin_call("POST", "/admin/models/iris/rollback", "");
            wait_shows("golden");
            admin_call(
                "DELETE",
                &format!("/admin/models/iris/versions/{version}"),
                "",
            );
        }
        stop.store(true, Ordering::SeqCst);
        for t in threads {
            t.join().expect("predictor");
        }
    });
    let failures = failures.into_inner().expect("lock");
    assert!(
        failures.is_empty(),
        "{} of {} predictions failed: {:?}",
        failures.len(),
        served.load(Ordering::SeqCst) + failures.len(),
        &failures[..failures.len().min(5)]
    );
    server.stop();
}

/// `.tabship-*.tmp` files anywhere under `dir`.
fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                pending.push(path);
            } else if name.starts_with(".tabship-") && name.ends_with(".tmp") {
                found.push(path);
            }
        }
    }
    found
}

fn served_versions(server: &Server, auth: &str) -> BTreeSet<String> {
    let model = json_body(&server.send("GET", "/models/iris", &[("Authorization", auth)], b""));
    version_names(&model).into_iter().collect()
}

/// The audit killed the server 60 times during uploads: every acknowledged version was kept,
/// but 14 temporary files (218 MB) were left. Here: three rounds of uploads in flight, then
/// `kill -9`; after each restart every version acknowledged with a 201 is served and no
/// temporary file is left. Then one invalid field in `state.json` skips only itself.
#[test]
fn kill_9_during_uploads_keeps_every_acknowledged_version() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (keys, admin, _) = keys(dir.path());
    let state = dir.path().join("state");
    let model = testdata("golden/iris_logistic.tabship");
    let args = [
        model.as_str(),
        "--keys",
        path(&keys),
        "--state-dir",
        path(&state),
    ];
    let auth = format!("Bearer {admin}");
    let raw = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/octet-stream"),
    ];
    let tree = std::fs::read(testdata("golden/iris_tree.tabship")).expect("artifact");
    let mut acknowledged = BTreeSet::new();
    for round in 0..3 {
        let server = start(&args);
        let served = served_versions(&server, &auth);
        let lost: Vec<_> = acknowledged.difference(&served).collect();
        assert!(lost.is_empty(), "round {round}: lost {lost:?}");
        assert_eq!(temporaries(&state), Vec::<PathBuf>::new(), "round {round}");

        let addr = server.addr.clone();
        let acked = Mutex::new(Vec::new());
        let killed = AtomicBool::new(false);
        let uploader = |worker: usize| {
            for n in 0.. {
                if killed.load(Ordering::SeqCst) {
                    break;
                }
                let version = format!("r{round}w{worker}n{n}");
                let activate = n % 2 == 0;
                let uri =
                    format!("/admin/models/iris/versions?version={version}&activate={activate}");
                let request = head("POST", &uri, &raw, tree.len()) + "\r\n";
                let mut stream = match TcpStream::connect(&addr) {
                    Ok(s) => s,
                    Err(_) => break,
                };
                let _ = stream.set_read_timeout(Some(PATIENCE));
                let sent = stream
                    .write_all(request.as_bytes())
                    .and_then(|()| stream.write_all(&tree));
                match sent.and_then(|()| read_response(&mut stream)) {
                    Ok((201, _)) => acked.lock().expect("lock").push(version),
                    Ok((status, body)) => panic!("{version}: {status} {body}"),
                    // The kill.
                    Err(_) => break,
                }
            }
        };
        std::thread::scope(|scope| {
            let threads: Vec<_> = (0..2).map(|w| scope.spawn(move || uploader(w))).collect();
            let started = Instant::now();
            while acked.lock().expect("lock").len() < 2 {
                assert!(started.elapsed() < PATIENCE, "uploads acknowledged");
                std::thread::yield_now();
            }
            // One more upload surely in flight: its headers and half its body are sent.
            let mut half = connect(&addr);
            let request = head(
                "POST",
                "/admin/models/iris/versions?version=half",
                &raw,
                tree.len(),
            );
            half.write_all((request + "\r\n").as_bytes())
                .expect("headers");
            half.write_all(&tree[..tree.len() / 2])
                .expect("half the body");
            killed.store(true, Ordering::SeqCst);
            server.kill();
            for t in threads {
                t.join().expect("uploader");
            }
        });
        // A 201 read before the kill counts: that version was saved.
        acknowledged.extend(acked.into_inner().expect("lock"));
    }

    // One invalid field: an alias that is a number, and a version record whose file is gone.
    let file = state.join("state.json");
    let mut saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).expect("state.json")).expect("JSON");
    let iris = &mut saved["models"]["iris"];
    iris["aliases"]["broken"] = serde_json::json!(12);
    iris["versions"]
        .as_array_mut()
        .expect("versions")
        .push(serde_json::json!({
            "version": "ghost", "origin": "upload",
            "file": "models/iris/ghost.tabship", "checksum": "sha256:00"
        }));
    std::fs::write(&file, serde_json::to_vec(&saved).expect("encode")).expect("write");
    let server = start(&args);
    let served = served_versions(&server, &auth);
    assert!(
        acknowledged.is_subset(&served),
        "{acknowledged:?} not in {served:?}"
    );
    assert!(!served.contains("ghost"));
    assert!(server.get("/health/ready").starts_with("HTTP/1.1 200"));
    let aside = std::fs::read_dir(&state)
        .expect("read dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("state.json.rejected-"))
        .count();
    assert_eq!(aside, 1, "the rejected file is kept aside");
    // The next change saves every kept version: nothing orphaned.
    let answer = server.send(
        "PUT",
        "/admin/models/iris/aliases/stable",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        br#"{"version": "golden"}"#,
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).expect("state.json")).expect("JSON");
    let saved: BTreeSet<String> = saved["models"]["iris"]["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v["version"].as_str().expect("version").to_owned())
        .collect();
    assert!(
        acknowledged.is_subset(&saved),
        "{acknowledged:?} not saved: {saved:?}"
    );
    server.stop();
}

/// When whatever reads the server's log goes away (a crashed log shipper, a closed terminal),
/// writing a log line fails. tracing-subscriber then reported the failure with `eprintln!`,
/// which panics on a broken stderr: every task that logged died, so requests failed and SIGTERM
/// (logged as it arrives) no longer stopped the server.
#[test]
fn a_closed_log_pipe_neither_breaks_requests_nor_shutdown() {
    let model = testdata("golden/iris_logistic.tabship");
    // Ended by its `Drop` should an assertion fail.
    let mut child = Reaped(spawn_json_logs(serve_command(&[&model])));
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(
        child.0.stderr.take().expect("stderr"),
    ));
    let addr = listening_address(&mut lines);
    wait_ready(&addr);
    // The reader goes away: from now on every log line fails to be written.
    drop(lines);
    let request = request(
        "POST",
        "/predict",
        &[("Content-Type", "application/json")],
        SETOSA.as_bytes(),
    );
    for _ in 0..3 {
        let mut stream = connect(&addr);
        stream.write_all(&request).expect("writes");
        let (status, body) = read_response(&mut stream).expect("answered");
        assert_eq!(status, 200, "{body}");
    }
    signal(&child.0, "-TERM");
    let status = wait_exit(&mut child.0);
    assert!(status.success(), "graceful exit, got {status}");
}

/// A child killed and reaped when dropped, so a failing test still ends it.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
