"""The whole loop, end to end, on real drift over time.

testdata/hotel_rates_2016.csv is hotel_rates (R modeldata, MIT; see ../shared/data/README.md)
from July 2016 to January 2017, in arrival order: prices are seasonal (summer ~150, winter ~60),
so a model trained on the summer goes stale in the autumn by itself. The test:

1. trains v1 on July–September with `tabship train`;
2. serves it with the prediction log, a state directory, a retraining trigger on live MAE and
   `--auto-promote`; the retraining command is examples/loop/retrain.py, the documented one;
3. sends October onwards one request per row, each row's true price arriving as feedback
   `LABEL_DELAY` requests later (delayed labels);
4. waits, on conditions only, for: the trigger to fire, the command to export the labels,
   retrain, compare, upload the challenger, shadow it, then split; the sequential test to decide;
   the challenger to be promoted;
5. restarts the server on the same state directory: the promoted version is still current.

Bounded: at most the 5,100 rows of October–January and 150 s. The timeline is printed (and
written to $TABSHIP_LOOP_RESULTS when set).
"""

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from conftest import REPO, start_server, stop_server, tabship_bin, typed_record

DATA = REPO / "testdata" / "hotel_rates_2016.csv"
RETRAIN = REPO / "examples" / "loop" / "retrain.py"
TARGET = "avg_price_per_room"
ADMIN_TOKEN = "tsk_loop_e2e_admin_token"
LABEL_DELAY = 20
DEADLINE_SECONDS = 150


def months(rows, first, last):
    return [r for r in rows if first <= r["arrival_date"][:7] <= last]


def write_csv(path, rows, columns):
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


class Loop:
    def __init__(self, url):
        self.url = url
        self.session = requests.Session()
        self.admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        self.started = time.monotonic()
        self.timeline = []
        self.pending = []
        self.sent = 0

    def at(self, event):
        self.timeline.append((round(time.monotonic() - self.started, 2), self.sent, event))

    def model(self):
        r = self.session.get(self.url + "/models/hotel", timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def send(self, row, schema):
        r = self.session.post(self.url + "/models/hotel/predict", json=typed_record(row, schema, TARGET),
                              timeout=10)
        assert r.status_code == 200, r.text
        self.pending.append((r.json()["request_id"], float(row[TARGET])))
        self.sent += 1
        if len(self.pending) > LABEL_DELAY:
            request_id, truth = self.pending.pop(0)
            r = self.session.post(self.url + "/feedback", timeout=10,
                                  json={"request_id": request_id, "label": truth})
            assert r.status_code == 200, r.text

    def triggered(self):
        text = self.session.get(self.url + "/metrics", timeout=10).text
        return "tabship_retrain_triggers_total{" in text

    def experiment(self):
        return self.session.get(self.url + "/models/hotel/experiment", timeout=10).json()

    def until(self, rows, schema, done, what, watch=None):
        """Sends rows until `done(model json)` holds (checked every 25 requests, when `watch`
        is called too)."""
        for i, row in enumerate(rows):
            assert time.monotonic() - self.started < DEADLINE_SECONDS, f"{what}: out of time"
            self.send(row, schema)
            if i % 25 == 0:
                if watch:
                    watch()
                if done(self.model()):
                    return rows[i + 1:]
        experiment = self.session.get(self.url + "/models/hotel/experiment", timeout=10).text
        raise AssertionError(f"{what}: not reached after {len(rows)} rows; {experiment}")


def test_the_loop(tmp_path):
    with DATA.open(newline="") as f:
        rows = list(csv.DictReader(f))
    # The arrival date, as a date or a number, is left out: a linear model would extrapolate the
    # season's trend into the next months.
    columns = [c for c in rows[0] if c not in ("arrival_date", "arrival_date_num")]
    write_csv(tmp_path / "train.csv", months(rows, "2016-07", "2016-09"), columns)
    v1 = tmp_path / "hotel-1.tabship"
    out = subprocess.run([str(tabship_bin()), "train", str(tmp_path / "train.csv"), "--target",
                          TARGET, "--name", "hotel", "--model-version", "1", "-o", str(v1)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    logs, state, work = tmp_path / "logs", tmp_path / "state", tmp_path / "work"
    logs.mkdir()
    command = (f"TABSHIP='{tabship_bin()}' '{sys.executable}' '{RETRAIN}' "
               f"--logs '{logs}/*.jsonl' --work '{work}' --shadow-rows 50")
    args = [str(v1), "--log", str(logs / "predictions.jsonl"), "--state-dir", str(state),
            "--retrain-above-mae", "25", "--retrain-min-labels", "200",
            "--retrain-check-interval", "200ms", "--retrain-command", command,
            "--auto-promote"]
    os.environ["TABSHIP_ADMIN_TOKEN"] = ADMIN_TOKEN
    try:
        url, process = start_server(args)
    finally:
        del os.environ["TABSHIP_ADMIN_TOKEN"]
    later = months(rows, "2016-10", "2017-01")
    loop = Loop(url)
    try:
        schema = loop.model()["schema"]
        loop.at("v1 serving")

        def trigger_seen():
            if not any("trigger" in e for _, _, e in loop.timeline) and loop.triggered():
                loop.at("trigger fired (live MAE over 25)")

        result = work / "result.json"

        def kept_offline():
            # `tabship compare` may say `keep` on the held-out rows: then nothing is uploaded.
            return result.exists() and json.loads(result.read_text())["offline_verdict"] == "keep"

        later = loop.until(later, schema,
                           lambda m: m["shadow"] is not None or m["split"] or kept_offline(),
                           "the trigger fires and the challenger is shadowed", trigger_seen)
        if not any("trigger" in e for _, _, e in loop.timeline):
            # Fired and acted on between two looks.
            assert loop.triggered(), "the challenger came without a trigger"
            loop.at("trigger fired (live MAE over 25)")
        if kept_offline():
            loop.at("`tabship compare` kept the champion: nothing uploaded")
            expected = "1"
            assert loop.model()["current_version"] == "1"
        else:
            expected = split_and_decide(loop, later, schema, url, work)
    finally:
        stop_server(process)
    finish(loop, args, expected)


def split_and_decide(loop, later, schema, url, work):
    """From the shadow to the split to the sequential test's decision; the version expected
    current."""
    later = loop.until(later, schema, lambda m: m["split"] is not None,
                       "the shadow scores and the split starts")
    loop.at("50/50 split running")
    running = []

    def last_test():
        experiment = loop.experiment()["experiment"]
        if experiment.get("running"):
            running[:] = [experiment]

    later = loop.until(later, schema, lambda m: m["split"] is None,
                       "the sequential test decides", last_test)
    model = loop.model()
    experiment = running[0] if running else {}
    metrics = loop.session.get(url + "/metrics", timeout=10).text
    decisions = [line for line in metrics.splitlines()
                 if line.startswith("tabship_experiment_decisions_total{")
                 and line.endswith(" 1")]
    # One decision, applied: promote makes the challenger current, keep leaves the champion
    # (a sequential test may keep a better challenger: it errs at most at its stated rates).
    assert len(decisions) == 1, decisions
    decision = "promote" if 'decision="promote"' in decisions[0] else "keep"
    expected = "2" if decision == "promote" else "1"
    loop.at(f"decided `{decision}`: current version {model['current_version']} "
            f"(last look at the test: {json.dumps(experiment, sort_keys=True)})")
    assert model["current_version"] == expected, model
    assert sorted(v["version"] for v in model["versions"]) == ["1", "2"]
    assert 'tabship_retrain_triggers_total{model="hotel",reason="mae"} 1' in metrics
    assert 'tabship_retrain_actions_total{model="hotel",action="command",result="ok"} 1' \
        in metrics
    # The challenger's provenance names the champion and the trigger.
    provenance = subprocess.run([str(tabship_bin()), "inspect", str(work / "challenger.tabship")],
                                capture_output=True, text=True, timeout=60).stdout
    assert "retrained from hotel version 1" in provenance, provenance
    assert ": mae (triggered" in provenance, provenance
    return expected


def finish(loop, args, expected):
    """Restarts on the same state directory and prints the timeline."""
    loop.at("restarted on the same state directory")
    url, process = start_server(args)
    try:
        model = requests.get(url + "/models/hotel", timeout=10).json()
        assert model["current_version"] == expected, model
        assert model["split"] is None
        loop.at(f"after restart: version {expected} current, no split")
    finally:
        stop_server(process)
    table = "\n".join(f"{t:7.2f} s  {n:5d} requests  {event}" for t, n, event in loop.timeline)
    print("\nThe loop's timeline:\n" + table)
    if os.environ.get("TABSHIP_LOOP_RESULTS"):
        Path(os.environ["TABSHIP_LOOP_RESULTS"]).write_text(table + "\n")
