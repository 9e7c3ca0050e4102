"""The container image, built from the root Dockerfile and run by podman.

`scripts/container-e2e.sh` builds the image (base images substituted through the Dockerfile's build
arguments, see the script) and runs this file with TABSHIP_IMAGE set. Run without it, the test calls
the script with --build-only itself. Skipped only where podman cannot run at all.

Checked: `IMAGE serve` starts from the image's environment alone (port, /models, JSON logs) on a
read-only root filesystem as the non-root user; the classic bearer-token client; /metrics; and a
SIGTERM drain (/health/ready turns 503 `draining`, then exit code 0). The cold start (from
`podman run` to the first 200 of /health/ready) is written to TABSHIP_CONTAINER_REPORT. Then the
image as deploy/kserve's ClusterServingRuntime starts it: its args and env, the model under
/mnt/models, an Open Inference Protocol V2 request and the Prometheus scrape path.
"""

import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests
import yaml

from conftest import GOLDEN, REPO

SETOSA = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
CONTAINERS_CONF = Path(os.environ.get("TABSHIP_CONTAINER_CACHE",
                                      "/var/tmp/tabship-container-e2e")) / "containers.conf"


def podman(*args, timeout=60, check=True):
    """`podman --runtime runc ARGS` with the configuration this sandbox needs."""
    env = dict(os.environ, CONTAINERS_CONF=str(CONTAINERS_CONF))
    return subprocess.run(["podman", "--runtime", "runc", *args], env=env, check=check,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def image():
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed: `scripts/install-tools.sh containers`, then "
                    "`scripts/container-e2e.sh`")
    CONTAINERS_CONF.parent.mkdir(parents=True, exist_ok=True)
    CONTAINERS_CONF.write_text("[containers]\ndefault_ulimits = []\n")
    info = podman("info", check=False)
    if info.returncode != 0:
        pytest.skip("podman cannot run here: " + info.stderr.strip()[-500:])
    name = os.environ.get("TABSHIP_IMAGE")
    if not name:
        out = subprocess.run(["bash", str(REPO / "scripts" / "container-e2e.sh"), "--build-only"],
                             capture_output=True, text=True, timeout=3600)
        if out.returncode != 0:
            pytest.fail("building the image failed:\n" + out.stderr[-4000:])
        name = out.stdout.strip().splitlines()[-1]
    return name


def logs(name):
    """The container's output (the server logs to stderr; podman may hand it back on either)."""
    out = podman("logs", name, check=False)
    return out.stdout + out.stderr


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def ready_status(url):
    try:
        return requests.get(url + "/health/ready", timeout=2).status_code
    except requests.ConnectionError:
        return None


def test_image_serves_drains_and_exits_zero(image, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(GOLDEN / "iris_logistic.tabship", models / "iris_logistic.tabship")
    models.chmod(0o755)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    secrets.chmod(0o777)  # the image's user (uid 10001) writes the keys file here
    token = podman("run", "--rm", "--network=host", "-v", f"{secrets}:/secrets", image,
                   "keys", "add", "--username", "pedro1", "--scopes", "predict,feedback,metrics",
                   "--keys", "/secrets/keys.toml").stdout.strip()
    auth = {"Authorization": f"Bearer {token}"}

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    name = f"tabship-e2e-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    # `IMAGE serve` with nothing else, as SageMaker starts it: the rest comes from the image's
    # environment, only the port (host network) and the keys are set here.
    podman("run", "-d", "--name", name, "--network=host", "--read-only", "--tmpfs", "/tmp",
           "-v", f"{models}:/models:ro", "-v", f"{secrets}:/etc/tabship:ro",
           "-e", "TABSHIP_KEYS=/etc/tabship/keys.toml", "-e", f"TABSHIP_PORT={port}",
           "-e", "TABSHIP_DRAIN_SECONDS=2", image, "serve")
    try:
        def ready():
            state = podman("inspect", "--format", "{{.State.Status}}", name).stdout.strip()
            if state == "exited":
                pytest.fail("the container exited: " + logs(name)[-2000:])
            return ready_status(url) == 200
        wait_until(ready, 60, "/health/ready to answer 200")
        cold_start = time.monotonic() - started

        user = podman("exec", name, "sh", "-c", "id -u").stdout.strip()
        assert user == "10001", "the server runs as the image's non-root user"

        r = requests.post(url + "/predict", json=SETOSA, headers=auth, timeout=10)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["prediction"], body["username"], body["model"]) == ("setosa", "pedro1", "iris")
        assert requests.post(url + "/predict", json=SETOSA, timeout=10).status_code == 401
        f = requests.post(url + "/feedback", json={"request_id": body["request_id"],
                                                   "label": "setosa"}, headers=auth, timeout=10)
        assert f.status_code == 200, f.text

        m = requests.get(url + "/metrics", headers=auth, timeout=10)
        assert m.status_code == 200
        assert 'tabship_predictions_total{model="iris"' in m.text
        assert "tabship_build_info" in m.text

        # The image's logs are JSON lines (TABSHIP_JSON_LOGS=true): what a log shipper reads.
        first = logs(name).splitlines()[0]
        assert "fields" in json.loads(first)

        podman("kill", "--signal", "TERM", name)
        def not_ready():
            status = ready_status(url)
            return status != 200 and (status or "closed")
        drained = wait_until(not_ready, 10, "/health/ready to stop answering 200")
        assert drained == 503, "for --drain-seconds the server answers 503 before closing"
        exit_code = podman("wait", name, timeout=30).stdout.strip()
        assert exit_code == "0", "graceful shutdown exits 0: " + logs(name)[-2000:]
        assert "shutdown signal received" in logs(name)
    finally:
        podman("rm", "-f", name, check=False)

    report = os.environ.get("TABSHIP_CONTAINER_REPORT")
    if report:
        Path(report).write_text(json.dumps({"image": image,
                                            "cold_start_seconds": round(cold_start, 3)}))


def test_image_as_the_kserve_runtime_starts_it(image, tmp_path):
    runtime = yaml.safe_load((REPO / "deploy" / "kserve" / "cluster-serving-runtime.yaml")
                             .read_text())
    container = runtime["spec"]["containers"][0]
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(GOLDEN / "iris_logistic.tabship", models / "iris_logistic.tabship")
    models.chmod(0o755)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = [f"{e['name']}={e['value']}" for e in container["env"]]
    name = f"tabship-kserve-{uuid.uuid4().hex[:8]}"
    # KServe's storage initializer leaves the model in /mnt/models; the port is moved off 8080
    # only because the test shares the host's network.
    podman("run", "-d", "--name", name, "--network=host", "--read-only", "--tmpfs", "/tmp",
           "-v", f"{models}:/mnt/models:ro", *[a for e in env for a in ("-e", e)],
           "-e", f"TABSHIP_PORT={port}", image, *container["args"])
    try:
        probe = container["readinessProbe"]["httpGet"]["path"]

        def ready():
            if podman("inspect", "--format", "{{.State.Status}}", name).stdout.strip() == "exited":
                pytest.fail("the container exited: " + logs(name)[-2000:])
            try:
                return requests.get(url + probe, timeout=2).status_code == 200
            except requests.ConnectionError:
                return False
        wait_until(ready, 60, probe + " to answer 200")

        features = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4,
                    "petal_width": 0.2}
        body = {"inputs": [{"name": k, "shape": [1], "datatype": "FP64", "data": [v]}
                           for k, v in features.items()]}
        r = requests.post(url + "/v2/models/iris/infer", json=body, timeout=10)
        assert r.status_code == 200, r.text
        outputs = {o["name"]: o for o in r.json()["outputs"]}
        assert outputs["label"]["data"] == ["setosa"]

        metrics_path = runtime["spec"]["annotations"]["prometheus.kserve.io/path"]
        assert runtime["spec"]["annotations"]["prometheus.kserve.io/port"] == "8080"
        m = requests.get(url + metrics_path, timeout=10)
        assert m.status_code == 200 and "tabship_predictions_total" in m.text

        podman("kill", "--signal", "TERM", name)
        assert podman("wait", name, timeout=30).stdout.strip() == "0", logs(name)[-2000:]
    finally:
        podman("rm", "-f", name, check=False)
