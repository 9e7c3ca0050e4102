"""The operator kit in deploy/ against the real server.

A server with drift profiles gets predictions (one with an unseen category), feedback, a shadow
version and a drift read; then every PromQL expression of the Grafana dashboard and the alert
rules must only name series that its /metrics scrape exposes, with labels those series carry.
promtool (Debian's `prometheus` package, installed by scripts/e2e.sh) checks and unit-tests the
rules and the example scrape config when it is on PATH.
"""

import csv
import json
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import yaml
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from conftest import GOLDEN, REPO, add_key, start_server, stop_server, tabship_bin, typed_record

DEPLOY = REPO / "deploy"
DASHBOARD = DEPLOY / "grafana" / "tabship-dashboard.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
ALERT_TESTS = DEPLOY / "prometheus" / "alerts.test.yml"
SCRAPE_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"

# Labels Prometheus adds to every scraped series, and the series it makes itself per target.
TARGET_LABELS = {"job", "instance"}
SYNTHETIC = {name: set(TARGET_LABELS) for name in
             ("up", "scrape_duration_seconds", "scrape_samples_scraped")}
COUNTER_SUFFIXES = ("_total", "_bucket", "_count", "_sum")


# --- A small PromQL reader: metric selectors, their label matchers, grouping clauses ----------

AGGREGATIONS = {"sum", "avg", "min", "max", "count", "count_values", "stddev", "stdvar", "topk",
                "bottomk", "quantile", "group"}
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}
IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
NUMBER = re.compile(r"(0x[0-9a-fA-F]+|\d+(\.\d*)?([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)")
MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*""\s*,?')


@dataclass
class Selector:
    """One `metric{label="..."}` in an expression, at offset `start` of the cleaned text."""
    metric: str
    labels: set
    start: int


@dataclass
class Grouping:
    """`by (a, b)` and friends; `scope` is the text range whose series must carry the labels."""
    keyword: str
    labels: list
    scope: tuple


@dataclass
class Parsed:
    selectors: list = field(default_factory=list)
    groupings: list = field(default_factory=list)
    functions: list = field(default_factory=list)  # (name, offset of its argument list)


def clean(expr):
    """Blanks string contents and range/subquery brackets, keeping offsets."""
    out, i = [], 0
    while i < len(expr):
        c = expr[i]
        if c in "\"'`":
            end = i + 1
            while end < len(expr) and expr[end] != c:
                end += 2 if expr[end] == "\\" else 1
            if end >= len(expr):
                raise ValueError(f"unterminated string in `{expr}`")
            out.append(c + c + " " * (end - i - 1))
            i = end + 1
        elif c == "[":
            end = expr.index("]", i)
            out.append(" " * (end - i + 1))
            i = end + 1
        elif c == "#":  # comment to the end of the line
            end = expr.find("\n", i)
            end = len(expr) if end < 0 else end
            out.append(" " * (end - i))
            i = end
        else:
            out.append(c)
            i += 1
    return "".join(out)


def matching(text, open_at):
    """Offset of the bracket closing the one at `open_at`."""
    pairs = {"(": ")", "{": "}"}
    opener, closer, depth = text[open_at], pairs[text[open_at]], 0
    for i in range(open_at, len(text)):
        depth += {opener: 1, closer: -1}.get(text[i], 0)
        if depth == 0:
            return i
    raise ValueError(f"unbalanced `{opener}` in `{text}`")


def next_char(text, i):
    while i < len(text) and text[i].isspace():
        i += 1
    return (text[i], i) if i < len(text) else ("", i)


def parse_promql(expr):
    text = clean(expr)
    parsed, i, previous = Parsed(), 0, ""
    while i < len(text):
        c = text[i]
        if c.isspace() or c in "()+-*/%^=!<>,":
            if not c.isspace():
                previous = c
            i += 1
            continue
        if c == '"':  # a blanked string literal
            i += 2
            while i < len(text) and text[i] == " ":
                i += 1
            previous = '"'
            continue
        number = NUMBER.match(text, i)
        if number and not IDENT.match(text, i):
            i, previous = number.end(), "0"
            continue
        ident = IDENT.match(text, i)
        if not ident:
            raise ValueError(f"cannot read `{expr}` at `{text[i:i + 20]}`")
        word, after = ident.group(), ident.end()
        nxt, nxt_at = next_char(text, after)
        if word in GROUPING:
            labels = []
            if nxt == "(":
                close = matching(text, nxt_at)
                labels = [x.strip() for x in text[nxt_at + 1:close].split(",") if x.strip()]
                after = close + 1
            if word in ("by", "without"):
                follow, follow_at = next_char(text, after)
                if previous not in AGGREGATIONS or follow != "(":
                    raise ValueError(f"write `{word}` right after the aggregation, before its "
                                     f"argument (`sum by (l) (x)`): `{expr}`")
                scope = (follow_at, matching(text, follow_at))
            else:
                scope = (0, len(text))
            parsed.groupings.append(Grouping(word, labels, scope))
            i, previous = after, word
            continue
        if word in AGGREGATIONS and nxt in ("(", "b", "w"):
            i, previous = after, word
            continue
        if word in KEYWORDS:
            i, previous = after, word
            continue
        if nxt == "(":
            parsed.functions.append((word, nxt_at))
            i, previous = after, word
            continue
        labels = set()
        if nxt == "{":
            close = matching(text, nxt_at)
            body, pos = text[nxt_at + 1:close], 0
            while body[pos:].strip():
                m = MATCHER.match(body, pos)
                if not m:
                    raise ValueError(f"cannot read the matchers of `{expr}`: `{body[pos:]}`")
                labels.add(m.group(1))
                pos = m.end()
            after = close + 1
        parsed.selectors.append(Selector(word, labels, i))
        i, previous = after, "metric"
    return parsed


# --- The series a scrape exposes ----------------------------------------------------------------

def exposed_series(text):
    """{sample name: (family type, label names)} from an OpenMetrics scrape."""
    series = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name = sample.name
            _, labels = series.get(name, (family.type, set()))
            series[name] = (family.type, labels | set(sample.labels))
    return series


def problems(expr, series, where):
    """Everything in `expr` that the scrape does not back, as readable strings."""
    try:
        parsed = parse_promql(expr)
    except ValueError as e:
        return [f"{where}: {e}"]
    found = []
    known = {name: (kind, labels | TARGET_LABELS) for name, (kind, labels) in series.items()}
    known.update({name: ("gauge", labels) for name, labels in SYNTHETIC.items()})
    if not parsed.selectors:
        found.append(f"{where}: no metric in `{expr}`")
    for s in parsed.selectors:
        if s.metric not in known:
            found.append(f"{where}: metric `{s.metric}` is not in the scrape")
            continue
        missing = s.labels - known[s.metric][1]
        if missing:
            found.append(f"{where}: `{s.metric}` has no label {sorted(missing)}")
    text = clean(expr)
    for g in parsed.groupings:
        inside = [s for s in parsed.selectors if g.scope[0] <= s.start <= g.scope[1]
                  and s.metric in known]
        for label in g.labels:
            lacking = [s.metric for s in inside if label not in known[s.metric][1]]
            if not inside:
                found.append(f"{where}: `{g.keyword} ({label})` over no known series")
            elif lacking:
                found.append(f"{where}: `{g.keyword} ({label})` but {lacking} lack that label")
    for name, args_at in parsed.functions:
        if name in ("rate", "increase", "irate"):
            close = matching(text, args_at)
            for s in parsed.selectors:
                if args_at < s.start < close and s.metric in known:
                    counter_like = s.metric.endswith(COUNTER_SUFFIXES) and \
                        known[s.metric][0] in ("counter", "histogram")
                    if not counter_like:
                        found.append(f"{where}: {name}() over `{s.metric}`, which is not a counter")
        if name == "histogram_quantile":
            close = matching(text, args_at)
            inner = [s.metric for s in parsed.selectors if args_at < s.start < close]
            if not inner or not all(m.endswith("_bucket") for m in inner):
                found.append(f"{where}: histogram_quantile() over {inner}, not `_bucket` series")
    return found


# --- The deploy files ---------------------------------------------------------------------------

def dashboard():
    return json.loads(DASHBOARD.read_text())


def all_panels(board):
    for p in board["panels"]:
        yield p
        yield from p.get("panels", [])


def dashboard_queries(board):
    """(where, expr, legend) for every panel target and every query variable."""
    for p in all_panels(board):
        for t in p.get("targets", []):
            where = f"panel {p['id']} `{p['title']}` {t['refId']}"
            yield where, t["expr"], t.get("legendFormat", "")
    for v in board["templating"]["list"]:
        if v["type"] != "query":
            continue
        q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        m = re.fullmatch(r"label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\)", q.strip())
        assert m, f"variable `{v['name']}`: expected label_values(selector, label), got `{q}`"
        yield f"variable `{v['name']}`", f"max by ({m.group(2)}) ({m.group(1)})", ""


def alert_rules():
    doc = yaml.safe_load(ALERTS.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def legend_problems(expr, legend, series, where):
    parsed = parse_promql(expr)
    labels = set(TARGET_LABELS)
    for s in parsed.selectors:
        labels |= series.get(s.metric, (None, set()))[1]
    outer = [g for g in parsed.groupings if g.keyword == "by"]
    if outer:  # after aggregation only the grouping labels survive
        labels &= set().union(*(set(g.labels) for g in outer))
    return [f"{where}: legend uses `{{{{{x}}}}}`, which the result does not carry"
            for x in re.findall(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}", legend)
            if x not in labels]


# --- The server ---------------------------------------------------------------------------------

def read_csv(name):
    with open(GOLDEN / name, newline="") as f:
        return list(csv.DictReader(f))


@dataclass
class Live:
    url: str
    token: str
    scrape: str


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A server that has seen every kind of traffic the kit watches, and its /metrics text."""
    tmp = tmp_path_factory.mktemp("ops")
    keys = tmp / "keys.toml"
    token = add_key(keys, "ops", "predict,feedback,admin,metrics")
    auth = {"Authorization": f"Bearer {token}"}
    url, process = start_server([
        str(GOLDEN / "adult_logistic_profile.tabship"),
        str(GOLDEN / "diamonds_forest_profile.tabship"),
        "--keys", str(keys), "--log", str(tmp / "predictions.jsonl"),
        # The lifecycle alerts' series: the age limit, and a retraining action run below.
        "--max-model-age", "3650d", "--retrain-command", "true",
        # The A/B experiment's series: a split of diamonds-forest below, its test started after
        # a few labels per arm.
        "--experiment-min-labels", "3"])
    try:
        adult = requests.get(url + "/models/adult", headers=auth, timeout=10).json()
        # A second version (the forest) scored in the shadow of the logistic one.
        r = requests.post(url + "/admin/models/adult/versions", headers=auth, timeout=30,
                          json={"path": str(GOLDEN / "adult_forest.tabship"), "version": "2",
                                "activate": False})
        assert r.status_code == 201, r.text
        r = requests.put(url + "/admin/models/adult/shadow", json={"version": "2"}, headers=auth,
                         timeout=10)
        assert r.status_code == 200, r.text
        logistic = read_csv("adult_logistic.expected.csv")
        forest = read_csv("adult_forest.expected.csv")
        assert any(a["prediction"] != b["prediction"] for a, b in zip(logistic, forest)), \
            "the golden rows must contain a shadow disagreement"
        for row in read_csv("adult_inputs.csv"):
            record = typed_record(row, adult["schema"], "income")
            r = requests.post(url + "/models/adult/predict", json=record, headers=auth, timeout=10)
            assert r.status_code == 200, r.text
            r = requests.post(url + "/feedback", headers=auth, timeout=10,
                              json={"request_id": r.json()["request_id"], "label": row["income"]})
            assert r.status_code == 200, r.text
        unseen = dict(adult["example"], workclass="Space-force")
        assert requests.post(url + "/predict", json=unseen, headers=auth, timeout=10).ok
        diamonds = requests.get(url + "/models/diamonds-forest", headers=auth, timeout=10).json()
        # The same artifact again as version 2, in a 50/50 split with the current version: the
        # live experiment (a regressor's: the MAE test) runs on the feedback below.
        r = requests.post(url + "/admin/models/diamonds-forest/versions", headers=auth,
                          timeout=30, json={"path": str(GOLDEN / "diamonds_forest_profile.tabship"),
                                            "version": "2", "activate": False})
        assert r.status_code == 201, r.text
        r = requests.put(url + "/admin/models/diamonds-forest/split", headers=auth, timeout=10,
                         json={"versions": {diamonds["current_version"]: 50, "2": 50}})
        assert r.status_code == 200, r.text
        for i, row in enumerate(read_csv("diamonds_inputs.csv")[:20]):
            record = typed_record(row, diamonds["schema"], "price")
            r = requests.post(url + "/models/diamonds-forest/predict", json=record,
                              headers={**auth, "X-Routing-Key": f"user-{i}"}, timeout=10)
            assert r.status_code == 200, r.text
            r = requests.post(url + "/feedback", headers=auth, timeout=10,
                              json={"request_id": r.json()["request_id"],
                                    "label": float(row["price"])})
            assert r.status_code == 200, r.text
        assert requests.get(url + "/models/adult/drift", headers=auth, timeout=10).ok
        assert requests.post(url + "/predict", json={"age": "old"}, headers=auth,
                             timeout=10).status_code == 400
        alert = {"alerts": [{"status": "firing",
                             "labels": {"alertname": "TabshipModelStale", "model": "adult"}}]}
        r = requests.post(url + "/admin/alerts", json=alert, headers=auth, timeout=10)
        assert r.status_code == 200 and r.json()["triggered"], r.text
        deadline = time.monotonic() + 60
        while "tabship_retrain_actions_total{" not in (
                text := requests.get(url + "/metrics", headers=auth, timeout=10).text):
            assert time.monotonic() < deadline, "the retraining command did not finish"
            time.sleep(0.05)
        yield Live(url, token, text)
    finally:
        stop_server(process)


@pytest.fixture(scope="module")
def scrape(live):
    return live.scrape


# --- Tests --------------------------------------------------------------------------------------

def test_the_scrape_has_the_traffic_the_kit_watches(scrape):
    series = exposed_series(scrape)
    for name in ("tabship_shadow_disagreements_total", "tabship_live_mae",
                 "tabship_live_accuracy", "tabship_drift_value", "tabship_unknown_values_total",
                 "tabship_experiment_interval_low", "tabship_experiment_verdict"):
        assert name in series, name
    unknown = [s for f in text_string_to_metric_families(scrape) for s in f.samples
               if s.name == "tabship_unknown_values_total" and s.labels["column"] == "workclass"]
    assert unknown and unknown[0].value >= 1


def test_dashboard_queries_match_the_scrape(scrape):
    series = exposed_series(scrape)
    found, count = [], 0
    for where, expr, legend in dashboard_queries(dashboard()):
        count += 1
        found += problems(expr, series, where)
        found += legend_problems(expr, legend, series, where)
    assert count >= 30
    assert not found, "\n".join(found)


def test_alert_rules_match_the_scrape(scrape):
    series = exposed_series(scrape)
    rules = alert_rules()
    names = {r["alert"] for r in rules}
    for wanted in ("TabshipHigh5xxRatio", "TabshipHighP99Latency", "TabshipScrapeDown",
                   "TabshipNotReady", "TabshipDatasetDrift", "TabshipConceptDrift",
                   "TabshipUnknownCategorySpike", "TabshipPredictionLogDrops"):
        assert wanted in names, wanted
    found = []
    docs = (REPO / "docs" / "operations.md").read_text()
    for rule in rules:
        found += problems(rule["expr"], series, f"alert {rule['alert']}")
        assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
        assert "for" in rule, f"{rule['alert']} needs a `for:` duration"
        for key in ("summary", "description", "runbook"):
            assert rule["annotations"].get(key), f"{rule['alert']} lacks `{key}`"
        anchor = rule["annotations"]["runbook"].split("#", 1)[1]
        assert anchor == rule["alert"].lower()
        assert f"### {rule['alert']}" in docs, f"no runbook entry for {rule['alert']}"
    assert not found, "\n".join(found)


def test_the_checker_catches_mistakes(scrape):
    """The checks above can fail: each broken expression is reported."""
    series = exposed_series(scrape)
    good = 'sum by (route) (rate(tabship_http_requests_total{status=~"5.."}[5m]))'
    assert problems(good, series, "x") == []
    broken = [
        'sum by (route) (rate(tabship_http_request_total[5m]))',         # misspelt metric
        'sum by (route) (rate(tabship_http_requests[5m]))',              # counter without _total
        'rate(tabship_predictions_total{colum="age"}[5m])',             # misspelt label
        'sum by (model) (rate(tabship_http_requests_total[5m]))',        # label the metric lacks
        'histogram_quantile(0.99, rate(tabship_http_request_duration_seconds_sum[5m]))',
        'rate(tabship_live_accuracy[5m])',                               # rate of a gauge
        'tabship_predictions_bucket',                                    # not a histogram
        'sum by (model) (tabship_live_f1) / on (route) tabship_live_mae',
    ]
    for expr in broken:
        assert problems(expr, series, "x"), expr
    assert legend_problems('sum by (model) (tabship_live_f1)', "{{version}}", series, "x")


def test_dashboard_structure():
    board = dashboard()
    assert 36 <= board["schemaVersion"] <= 41
    assert [i["name"] for i in board["__inputs"]] == ["DS_PROMETHEUS"]
    assert board["__inputs"][0]["pluginId"] == "prometheus"
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert {"model", "version"} <= set(variables)
    assert "label_values(" in variables["version"]["query"]["query"]
    assert "$model" in variables["version"]["query"]["query"]
    ids, titles, cells = set(), set(), {}
    panels = list(all_panels(board))
    for p in panels:
        assert p["id"] not in ids, f"duplicate panel id {p['id']}"
        ids.add(p["id"])
        box = p["gridPos"]
        assert box["x"] + box["w"] <= 24, p["title"]
        for x in range(box["x"], box["x"] + box["w"]):
            for y in range(box["y"], box["y"] + box["h"]):
                assert (x, y) not in cells, f"`{p['title']}` overlaps `{cells[(x, y)]}`"
                cells[(x, y)] = p["title"]
        if p["type"] == "row":
            continue
        assert p["title"] not in titles, f"duplicate title {p['title']}"
        titles.add(p["title"])
        assert p["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}, p["title"]
        assert p["targets"], f"`{p['title']}` has no query"
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs)), p["title"]
        for t in p["targets"]:
            assert t["expr"].strip() and t["datasource"] == p["datasource"], p["title"]
    # The variables must filter: every model-level series in a panel is selected by $model.
    for where, expr, _ in dashboard_queries(board):
        if where.startswith("variable"):
            continue
        for s in parse_promql(expr).selectors:
            assert "instance" in s.labels, f"{where}: `{s.metric}` ignores $instance"
            if s.metric.startswith(("tabship_http", "tabship_build", "tabship_prediction_log")):
                continue
            if s.metric.startswith("tabship_experiment_"):
                # An experiment is between two versions (labels champion and challenger): one
                # $version cannot select it; $model does.
                assert "model" in s.labels, f"{where}: `{s.metric}` ignores $model"
                continue
            assert {"model", "version"} <= s.labels, \
                f"{where}: `{s.metric}` ignores $model/$version"


def test_panels_cover_the_brief():
    exprs = " ".join(e for _, e, _ in dashboard_queries(dashboard()))
    for metric in ("tabship_http_requests_total", "tabship_http_request_duration_seconds_bucket",
                   "tabship_http_requests_in_flight", "tabship_predictions_total",
                   "tabship_unknown_values_total", "tabship_other_values_total",
                   "tabship_missing_values_total", "tabship_drift_value",
                   "tabship_drift_detected", "tabship_drift_share", "tabship_dataset_drift",
                   "tabship_live_accuracy", "tabship_live_f1", "tabship_live_mae",
                   "tabship_concept_drift_state", "tabship_model_load_seconds",
                   "tabship_build_info", "tabship_shadow_disagreements_total"):
        assert metric in exprs, metric
    for q in ("0.5", "0.95", "0.99"):
        assert f"histogram_quantile({q}," in exprs


def promtool():
    path = shutil.which("promtool")
    if path is None:
        pytest.skip("promtool not on PATH (Debian package `prometheus`; scripts/e2e.sh installs "
                    "it): rules not checked by promtool, the metric-name checks still ran")
    return path


def test_promtool_checks_the_rules():
    out = subprocess.run([promtool(), "check", "rules", str(ALERTS)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def test_promtool_unit_tests_of_the_alerts():
    out = subprocess.run([promtool(), "test", "rules", ALERT_TESTS.name], cwd=ALERT_TESTS.parent,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout + out.stderr


def test_promtool_checks_the_scrape_config(tmp_path):
    tool = promtool()
    token = tmp_path / "tabship.token"
    token.write_text("tsk_placeholder\n")
    config = SCRAPE_CONFIG.read_text().replace("/etc/prometheus/tabship.token", str(token))
    assert str(token) in config, "prometheus.yml reads the token from a credentials_file"
    (tmp_path / "prometheus.yml").write_text(config)
    shutil.copy(ALERTS, tmp_path / "alerts.yml")
    out = subprocess.run([tool, "check", "config", str(tmp_path / "prometheus.yml")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    doc = yaml.safe_load(config)
    job = next(j for j in doc["scrape_configs"] if j["job_name"] == "tabship")
    assert job["metrics_path"] == "/metrics" and job["authorization"]["type"] == "Bearer"


def test_systemd_unit_verifies(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not on PATH: deploy/systemd/tabship.service not verified")
    unit = (DEPLOY / "systemd" / "tabship.service").read_text()
    assert "DynamicUser=yes" in unit and "ProtectSystem=strict" in unit
    # verify needs the binary to exist: point ExecStart at the one under test.
    unit = unit.replace("/usr/local/bin/tabship", str(tabship_bin()))
    (tmp_path / "tabship.service").write_text(unit)
    out = subprocess.run([analyze, "verify", str(tmp_path / "tabship.service")],
                         capture_output=True, text=True, timeout=60)
    # Unknown or misspelt keys are only warnings: any output is a failure here.
    assert out.returncode == 0 and not (out.stdout + out.stderr).strip(), out.stdout + out.stderr


def documented_deploy_commands():
    """The curl commands of docs/operations.md's "Deploying a new version", in order."""
    docs = (REPO / "docs" / "operations.md").read_text()
    section = docs.split("## Deploying a new version", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.split("  #", 1)[0].strip()
            if line.startswith("curl "):
                commands.append(line)
    return commands


def test_documented_deployment_runs(tmp_path):
    """Every curl command of the deployment walkthrough, run as written against a real server."""
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl not on PATH: the documented commands were not run")
    commands = documented_deploy_commands()
    assert len(commands) >= 14, commands
    keys = tmp_path / "keys.toml"
    admin = add_key(keys, "deployer", "admin,predict")
    url, process = start_server([str(GOLDEN / "iris_logistic.tabship"), "--keys", str(keys)])
    auth = {"Authorization": f"Bearer {admin}"}
    try:
        # The walkthrough's starting point: model `churn` with versions 6 and 7, 7 current.
        for version in ("6", "7"):
            r = requests.post(url + "/admin/models/churn/versions", headers=auth, timeout=30,
                              json={"path": str(GOLDEN / "adult_logistic.tabship"),
                                    "version": version})
            assert r.status_code == 201, r.text
        churn = requests.get(url + "/models/churn", headers=auth, timeout=10).json()
        (tmp_path / "record.json").write_text(json.dumps(churn["example"]))
        shutil.copy(GOLDEN / "adult_forest.tabship", tmp_path / "churn-0008.tabship")
        env = {"PATH": "/usr/bin:/bin", "URL": url, "ADMIN": f"Authorization: Bearer {admin}",
               "TOKEN": admin}
        # The upload is the documented alternative to loading by path (version 8 exists by
        # then), and the walkthrough never creates the `staging` alias it shows deleting.
        expected = {"-F version=8": 409, "aliases/staging": 404}
        for command in commands:
            command = command.replace("/var/lib/tabship/models/churn-0008.tabship",
                                      str(tmp_path / "churn-0008.tabship"))
            assert command.startswith("curl -s ")
            command = command.replace("curl -s ", "curl -s -o body.json -w '%{http_code}' ", 1)
            out = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env,
                                 capture_output=True, text=True, timeout=30)
            status = int(out.stdout)
            want = next((s for k, s in expected.items() if k in command), None)
            body = (tmp_path / "body.json").read_text()
            if want is None:
                assert 200 <= status < 300, f"{command}\n{status} {body}"
            else:
                assert status == want, f"{command}\n{status} {body}"
        final = requests.get(url + "/models/churn", headers=auth, timeout=10).json()
        assert final["current_version"] == "7"
        assert sorted(v["version"] for v in final["versions"]) == ["7", "8"]
        assert final["history"] == []  # 6 was unloaded, so it left the history too
        assert final["aliases"] == {"production": "7"}
        assert final["split"] is None and final["shadow"] is None
    finally:
        stop_server(process)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def grafana_to_promql(expr):
    """A dashboard query as Grafana sends it with every variable on "All"."""
    expr = expr.replace("$__rate_interval", "10s")
    return re.sub(r"\$\{?(instance|model|version|route)\}?", ".*", expr)


def test_prometheus_evaluates_every_query(live, tmp_path):
    """A real Prometheus scrapes the server; every dashboard query and alert expression runs
    without error, and every dashboard query returns series."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus not on PATH (Debian package `prometheus`): queries not evaluated")
    (tmp_path / "token").write_text(live.token + "\n")
    host = live.url.split("://", 1)[1]
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [{
            "job_name": "tabship", "metrics_path": "/metrics",
            "authorization": {"type": "Bearer", "credentials_file": str(tmp_path / "token")},
            "static_configs": [{"targets": [host]}]}],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    api = f"http://127.0.0.1:{port}/api/v1"
    log = open(tmp_path / "prometheus.log", "w")
    process = subprocess.Popen(
        [binary, f"--config.file={tmp_path / 'prometheus.yml'}",
         f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        scrapes = 0
        while time.monotonic() < deadline and scrapes < 4:
            time.sleep(0.5)
            try:
                r = requests.get(api + "/query", timeout=5, params={
                    "query": 'count_over_time(up{job="tabship"}[1m]) and up{job="tabship"} == 1'})
            except requests.ConnectionError:
                continue
            result = r.json()["data"]["result"] if r.ok else []
            scrapes = int(float(result[0]["value"][1])) if result else 0
        assert scrapes >= 4, "prometheus never scraped the server: " + \
            (tmp_path / "prometheus.log").read_text()[-2000:]
        failures, empty = [], []
        for where, expr, _ in dashboard_queries(dashboard()):
            if where.startswith("variable"):
                continue
            r = requests.get(api + "/query", params={"query": grafana_to_promql(expr)}, timeout=10)
            body = r.json()
            if body.get("status") != "success":
                failures.append(f"{where}: {body.get('error')}")
            elif not body["data"]["result"]:
                empty.append(where)
        for rule in alert_rules():
            r = requests.get(api + "/query", params={"query": rule["expr"]}, timeout=10)
            if r.json().get("status") != "success":
                failures.append(f"alert {rule['alert']}: {r.json().get('error')}")
        assert not failures, "\n".join(failures)
        assert not empty, "queries without series:\n" + "\n".join(empty)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=15)
            log.close()
