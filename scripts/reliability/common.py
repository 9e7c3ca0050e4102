"""Shared helpers of the reliability scripts: the real `tabship` binary on 127.0.0.1, raw HTTP
over loopback sockets, and the server's memory read from /proc/<pid>/status.

Standard library only, so the scripts run with any Python 3.9+ (no .venv needed). Every
network call goes to 127.0.0.1 and has a timeout; every loop is bounded in count or time.
"""

import atexit
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "testdata" / "golden"
SETOSA = (b'{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, '
          b'"petal_width": 0.2}')


def tabship_bin():
    """$TABSHIP_BIN, else the release binary, else the debug one (under $CARGO_TARGET_DIR)."""
    if os.environ.get("TABSHIP_BIN"):
        return Path(os.environ["TABSHIP_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    for profile in ("release", "debug"):
        path = target / profile / "tabship"
        if path.is_file():
            return path
    sys.exit("no tabship binary: build it with `cargo build -p tabship-cli` or set TABSHIP_BIN")


def add_key(keys, username, scopes):
    """`tabship keys add`; returns the printed token."""
    out = subprocess.run(
        [str(tabship_bin()), "keys", "add", "--username", username, "--scopes", scopes,
         "--keys", str(keys)],
        check=True, capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


def memory_kib(pid):
    """(VmRSS, VmHWM) of a process in KiB, from /proc/<pid>/status."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0])
    return fields["VmRSS"], fields["VmHWM"]


def mib(kib):
    return f"{kib / 1024:.1f} MiB"


class Server:
    """`tabship serve ARGS --host 127.0.0.1 --port 0 --json-logs`, ready once constructed."""

    def __init__(self, args, nofile=None, timeout=60):
        def limits():
            if nofile is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.process = subprocess.Popen(
            [str(tabship_bin()), "serve", *map(str, args), "--host", "127.0.0.1", "--port", "0",
             "--json-logs", "--log-level", "info,tabship_serve::access=warn"],
            stderr=subprocess.PIPE, text=True, preexec_fn=limits)
        self.pid = self.process.pid
        # A script that fails half-way must not leave its server running.
        atexit.register(self._end)
        self.logs = []
        deadline = time.monotonic() + timeout
        self.address = None
        while self.address is None and time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            self.logs.append(line)
            event = json.loads(line)
            if event["fields"].get("message") == "listening":
                host, port = event["fields"]["address"].rsplit(":", 1)
                self.address = (host, int(port))
        if self.address is None:
            self.process.kill()
            sys.exit("the server did not start:\n" + "".join(self.logs))
        threading.Thread(target=self._drain, daemon=True).start()
        while time.monotonic() < deadline:
            try:
                if request(self.address, "GET", "/health/ready", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.kill()
        sys.exit("the server never became ready")

    def _end(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def _drain(self):
        for line in self.process.stderr:
            self.logs.append(line)

    def memory(self):
        return memory_kib(self.pid)

    def stop(self):
        """SIGTERM and wait; returns the exit code."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        """SIGKILL (`kill -9`) and reap."""
        self.process.kill()
        self.process.wait(timeout=30)


def request(address, method, path, body=b"", headers=None, timeout=30, sock=None):
    """One HTTP/1.1 request on a new connection (or `sock`, kept open); (status, body bytes)."""
    own = sock is None
    if own:
        sock = socket.create_connection(address, timeout=timeout)
    sock.settimeout(timeout)
    try:
        head = [f"{method} {path} HTTP/1.1", "Host: localhost",
                f"Content-Length: {len(body)}"]
        if own:
            head.append("Connection: close")
        for key, value in (headers or {}).items():
            head.append(f"{key}: {value}")
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        return read_response(sock)
    finally:
        if own:
            sock.close()


def read_response(sock):
    """Reads one response with a Content-Length body (what tabship sends); (status, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before the headers: {data[:200]!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == "content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside the body")
        rest += chunk
    return status, rest[:length]


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def raise_own_nofile(wanted):
    """Lifts this process's soft open-file limit (to hold many client sockets)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
