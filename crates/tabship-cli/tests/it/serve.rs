//! A real `tabship serve` (and `tabship demo`) child: answers, signals (graceful SIGTERM, drain,
//! SIGHUP key reloads), the admin token of a run without keys, and `--state-dir` across restarts.

#![cfg(unix)]

use std::process::Command;

use crate::common::*;

/// The admin token [`spawn_server`] gives servers without keys (`TABSHIP_ADMIN_TOKEN`).
const ADMIN_TOKEN: &str = "tsk_cli_tests_admin_token";

const SETOSA: &str =
    r#"{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}"#;

/// `tabship serve ARGS` whose admin routes take [`ADMIN_TOKEN`], once ready.
fn spawn_server(args: &[&str]) -> Served {
    let mut command = serve_command(args);
    command.env("TABSHIP_ADMIN_TOKEN", ADMIN_TOKEN);
    Served::start(command)
}

/// `method path` with a JSON body and an optional bearer token; the raw answer.
fn send_json(server: &Served, method: &str, path: &str, token: Option<&str>, body: &str) -> String {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = Vec::new();
    if let Some(auth) = &auth {
        headers.push(("Authorization", auth.as_str()));
    }
    headers.push(("Content-Type", "application/json"));
    server.send(method, path, &headers, body.as_bytes())
}

/// `POST /predict` with `body` and an optional bearer token; the raw answer.
fn predict(server: &Served, token: Option<&str>, body: &str) -> String {
    send_json(server, "POST", "/predict", token, body)
}

/// `method path` with a JSON body and [`ADMIN_TOKEN`]; the raw answer.
fn admin(server: &Served, method: &str, path: &str, body: &str) -> String {
    send_json(server, method, path, Some(ADMIN_TOKEN), body)
}

#[test]
fn serve_answers_then_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("predictions.jsonl");
    let mut server = spawn_server(&[
        &testdata("golden/iris_logistic.tabship"),
        "--log",
        path(&log),
    ]);
    let answer = predict(&server, None, SETOSA);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"prediction\":\"setosa\""), "{answer}");
    let status = server.terminate();
    assert!(status.success(), "graceful exit, got {status}");
    let logged = std::fs::read_to_string(&log).expect("prediction log");
    assert!(
        logged.contains("\"prediction\":\"setosa\""),
        "flushed at shutdown: {logged}"
    );
}

#[test]
fn demo_trains_iris_and_serves_the_form() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("out").join("iris.tabship");
    let mut demo = Command::new(env!("CARGO_BIN_EXE_tabship"));
    demo.args(["demo", "--output", path(&model)]);
    let mut server = Served::listen(demo);
    server
        .log
        .wait_until("the printed banner", |line| line.contains("Ctrl-C"));
    let printed = server.log.text();
    let addr = server.addr.clone();
    assert!(printed.contains("trained iris"), "{printed}");
    assert!(printed.contains("admin token   tsk_"), "{printed}");
    assert!(printed.contains(&format!("http://{addr}/ui")), "{printed}");
    assert!(model.exists(), "the artifact is saved");
    let ui = server.get("/ui");
    assert!(ui.starts_with("HTTP/1.1 200"), "{ui}");
    assert!(
        ui.contains("data-column=\"petal_length\""),
        "the form is generated from the schema"
    );
    let body = r#"{"features": [6.7, 3.0, 5.2, 2.3]}"#;
    let answer = server.send("POST", "/predict", &[], body.as_bytes());
    assert!(answer.contains("\"prediction\":\"virginica\""), "{answer}");
    // The demo listens on loopback without keys: a DNS rebinding page (another `Host`) and a
    // cross-site upload are refused.
    let rebound = exchange(
        &addr,
        b"GET /models HTTP/1.1\r\nHost: evil.example:8900\r\nConnection: close\r\n\r\n",
    );
    assert!(rebound.starts_with("HTTP/1.1 421"), "{rebound}");
    assert!(rebound.contains("host_not_allowed"), "{rebound}");
    let cross_site = server.send(
        "POST",
        "/admin/models/iris/rollback",
        &[
            ("Origin", "http://evil.example"),
            ("Content-Type", "text/plain"),
        ],
        b"x",
    );
    assert!(cross_site.starts_with("HTTP/1.1 403"), "{cross_site}");
    assert!(cross_site.contains("cross_origin"), "{cross_site}");
    assert!(server.terminate().success());
}

#[test]
fn serve_without_keys_guards_admin_with_a_token_for_the_run() {
    let mut command = serve_command(&[&testdata("golden/iris_logistic.tabship")]);
    command.env_remove("TABSHIP_ADMIN_TOKEN");
    let mut server = Served::start(command);
    let announced = server.log.find(
        "no keys file: the admin routes need this token for this run (Authorization: Bearer <token>); give --keys for lasting users",
    );
    assert_eq!(announced["level"], "WARN", "{announced}");
    let token = announced["fields"]["admin_token"]
        .as_str()
        .expect("the token is logged")
        .to_owned();
    assert!(token.starts_with("tsk_") && token.len() > 40, "{token}");
    let rollback = |token: Option<&str>| {
        send_json(&server, "POST", "/admin/models/iris/rollback", token, "{}")
    };
    let none = rollback(None);
    assert!(none.starts_with("HTTP/1.1 401"), "{none}");
    assert!(none.contains("printed at start"), "{none}");
    let wrong = rollback(Some("tsk_not_the_token_of_this_run"));
    assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");
    // The right token passes authentication: iris has no earlier version to roll back to.
    let right = rollback(Some(&token));
    assert!(right.starts_with("HTTP/1.1 409"), "{right}");
    // Predictions stay open without keys.
    assert!(predict(&server, None, SETOSA).starts_with("HTTP/1.1 200"));
    assert!(server.terminate().success());

    for (flag, value, expected) in [
        (
            "--admin-token",
            "short",
            "--admin-token must have at least 16 characters",
        ),
        ("--max-uploads", "0", "--max-uploads must be at least 1"),
    ] {
        let out = tabship(&[
            "serve",
            &testdata("golden/iris_logistic.tabship"),
            "--port",
            "0",
            flag,
            value,
        ]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{}", stderr(&out));
    }
}

/// Polls `/health/ready` (for up to a second) until it answers 503; that answer.
fn wait_draining(server: &Served) -> String {
    let draining = (0..100).find_map(|_| {
        let answer = server.get("/health/ready");
        if answer.starts_with("HTTP/1.1 503") {
            Some(answer)
        } else {
            std::thread::sleep(std::time::Duration::from_millis(10));
            None
        }
    });
    draining.expect("readiness turns 503 after SIGTERM")
}

#[test]
fn serve_drains_after_sigterm_before_closing() {
    let mut server = spawn_server(&[
        &testdata("golden/iris_logistic.tabship"),
        "--drain-seconds",
        "2",
    ]);
    let signalled = std::time::Instant::now();
    server.signal("-TERM");
    let draining = wait_draining(&server);
    assert!(draining.contains("draining"), "{draining}");
    let answer = predict(&server, None, SETOSA);
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "still serving while draining: {answer}"
    );
    let status = wait_exit(&mut server.child);
    assert!(status.success(), "graceful exit, got {status}");
    assert!(
        signalled.elapsed() >= std::time::Duration::from_secs(2),
        "stayed up for the drain period"
    );
}

#[test]
fn serve_sigterm_as_soon_as_it_listens_still_exits_gracefully() {
    // The handlers are registered before `listening` is logged: a SIGTERM sent at once must get
    // a graceful exit (status 0, `stopped` logged), never the default action that kills the process.
    for _ in 0..5 {
        let mut server =
            Served::listen(serve_command(&[&testdata("golden/iris_logistic.tabship")]));
        server.log.wait_for("listening");
        server.signal("-TERM");
        server.log.wait_for("stopped");
        let status = wait_exit(&mut server.child);
        assert!(status.success(), "graceful exit, got {status}");
    }
}

#[test]
fn serve_reloads_keys_on_sighup() {
    let dir = tempfile::tempdir().expect("temp dir");
    let keys = dir.path().join("keys.toml");
    let ana = add_key(&keys, "ana", "predict");
    let model = testdata("golden/iris_logistic.tabship");
    let mut server = spawn_server(&[&model, "--keys", path(&keys)]);
    assert!(predict(&server, Some(&ana), SETOSA).starts_with("HTTP/1.1 200"));

    // Add bo and revoke ana in the file: nothing changes until SIGHUP.
    let bo = add_key(&keys, "bo", "predict");
    let text = std::fs::read_to_string(&keys).expect("keys file");
    let kept: Vec<&str> = text
        .split("\n\n")
        .filter(|block| !block.contains("\"ana\""))
        .collect();
    std::fs::write(&keys, kept.join("\n\n")).expect("revoke ana");
    assert!(predict(&server, Some(&bo), SETOSA).starts_with("HTTP/1.1 401"));
    server.signal("-HUP");
    let logged = server.log.wait_for("keys reloaded");
    assert_eq!(logged["fields"]["keys"], 1, "{logged}");
    let answer = predict(&server, Some(&bo), SETOSA);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"username\":\"bo\""), "{answer}");
    assert!(predict(&server, Some(&ana), SETOSA).starts_with("HTTP/1.1 401"));

    // A broken file is logged and the keys in force stay.
    std::fs::write(&keys, "[[keys]]\nusername = \"bo\"\n").expect("break keys");
    server.signal("-HUP");
    let logged = server
        .log
        .wait_for("keys reload failed; the previous keys stay in force");
    assert_eq!(logged["level"], "ERROR", "{logged}");
    assert!(predict(&server, Some(&bo), SETOSA).starts_with("HTTP/1.1 200"));

    let status = server.terminate();
    assert!(
        status.success(),
        "SIGHUP does not stop the server; got {status}"
    );
}

#[test]
fn serve_state_dir_survives_a_restart_and_skips_a_corrupt_state() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state");
    let model = testdata("golden/iris_logistic.tabship");
    let tree = testdata("golden/iris_tree.tabship");
    let args = [model.as_str(), "--state-dir", path(&state)];

    let mut server = spawn_server(&args);
    let body = format!(r#"{{"path": "{tree}", "version": "2", "activate": false}}"#);
    for (method, route, body, status) in [
        ("POST", "/admin/models/iris/versions", body.as_str(), "201"),
        (
            "PUT",
            "/admin/models/iris/aliases/production",
            r#"{"version": "2"}"#,
            "200",
        ),
        (
            "PUT",
            "/admin/models/iris/split",
            r#"{"versions": {"golden": 70, "2": 30}}"#,
            "200",
        ),
    ] {
        let a = admin(&server, method, route, body);
        assert!(a.starts_with(&format!("HTTP/1.1 {status}")), "{a}");
    }
    assert!(server.terminate().success());

    let mut server = spawn_server(&args);
    let logged = server.log.wait_for("state restored");
    assert_eq!(logged["fields"]["versions"], 1, "{logged}");
    let iris = json_body(&admin(&server, "GET", "/models/iris", ""));
    assert_eq!(iris["aliases"]["production"], "2", "{iris}");
    assert_eq!(iris["split"].as_array().map(Vec::len), Some(2), "{iris}");
    assert_eq!(iris["versions"].as_array().map(Vec::len), Some(2), "{iris}");
    assert!(server.terminate().success());

    std::fs::write(state.join("state.json"), "{ not json").expect("corrupt the state");
    let mut server = spawn_server(&args);
    let logged = server
        .log
        .wait_for("saved state skipped: invalid; serving the command-line models only");
    assert_eq!(logged["level"], "ERROR", "{logged}");
    let iris = json_body(&admin(&server, "GET", "/models/iris", ""));
    assert_eq!(iris["current_version"], "golden", "{iris}");
    assert_eq!(iris["versions"].as_array().map(Vec::len), Some(1), "{iris}");
    assert_eq!(iris["split"], serde_json::Value::Null, "{iris}");
    assert!(server.terminate().success());
}

/// The container image configures `serve` through `TABSHIP_*` variables, so that `docker run
/// IMAGE serve` (how SageMaker starts a container) needs no other argument.
#[test]
fn serve_takes_its_settings_from_the_environment() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        testdata("golden/iris_logistic.tabship"),
        dir.path().join("iris_logistic.tabship"),
    )
    .expect("copy the artifact");
    let mut command = serve_command(&[]);
    command
        .env("TABSHIP_MODEL_DIR", dir.path())
        .env("TABSHIP_HOST", "0.0.0.0")
        .env("TABSHIP_INSECURE_NO_AUTH", "true")
        .env("TABSHIP_DRAIN_SECONDS", "1")
        .env("TABSHIP_ADMIN_TOKEN", ADMIN_TOKEN);
    let mut server = Served::start(command);
    assert!(server.addr.starts_with("0.0.0.0:"), "{}", server.addr);
    let answer = predict(&server, None, SETOSA);
    assert!(answer.contains("\"prediction\":\"setosa\""), "{answer}");
    // TABSHIP_DRAIN_SECONDS: after SIGTERM, still answering, but not ready.
    server.signal("-TERM");
    let draining = wait_draining(&server);
    assert!(draining.contains("draining"), "{draining}");
    let status = wait_exit(&mut server.child);
    assert!(status.success(), "graceful exit, got {status}");
}
