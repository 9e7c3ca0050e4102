"""schemathesis against a real `tabship serve`: generated requests for every operation of
/openapi.json (examples, coverage, fuzzing and stateful phases), with and without a token and on
a server without keys. Every answer must be a non-5xx whose status and body the document
declares (checks not_a_server_error, status_code_conformance, response_schema_conformance).

Bounded and reproducible: a fixed seed, no example database, --max-examples per operation (about
2,700 requests per run, ~20 s on two cores).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from conftest import GOLDEN, add_key, start_server, stop_server

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"
MAX_EXAMPLES = 30


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory):
    """A server with keys of its own: the admin calls the fuzzer makes change only it."""
    tmp = tmp_path_factory.mktemp("schemathesis-keys")
    keys = tmp / "keys.toml"
    token = add_key(keys, "fuzz", "predict,feedback,metrics,admin")
    url, process = start_server([
        str(GOLDEN / "iris_logistic.tabship"), str(GOLDEN / "diamonds_ridge.tabship"),
        "--keys", str(keys), "--state-dir", str(tmp / "state")])
    yield url, token
    stop_server(process)


def run_schemathesis(url, tmp_path, token=None):
    # One worker: with two threads, hypothesis's concurrent ast.parse hits CPython 3.11's
    # "AST constructor recursion depth mismatch" SystemError now and then (a CPython thread bug).
    args = [str(SCHEMATHESIS), "run", url + "/openapi.json", "--checks", CHECKS,
            "--max-examples", str(MAX_EXAMPLES), "--seed", "1", "--generation-database", "none",
            "--workers", "1", "--no-color", "--request-timeout", "10"]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for name, value in headers.items():
        args += ["--header", f"{name}: {value}"]
    # Counted before the run: the admin calls the fuzzer makes may load models (new paths).
    doc = requests.get(url + "/openapi.json", headers=headers, timeout=10).json()
    # schemathesis leaves out the operation serving the document it reads.
    operations = sum(len(item) for item in doc["paths"].values()) - 1
    # cwd: schemathesis writes its own state next to where it runs.
    out = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=180,
                         env=dict(os.environ, NO_COLOR="1"))
    summary = re.search(r"(\d+) generated, (\d+) passed", out.stdout)
    report = out.stdout[-6000:] + out.stderr[-2000:]
    assert out.returncode == 0, report
    assert summary, report
    generated, passed = int(summary[1]), int(summary[2])
    assert generated == passed, report
    # A run that reached few operations proves nothing.
    assert f"Tested: {operations}" in out.stdout and generated > 1000, report
    return out.stdout


def test_with_a_token(keyed_server, tmp_path):
    url, token = keyed_server
    run_schemathesis(url, tmp_path, token)


def test_without_a_token(keyed_server, tmp_path):
    url, _ = keyed_server
    out = run_schemathesis(url, tmp_path)
    # Refused with documented 401s, not skipped.
    assert "only 401/403 responses" in out


def test_on_a_server_without_keys(tmp_path):
    url, process = start_server([
        str(GOLDEN / "iris_logistic.tabship"), str(GOLDEN / "diamonds_ridge.tabship")])
    try:
        run_schemathesis(url, tmp_path)
    finally:
        stop_server(process)
