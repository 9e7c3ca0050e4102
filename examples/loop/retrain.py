#!/usr/bin/env python3
"""The retraining command of "The loop" (docs/operations.md): what `tabship serve
--retrain-command` runs when a trigger fires. Standard library only, so it runs wherever the
server and the `tabship` binary do.

It reads the trigger's JSON payload on stdin, then:

1. `tabship labels export`: the logged requests joined with their feedback labels (every
   replica's log files, rotated ones included) → the next training set, in serving order;
2. `tabship retrain`: the champion (the payload's `source`) refitted with its recorded algorithm
   and options on the older part of those rows (`--holdout` keeps the most recent share apart);
3. `tabship compare`: champion against challenger on the held-out recent rows; `keep` stops here;
4. the challenger is uploaded to the server that ran the command (`TABSHIP_SERVER_URL`) without
   activating it, scored as a **shadow** on live traffic until it has answered `--shadow-rows`
   requests, then put in a 50/50 **split** with the champion: the server's sequential test
   decides, and `--auto-promote` promotes it or ends the split.

Environment: `TABSHIP_SERVER_URL` (set by the server), `TABSHIP_ADMIN_TOKEN` (a token with the
admin scope; `/metrics` must be readable with it or open), `TABSHIP` (the binary, default
`tabship` on PATH). Prints one JSON line describing what it did (the server logs its end), also
written to `WORK/result.json`.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([os.environ.get("TABSHIP", "tabship"), *args], capture_output=True,
                          text=True, timeout=600)


def call(method: str, path: str, body: bytes | None = None,
         content_type: str = "application/json") -> bytes:
    request = urllib.request.Request(os.environ["TABSHIP_SERVER_URL"] + path, data=body,
                                     method=method)
    request.add_header("Authorization", "Bearer " + os.environ["TABSHIP_ADMIN_TOKEN"])
    if body is not None:
        request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def shadow_scored(model: str, version: str) -> float:
    """Requests the shadow version has scored, from /metrics."""
    wanted = f'tabship_shadow_predictions_total{{model="{model}",version="{version}"}}'
    for line in call("GET", "/metrics").decode().splitlines():
        if line.startswith(wanted):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", required=True, help="prediction log files (a glob)")
    parser.add_argument("--work", required=True, type=Path, help="a directory for the files")
    parser.add_argument("--holdout", type=float, default=0.3,
                        help="the most recent share of the labelled rows kept for the comparison")
    parser.add_argument("--shadow-rows", type=int, default=100,
                        help="live requests the shadow scores before the split starts")
    args = parser.parse_args()
    trigger = json.load(sys.stdin)
    model, champion = trigger["model"], trigger["source"]
    args.work.mkdir(parents=True, exist_ok=True)
    done = {"model": model, "champion": trigger["version"], "reason": trigger["reason"]["type"]}

    labelled = args.work / "labelled.csv"
    out = run("labels", "export", "--model", champion, "--log", args.logs, "-o", str(labelled))
    if out.returncode != 0:
        sys.exit(f"labels export failed: {out.stderr.strip()}")
    lines = labelled.read_text().splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    cut = int(len(rows) * (1 - args.holdout))
    (args.work / "fit.csv").write_text(header + "".join(rows[:cut]))
    (args.work / "holdout.csv").write_text(header + "".join(rows[cut:]))
    done["labelled_rows"] = len(rows)

    challenger = args.work / "challenger.tabship"
    out = run("retrain", champion, str(args.work / "fit.csv"), "-o", str(challenger),
              "--reason", f"{trigger['reason']['type']} (triggered at {trigger['triggered_at']})",
              "--json")
    if out.returncode != 0:
        sys.exit(f"retrain failed: {out.stderr.strip()}")
    version = json.loads(out.stdout)["version"]
    done["challenger"] = version

    out = run("compare", champion, str(challenger), str(args.work / "holdout.csv"), "--json")
    if out.returncode not in (0, 3, 4):
        sys.exit(f"compare failed: {out.stderr.strip()}")
    done["offline_verdict"] = json.loads(out.stdout)["verdict"]
    if done["offline_verdict"] == "keep":
        return report(args.work, done)

    call("POST", f"/admin/models/{model}/versions?version={version}&activate=false",
         challenger.read_bytes(), "application/octet-stream")
    call("PUT", f"/admin/models/{model}/shadow", json.dumps({"version": version}).encode())
    deadline = time.monotonic() + 300
    while shadow_scored(model, version) < args.shadow_rows:
        if time.monotonic() > deadline:
            sys.exit(f"the shadow scored fewer than {args.shadow_rows} requests in 300 s")
        time.sleep(0.2)
    call("DELETE", f"/admin/models/{model}/shadow")
    split = {"versions": {trigger["version"]: 50, version: 50}}
    call("PUT", f"/admin/models/{model}/split", json.dumps(split).encode())
    done["split"] = split["versions"]
    return report(args.work, done)


def report(work: Path, done: dict) -> int:
    print(json.dumps(done))
    (work / "result.json").write_text(json.dumps(done) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
