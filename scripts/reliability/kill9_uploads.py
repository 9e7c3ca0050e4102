#!/usr/bin/env python3
"""`kill -9` during uploads with --state-dir: each round starts the server on the same state
directory, checks that every version acknowledged (201) in earlier rounds is still served and
that no temporary file survived the start, then has uploader threads send versions (a large
forest artifact, trained once by the script, and the small golden tree, activated or not)
until a random number of them were acknowledged, and kills the server with SIGKILL while
uploads are in flight. Prints per round and in total: versions acknowledged, kept, lost,
temporary files the kill left and the start removed.

Usage: scripts/reliability/kill9_uploads.py [--rounds 30] [--uploaders 3] [--seed 1]
"""

import argparse
import json
import random
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from common import GOLDEN, Server, add_key, request, tabship_bin


def big_artifact(tmp, rows=6000, trees=60):
    """A random forest on noisy iris-shaped rows: an artifact of a few MB, so that uploads and
    their saves take long enough to be interrupted."""
    rng = random.Random(7)
    data = Path(tmp) / "noise.csv"
    with data.open("w") as f:
        f.write("sepal_length,sepal_width,petal_length,petal_width,species\n")
        for _ in range(rows):
            values = ",".join(f"{rng.uniform(0, 8):.3f}" for _ in range(4))
            f.write(f"{values},{rng.choice(['setosa', 'versicolor', 'virginica'])}\n")
    out = Path(tmp) / "big.tabship"
    subprocess.run([str(tabship_bin()), "train", str(data), "--target", "species",
                    "--model", "random-forest", "--n-trees", str(trees), "-o", str(out)],
                   check=True, capture_output=True, timeout=600)
    return out.read_bytes()


def temporaries(state):
    """tabship's temporary files (`.tabship-*.tmp`) anywhere under the state directory."""
    return [p for p in state.rglob(".tabship-*.tmp")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--uploaders", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    opts = parser.parse_args()
    rng = random.Random(opts.seed)
    with tempfile.TemporaryDirectory() as tmp:
        keys = Path(tmp) / "keys.toml"
        admin = add_key(keys, "ops", "predict,admin")
        state = Path(tmp) / "state"
        artifacts = [big_artifact(tmp), (GOLDEN / "iris_tree.tabship").read_bytes()]
        print(f"artifacts: {len(artifacts[0]) / 1e6:.1f} MB forest, "
              f"{len(artifacts[1]) / 1e3:.1f} kB tree", flush=True)
        args = [GOLDEN / "iris_logistic.tabship", "--keys", keys, "--state-dir", state]
        headers = {"Authorization": f"Bearer {admin}",
                   "Content-Type": "application/octet-stream"}
        acknowledged = set()
        lost_ever = set()
        totals = { "left": 0, "left_bytes": 0, "after_start": 0, "not_ready": 0}
        for round_ in range(opts.rounds + 1):
            left = temporaries(state) if state.exists() else []
            totals["left"] += len(left)
            totals["left_bytes"] += sum(p.stat().st_size for p in left if p.exists())
            started = time.monotonic()
            server = Server(args)
            start_seconds = time.monotonic() - started
            after_start = temporaries(state)
            totals["after_start"] += len(after_start)
            status, body = request(server.address, "GET", "/models/iris", headers=headers)
            if status != 200:
                raise SystemExit(f"GET /models/iris: {status} {body[:300]!r}")
            served = {v["version"] for v in json.loads(body)["versions"]}
            lost = acknowledged - served
            lost_ever |= lost
            ready = request(server.address, "GET", "/health/ready")[0]
            totals["not_ready"] += ready != 200
            if round_ == opts.rounds:
                print(f"final start: {len(served)} versions served, lost={sorted(lost)}, "
                      f"ready={ready}", flush=True)
                server.stop()
                break
            target = rng.randint(1, 4)
            acked_now = []
            enough = threading.Event()
            lock = threading.Lock()

            def uploader(worker):
                n = 0
                while not enough.is_set():
                    version = f"r{round_}w{worker}n{n}"
                    n += 1
                    activate = "true" if rng.random() < 0.5 else "false"
                    artifact = artifacts[0] if rng.random() < 0.7 else artifacts[1]
                    try:
                        status, _ = request(
                            server.address, "POST",
                            f"/admin/models/iris/versions?version={version}&activate={activate}",
                            artifact, headers, timeout=60)
                    except OSError:
                        return
                    if status == 201:
                        with lock:
                            acked_now.append(version)
                            if len(acked_now) >= target:
                                enough.set()
                    elif status != 429:
                        print(f"  unexpected {status} for {version}", flush=True)

            threads = [threading.Thread(target=uploader, args=(w,), daemon=True)
                       for w in range(opts.uploaders)]
            for t in threads:
                t.start()
            enough.wait(timeout=120)
            # Uploads of the other threads are in flight now; the acknowledged ones were saved.
            with lock:
                acknowledged.update(acked_now)
                server.kill()
            for t in threads:
                t.join(timeout=60)
            # A 201 read just before the kill counts too: that version was saved.
            acknowledged.update(acked_now)
            print(f"round {round_ + 1:>3}: acknowledged {len(acked_now)}, "
                  f"before this start: temporary files left {len(left)}, "
                  f"after it {len(after_start)}, versions lost {len(lost)}, "
                  f"start {start_seconds:.1f} s with {len(served)} versions", flush=True)
        print(f"rounds={opts.rounds} kills={opts.rounds} acknowledged={len(acknowledged)} "
              f"lost={len(lost_ever)} temporary files left by kills={totals['left']} "
              f"({totals['left_bytes'] / 1e6:.1f} MB) left after a start={totals['after_start']} "
              f"starts not ready={totals['not_ready']}")
        if lost_ever or totals["after_start"] or totals["not_ready"]:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
