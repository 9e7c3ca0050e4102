"""End-to-end fixtures: the real `tabship` binary on 127.0.0.1 with a free port and a keys file.

Run through `scripts/e2e.sh` (it builds the binary, the pinned .venv and installs Chromium), or
directly: TABSHIP_BIN=target/debug/tabship .venv/bin/python -m pytest crates/tabship-serve/tests/e2e
"""

import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[4]
GOLDEN = REPO / "testdata" / "golden"


def tabship_bin() -> Path:
    path = Path(os.environ.get("TABSHIP_BIN", REPO / "target" / "debug" / "tabship"))
    if not path.is_file():
        pytest.fail(f"no tabship binary at {path}: build it with `cargo build -p tabship-cli`")
    return path


def add_key(keys: Path, username: str, scopes: str) -> str:
    out = subprocess.run(
        [str(tabship_bin()), "keys", "add", "--username", username, "--scopes", scopes,
         "--keys", str(keys)],
        check=True, capture_output=True, text=True, timeout=30,
    )
    return out.stdout.strip()


def typed_record(row, schema, target):
    """A request record from a CSV row: the schema's columns, numbers as numbers, empty cells as
    null (the target left out)."""
    record = {}
    for column in schema["columns"]:
        value = row[column["name"]]
        if value == "":
            record[column["name"]] = None
        elif column["kind"] == "numeric":
            record[column["name"]] = float(value)
        else:
            record[column["name"]] = value
    assert target not in record
    return record


@dataclass
class Server:
    url: str
    token: str
    admin_token: str
    process: subprocess.Popen

    def auth(self, token=None):
        return {"Authorization": f"Bearer {token or self.token}"}


def start_server(args, scheme="http", verify=None):
    """Starts `tabship serve ARGS --port 0 --json-logs`; returns (url, process) once ready."""
    process = subprocess.Popen(
        [str(tabship_bin()), "serve", *args, "--host", "127.0.0.1", "--port", "0", "--json-logs"],
        stderr=subprocess.PIPE, text=True,
    )
    url = None
    deadline = time.monotonic() + 30
    while url is None and time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        event = json.loads(line)
        if event["fields"].get("message") == "listening":
            url = f"{scheme}://" + event["fields"]["address"]
    if url is None:
        process.kill()
        pytest.fail("the server did not start: " + process.stderr.read())
    # Drain the log so the pipe never fills; the lines stay readable as `process.log_lines`.
    process.log_lines = []
    threading.Thread(target=lambda: process.log_lines.extend(process.stderr), daemon=True).start()
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/health/ready", timeout=2, verify=verify).status_code == 200:
                return url, process
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    process.kill()
    pytest.fail("the server never became ready")


def stop_server(process):
    """SIGTERM, then the exit code must be 0 (graceful shutdown)."""
    process.send_signal(signal.SIGTERM)
    try:
        assert process.wait(timeout=15) == 0, "graceful shutdown exits 0"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=15)
        process.stderr.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    keys = tmp / "keys.toml"
    token = add_key(keys, "pedro1", "predict,feedback,metrics")
    admin_token = add_key(keys, "ops", "predict,admin,metrics")
    url, process = start_server([
        str(GOLDEN / "iris_logistic.tabship"), str(GOLDEN / "adult_logistic.tabship"),
        "--keys", str(keys), "--log", str(tmp / "predictions.jsonl")])
    yield Server(url, token, admin_token, process)
    stop_server(process)
