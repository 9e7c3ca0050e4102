#!/usr/bin/env python3
"""Version swaps under prediction load: client threads send predictions on keep-alive
connections while the main thread cycles iris through its versions (activate, an alias move,
a 50/50 split set and cleared, rollback), and once per cycle loads and unloads a throw-away
version. Prints the requests, the failures (anything but 200, or a connection error), the
throughput and latency percentiles, and the swaps done.

Usage: scripts/reliability/swaps_under_load.py [--cycles 100] [--clients 4] [--seconds 60]
"""

import argparse
import json
import socket
import tempfile
import threading
import time
from pathlib import Path

from common import GOLDEN, SETOSA, Server, add_key, percentile, request


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60, help="upper bound on the run")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        keys = Path(tmp) / "keys.toml"
        admin = add_key(keys, "ops", "predict,admin")
        server = Server([GOLDEN / "iris_logistic.tabship", "--keys", keys,
                         "--state-dir", Path(tmp) / "state"])
        auth = {"Authorization": f"Bearer {admin}", "Content-Type": "application/json"}
        raw = {"Authorization": f"Bearer {admin}", "Content-Type": "application/octet-stream"}
        tree = (GOLDEN / "iris_tree.tabship").read_bytes()

        def admin_call(method, path, body):
            status, answer = request(server.address, method, path, json.dumps(body).encode(),
                                     auth)
            if status >= 300:
                raise SystemExit(f"{method} {path}: {status} {answer[:300]!r}")

        status, answer = request(server.address, "POST",
                                 "/admin/models/iris/versions?version=tree&activate=false",
                                 tree, raw)
        assert status == 201, answer
        stop = threading.Event()
        lock = threading.Lock()
        latencies, failures, errors = [], [0], []

        def client():
            sock = None
            mine = []
            while not stop.is_set():
                try:
                    if sock is None:
                        sock = socket.create_connection(server.address, timeout=30)
                    started = time.perf_counter()
                    status, body = request(server.address, "POST", "/models/iris/predict",
                                           SETOSA, {"Authorization": f"Bearer {admin}",
                                                    "Content-Type": "application/json"},
                                           sock=sock)
                    mine.append(time.perf_counter() - started)
                    if status != 200:
                        with lock:
                            failures[0] += 1
                            errors.append(f"{status} {body[:200]!r}")
                except OSError as e:
                    with lock:
                        failures[0] += 1
                        errors.append(repr(e))
                    if sock is not None:
                        sock.close()
                    sock = None
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=client) for _ in range(opts.clients)]
        started = time.monotonic()
        for t in threads:
            t.start()
        swaps = 0
        cycles = 0
        deadline = started + opts.seconds
        while cycles < opts.cycles and time.monotonic() < deadline:
            admin_call("POST", "/admin/models/iris/activate", {"version": "tree"})
            admin_call("PUT", "/admin/models/iris/aliases/production", {"version": "tree"})
            admin_call("PUT", "/admin/models/iris/split", {"versions": {"golden": 50, "tree": 50}})
            admin_call("DELETE", "/admin/models/iris/split", {})
            admin_call("POST", "/admin/models/iris/activate", {"version": "golden"})
            admin_call("PUT", "/admin/models/iris/aliases/production", {"version": "golden"})
            status, answer = request(
                server.address, "POST",
                f"/admin/models/iris/versions?version=tmp{cycles}", tree, raw)
            assert status == 201, answer
            admin_call("POST", "/admin/models/iris/rollback", {})
            admin_call("DELETE", f"/admin/models/iris/versions/tmp{cycles}", {})
            swaps += 7
            cycles += 1
        stop.set()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        server.stop()
        total = len(latencies) + failures[0]
        ms = [x * 1000 for x in latencies]
        print(f"cycles={cycles} routing changes (activate, alias, split set and cleared, "
              f"rollback)={swaps} version loads+unloads={cycles} "
              f"clients={opts.clients} seconds={elapsed:.1f}")
        print(f"requests={total} failed={failures[0]} rate={total / elapsed:.0f}/s "
              f"p50={percentile(ms, 50):.2f} ms p99={percentile(ms, 99):.2f} ms "
              f"max={max(ms):.2f} ms")
        for e in errors[:5]:
            print("  failure:", e)
        if failures[0]:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
