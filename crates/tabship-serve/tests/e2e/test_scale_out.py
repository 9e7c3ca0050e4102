"""Scale-out: three real `tabship serve` replicas behind a real HAProxy (Debian's), sharing one
model directory, under continuous load from a bounded client.

(a) a new version is written to the shared directory (write, then rename): every replica serves
    it, and the time until the last one does is measured by asking each replica directly; then a
    version uploaded through HAProxy to whichever replica (admin API) is published into the
    directory and reaches every replica the same way;
(b) rolling restart: each replica in turn gets SIGTERM (it drains: /health/ready answers 503 so
    HAProxy's check takes it out), exits 0, is restarted and waits until HAProxy has it back;
(c) SIGKILL of one replica: what HAProxy's health check and `retry-on` give.
Then req/s through HAProxy with 3 replicas and with 1 (two disabled on HAProxy's runtime API).

Asserted: 0 failed requests in (a) (both parts) and (b), convergence within CONVERGE_BOUND
seconds, every answer from a version present at that moment. The table is printed and written to
$TABSHIP_SCALE_OUT_RESULTS (default: the test's tmp dir). HAProxy comes from scripts/e2e.sh
(apt-get install haproxy).
"""

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from conftest import GOLDEN, tabship_bin

WATCH_INTERVAL = 1.0  # --watch-interval: the rescan bound where no change event arrives
DRAIN_SECONDS = 1.0  # --drain-seconds: well over HAProxy's 2 failed checks 100 ms apart
CONVERGE_BOUND = WATCH_INTERVAL + 4.0  # seconds from the rename until every replica serves it
WORKERS = 6  # concurrent client connections
MAX_REQUESTS = 40_000  # over the whole test: the load stops there even if a phase is not over
LOAD_SECONDS = 30.0  # and there
ADMIN_TOKEN = "scale-out-admin-token-0123456789"  # the same on every replica
RECORD = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, check, seconds=20.0):
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds}s waiting for {what}")
        time.sleep(0.02)


def answers(url, path="/health/ready"):
    try:
        return requests.get(url + path, timeout=1).status_code
    except requests.RequestException:
        return None


class Replica:
    def __init__(self, index, model_dir, log_dir):
        self.index = index
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.model_dir = model_dir
        self.log = log_dir / f"replica{index}.log"
        self.process = None

    def start(self):
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [str(tabship_bin()), "serve", "--model-dir", str(self.model_dir),
                 "--host", "127.0.0.1", "--port", str(self.port),
                 "--watch-interval", str(WATCH_INTERVAL), "--drain-seconds", str(DRAIN_SECONDS),
                 "--admin-token", ADMIN_TOKEN, "--threads", "2"],
                stderr=log, stdout=subprocess.DEVNULL,
            )
        wait_for(f"replica {self.index} ready", lambda: answers(self.url) == 200)

    def version(self):
        try:
            r = requests.post(self.url + "/models/iris/predict", json=RECORD, timeout=2)
            return r.json().get("version") if r.status_code == 200 else None
        except requests.RequestException:
            return None

    def stop(self, sig):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            return self.process.wait(timeout=30)
        return None


class HAProxy:
    def __init__(self, replicas, tmp):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.socket = tmp / "haproxy.sock"
        servers = "\n".join(
            f"    server r{r.index} 127.0.0.1:{r.port} check inter 100ms fall 2 rise 1"
            for r in replicas)
        self.config = tmp / "haproxy.cfg"
        self.config.write_text(f"""\
global
    maxconn 512
    stats socket {self.socket} mode 600 level admin
    log stderr format raw local0 info

defaults
    mode http
    log global
    option httplog
    # Keeps the whole (small) request so that `retry-on` can send it again to another replica.
    option http-buffer-request
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    # A check slowed by load on a shared machine is not a dead replica.
    timeout check 2s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout

frontend fe
    bind 127.0.0.1:{self.port}
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk
    http-check send meth GET uri /health/ready ver HTTP/1.1 hdr Host 127.0.0.1
    http-check expect status 200
{servers}
""")
        self.log = tmp / "haproxy.log"
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(["haproxy", "-db", "-f", str(self.config)],
                                            stdout=log, stderr=subprocess.STDOUT)
        wait_for("HAProxy answering", lambda: answers(self.url) == 200)
        wait_for("every replica UP in HAProxy", lambda: self.up() == {0, 1, 2})

    def command(self, text) -> str:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(2)
            s.connect(str(self.socket))
            s.sendall(text.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def up(self):
        """Indexes of the replicas HAProxy routes to."""
        lines = self.command("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        up = set()
        for line in lines[1:]:
            row = dict(zip(header, line.split(",")))
            if row.get("pxname") == "replicas" and row.get("svname", "").startswith("r"):
                if row.get("status", "").startswith("UP"):
                    up.add(int(row["svname"][1:]))
        return up

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class Load:
    """WORKERS threads posting one record each through HAProxy.

    Each answer is tagged with the phase current when its request was sent and the phase current
    when its answer arrived: a request can be sent in one phase and answered by the server in the
    next (a thread descheduled between reading the phase and sending), so a scenario's answers are
    those sent and answered within it; answers that straddle two phases are only checked to be ok."""

    def __init__(self, url):
        self.url = url + "/models/iris/predict"
        self.phase = "warm-up"
        self.results = []  # (phase sent, phase answered, ok, version or error)
        self.lock = threading.Lock()
        self.stop_at = time.monotonic() + LOAD_SECONDS
        self.running = True
        self.threads = [threading.Thread(target=self.work, daemon=True) for _ in range(WORKERS)]
        for t in self.threads:
            t.start()

    def work(self):
        session = requests.Session()
        while self.running and time.monotonic() < self.stop_at:
            with self.lock:
                if len(self.results) >= MAX_REQUESTS:
                    return
                sent = self.phase
            try:
                r = session.post(self.url, json=RECORD, timeout=10)
                outcome = (r.status_code == 200,
                           r.json().get("version") if r.status_code == 200 else
                           f"{r.status_code} {r.text[:200]}")
            except (requests.RequestException, ValueError) as e:
                outcome = (False, f"{type(e).__name__}: {e}")
            with self.lock:
                self.results.append((sent, self.phase) + outcome)

    def start_phase(self, name):
        with self.lock:
            self.phase = name

    def settle(self, phase, count, what):
        """Starts `phase` and waits until `count` more answers arrived."""
        self.start_phase(phase)
        mark = len(self.results)
        wait_for(what, lambda: len(self.results) > mark + count)

    def finish(self):
        self.running = False
        for t in self.threads:
            t.join(timeout=15)

    def summary(self, *phases):
        """Answers sent and answered within `phases`: count, failures, versions."""
        rows = [r for r in self.results if r[0] in phases and r[1] in phases]
        failures = [r[3] for r in rows if not r[2]]
        versions = Counter(r[3] for r in rows if r[2])
        return len(rows), failures, versions

    def straddling_failures(self, *excused):
        """Failed answers sent in one phase and answered in another, outside `excused` phases."""
        return [r for r in self.results if r[0] != r[1] and not r[2]
                and r[0] not in excused and r[1] not in excused]


def throughput(haproxy, seconds=3.0):
    """Requests per second through HAProxy from WORKERS connections for `seconds`."""
    counts = [0] * WORKERS
    failures = [0] * WORKERS
    stop = time.monotonic() + seconds

    def work(i):
        session = requests.Session()
        while time.monotonic() < stop:
            try:
                ok = session.post(haproxy.url + "/models/iris/predict", json=RECORD,
                                  timeout=10).status_code == 200
            except requests.RequestException:
                ok = False
            counts[i] += ok
            failures[i] += not ok

    threads = [threading.Thread(target=work, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 15)
    return sum(counts) / seconds, sum(failures)


def converge(replicas, version, since):
    """Seconds from `since` until every replica, asked directly, serves `version`."""
    pending = set(range(len(replicas)))
    converged = {}
    while pending:
        assert time.monotonic() - since < CONVERGE_BOUND, (
            f"replicas {sorted(pending)} do not serve version {version} {CONVERGE_BOUND}s later")
        for i in sorted(pending):
            if replicas[i].version() == version:
                converged[i] = time.monotonic() - since
                pending.discard(i)
    return max(converged.values())


def publish(path: Path, source: Path):
    """What writers to a shared model directory do: a temporary name, then a rename."""
    tmp = path.with_name(path.name + ".tmp")
    shutil.copyfile(source, tmp)
    os.rename(tmp, path)


def test_three_replicas_behind_haproxy(tmp_path):
    if shutil.which("haproxy") is None:
        pytest.fail("haproxy is not installed: scripts/e2e.sh installs it (apt-get install haproxy)")
    models = tmp_path / "models"
    (models / "iris").mkdir(parents=True)
    publish(models / "iris" / "1.tabship", GOLDEN / "iris_logistic.tabship")
    replicas = [Replica(i, models, tmp_path) for i in range(3)]
    haproxy = None
    load = None
    table = []
    try:
        for r in replicas:
            r.start()
        assert [r.version() for r in replicas] == ["1", "1", "1"]
        haproxy = HAProxy(replicas, tmp_path)
        load = Load(haproxy.url)
        wait_for("the load running", lambda: len(load.results) > 50)

        # (a) a new version lands in the shared directory.
        load.start_phase("a")
        published = time.monotonic()
        publish(models / "iris" / "2.tabship", GOLDEN / "iris_tree.tabship")
        converge_seconds = converge(replicas, "2", published)
        # Some traffic after convergence, all on version 2.
        load.settle("a-after", 100, "traffic after convergence")

        # (a2) an admin upload through the balancer is published into the shared directory.
        load.start_phase("a2")
        uploaded = time.monotonic()
        r = requests.post(
            haproxy.url + "/admin/models/iris/versions?version=3",
            data=(GOLDEN / "iris_logistic.tabship").read_bytes(), timeout=30,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}",
                     "Content-Type": "application/octet-stream"})
        assert r.status_code == 202, r.text
        assert (models / "iris" / "3.tabship").is_file()
        upload_seconds = converge(replicas, "3", uploaded)
        load.settle("a2-after", 100, "traffic after the upload")

        # (b) rolling restart, one replica at a time.
        load.start_phase("b")
        b_started = time.monotonic()
        for r in replicas:
            assert r.stop(signal.SIGTERM) == 0, f"replica {r.index}: a drained SIGTERM exits 0"
            r.start()
            assert r.version() == "3", "a restarted replica serves the directory's newest"
            wait_for(f"replica {r.index} back in HAProxy", lambda: r.index in haproxy.up())
        b_seconds = time.monotonic() - b_started

        # (c) SIGKILL one replica; its health check fails and HAProxy retries elsewhere.
        load.start_phase("c")
        c_started = time.monotonic()
        replicas[0].stop(signal.SIGKILL)
        wait_for("HAProxy marking the killed replica DOWN", lambda: 0 not in haproxy.up())
        c_down = time.monotonic() - c_started
        load.settle("c", 200, "traffic with a replica down")
        load.start_phase("done")
        load.finish()

        for phases, label, seconds in [
            (("a", "a-after"), "new version lands (write+rename)",
             f"every replica serves it {converge_seconds:.3f} s after the rename"),
            (("a2", "a2-after"), "admin upload via HAProxy, published to the directory",
             f"every replica serves it {upload_seconds:.3f} s after the upload began"),
            (("b",), "rolling restart (SIGTERM, drain, restart) x3", f"{b_seconds:.1f} s"),
            (("c",), "SIGKILL one replica", f"marked DOWN {c_down:.3f} s after the kill"),
        ]:
            n, failures, versions = load.summary(*phases)
            table.append((label, n, len(failures), seconds, dict(versions), failures[:3]))
        n_after, failures_after, versions_after = load.summary("a-after")
        _, failures_after2, versions_after2 = load.summary("a2-after")

        # req/s: 3 replicas, then 1 (two disabled on HAProxy's runtime API).
        replicas[0].start()
        wait_for("replica 0 back", lambda: 0 in haproxy.up())
        rps3, fail3 = throughput(haproxy)
        for i in (1, 2):
            haproxy.command(f"disable server replicas/r{i}")
        wait_for("only replica 0 routed", lambda: haproxy.up() == {0})
        rps1, fail1 = throughput(haproxy)
    finally:
        if load is not None:
            load.finish()
        if haproxy is not None:
            haproxy.stop()
        for r in replicas:
            r.stop(signal.SIGKILL)

    lines = ["| scenario | requests | failed | time | versions answered |", "|---|---|---|---|---|"]
    for label, n, failed, seconds, versions, _ in table:
        lines.append(f"| {label} | {n} | {failed} | {seconds} | {versions} |")
    lines.append(f"| throughput, 3 replicas | {int(rps3 * 3)} in 3 s | {fail3} | "
                 f"{rps3:.0f} req/s | |")
    lines.append(f"| throughput, 1 replica | {int(rps1 * 3)} in 3 s | {fail1} | "
                 f"{rps1:.0f} req/s | |")
    report = "\n".join(lines) + f"\n\n({WORKERS} client connections, debug or release binary " \
        f"{tabship_bin()}, --watch-interval {WATCH_INTERVAL}, --drain-seconds {DRAIN_SECONDS})\n"
    results = Path(os.environ.get("TABSHIP_SCALE_OUT_RESULTS", tmp_path / "scale_out.md"))
    results.write_text(report)
    print("\n" + report)

    (a, a2, b, c) = table
    assert a[2] == 0, f"(a) failed requests: {a[5]}"
    assert a2[2] == 0, f"(a2) failed requests: {a2[5]}"
    assert set(a2[4]) <= {"2", "3"}, a2[4]
    assert not failures_after2 and set(versions_after2) == {"3"}, versions_after2
    assert b[2] == 0, f"(b) failed requests: {b[5]}"
    assert set(a[4]) <= {"1", "2"}, a[4]
    assert set(b[4]) == {"3"} and set(c[4]) <= {"3"}, (b[4], c[4])
    assert not failures_after and set(versions_after) == {"2"}, (failures_after, versions_after)
    assert a[1] > 0 and b[1] > 0 and c[1] > 0, "the load ran through every scenario"
    straddling = load.straddling_failures("c", "done")
    assert not straddling, f"requests failed across a phase change: {straddling[:3]}"
    assert fail3 == 0 and fail1 == 0
