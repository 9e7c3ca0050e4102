"""deploy/kubernetes and deploy/kserve, checked without a cluster (fast; no server).

Kubernetes objects: kubernetes-validate (strict: unknown fields are errors) against the schemas
of Kubernetes K8S_VERSION, then the contracts between the files (shutdown timeline, probes, ports,
selectors, volumes). KServe objects: the CRD schemas of KServe committed in deploy/kserve/schema
(scripts/kserve-schema.py), with unknown fields refused as `kubectl --validate=strict` would, and
the fields KServe's controller relies on for a runtime.
"""

import json
import re
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from conftest import REPO

K8S_VERSION = "1.33.0"
KUBE = REPO / "deploy" / "kubernetes"
KSERVE = REPO / "deploy" / "kserve"


def load(path: Path):
    return yaml.safe_load(path.read_text())


def kube_objects():
    kustomization = load(KUBE / "kustomization.yaml")
    return {name: load(KUBE / name) for name in kustomization["resources"]}


def test_kustomization_lists_every_manifest():
    kustomization = load(KUBE / "kustomization.yaml")
    assert kustomization["kind"] == "Kustomization"
    listed = set(kustomization["resources"])
    present = {p.name for p in KUBE.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present
    assert [i["name"] for i in kustomization["images"]] == ["tabship"]


@pytest.mark.parametrize("name", sorted(kube_objects()))
def test_manifest_is_valid_for_the_named_kubernetes_version(name):
    obj = load(KUBE / name)
    # Raises ValidationError naming the path on any schema violation or unknown field.
    kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def deployment():
    return kube_objects()["deployment.yaml"]


def container():
    return deployment()["spec"]["template"]["spec"]["containers"][0]


def arg_value(args, flag):
    return args[args.index(flag) + 1] if flag in args else None


def test_grace_period_covers_pre_stop_drain_and_the_longest_request():
    pod = deployment()["spec"]["template"]["spec"]
    c = container()
    env = {e["name"]: e.get("value") for e in c["env"]}
    pre_stop = c["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    drain = float(env["TABSHIP_DRAIN_SECONDS"])
    timeout = float(arg_value(c["args"], "--timeout"))
    assert pod["terminationGracePeriodSeconds"] >= float(pre_stop[1]) + drain + timeout
    # The comment at the top of deployment.yaml states the same figures.
    header = (KUBE / "deployment.yaml").read_text()
    assert f"drain {int(drain)} s" in header and f"in-flight ≤ {int(timeout)} s" in header
    assert f"terminationGracePeriodSeconds: {pod['terminationGracePeriodSeconds']}" in header


def test_probes_ports_and_security():
    pod = deployment()["spec"]["template"]["spec"]
    c = container()
    assert c["args"][0] == "serve"
    assert c["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    for probe, path in (("startupProbe", "/health/live"), ("readinessProbe", "/health/ready"),
                        ("livenessProbe", "/health/live")):
        assert c[probe]["httpGet"] == {"path": path, "port": "http"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # the Dockerfile's USER
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert set(c["resources"]) == {"requests", "limits"}
    threads = arg_value(c["args"], "--threads")
    assert threads == c["resources"]["limits"]["cpu"], "worker threads follow the CPU limit"


def test_volumes_keys_and_writable_paths():
    pod = deployment()["spec"]["template"]["spec"]
    c = container()
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    assert {m["name"] for m in c["volumeMounts"]} == set(volumes)
    assert mounts["/models"]["readOnly"] is True
    assert volumes["models"]["persistentVolumeClaim"]["claimName"] == \
        kube_objects()["pvc.yaml"]["metadata"]["name"]
    env = {e["name"]: e.get("value") for e in c["env"]}
    keys_dir = str(Path(env["TABSHIP_KEYS"]).parent)
    assert mounts[keys_dir]["name"] == "keys" and "secret" in volumes["keys"]
    assert "subPath" not in mounts[keys_dir], "a subPath mount never sees Secret updates"
    # With a read-only root, whatever tabship writes must be on an emptyDir.
    log = Path(arg_value(c["args"], "--log"))
    writable = {p for p, m in mounts.items() if "emptyDir" in volumes[m["name"]]}
    assert "/tmp" in writable and str(log.parent) in writable


def test_service_hpa_and_pdb_point_at_the_deployment():
    objs = kube_objects()
    labels = deployment()["spec"]["template"]["metadata"]["labels"]
    assert deployment()["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert objs["service.yaml"]["spec"]["selector"].items() <= labels.items()
    assert objs["service.yaml"]["spec"]["ports"][0]["targetPort"] == "http"
    assert objs["pdb.yaml"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    hpa = objs["hpa.yaml"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": deployment()["metadata"]["name"]}
    assert hpa["spec"]["minReplicas"] > objs["pdb.yaml"]["spec"]["minAvailable"]


# --- the image the manifests run ---

def dockerfile_instructions():
    """(INSTRUCTION, arguments) of the root Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (REPO / "Dockerfile").read_text())
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return [tuple(ln.split(None, 1)) for ln in lines]


def test_dockerfile_matches_what_the_manifests_assume():
    ins = dockerfile_instructions()
    args = dict(a.split("=", 1) for i, a in ins if i == "ARG" and "=" in a)
    assert args["RUST_IMAGE"] == "rust:1-bookworm"
    assert args["RUNTIME_IMAGE"] == "debian:bookworm-slim"
    froms = [a for i, a in ins if i == "FROM"]
    assert froms == ["${RUST_IMAGE} AS builder", "${RUNTIME_IMAGE}"], "multi-stage, bases as ARGs"
    assert ("EXPOSE", "8080") in ins
    assert ("ENTRYPOINT", '["tabship"]') in ins, "exec form, so tabship is PID 1 and gets SIGTERM"
    assert ("CMD", '["serve"]') in ins
    assert ("USER", "${UID}:${UID}") in ins
    uid = int(args["UID"])
    pod = deployment()["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == uid
    runtime = load(KSERVE / "cluster-serving-runtime.yaml")
    assert runtime["spec"]["containers"][0]["securityContext"]["runAsUser"] == uid
    env = dict(kv.split("=", 1) for i, a in ins if i == "ENV" for kv in a.split())
    assert env["TABSHIP_PORT"] == "8080" and env["TABSHIP_MODEL_DIR"] == "/models"
    assert ("VOLUME", '["/models"]') in ins


# --- KServe ---

def kserve_schema(name):
    return json.loads((KSERVE / "schema" / name).read_text())


def unknown_fields(obj, schema, path="$"):
    """Fields the schema does not declare: refused by `kubectl --validate=strict`, silently
    dropped by the API server otherwise (so a typo would go unnoticed)."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    found = []
    if isinstance(obj, dict) and "properties" in schema:
        for key, value in obj.items():
            if key not in schema["properties"]:
                found.append(f"{path}.{key}")
            else:
                found += unknown_fields(value, schema["properties"][key], f"{path}.{key}")
    elif isinstance(obj, list) and "items" in schema:
        for i, value in enumerate(obj):
            found += unknown_fields(value, schema["items"], f"{path}[{i}]")
    return found


def check_against_crd(obj, schema_file):
    schema = kserve_schema(schema_file)
    # metadata is validated by the API server's ObjectMeta, not the CRD: a minimal check here.
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", obj["metadata"]["name"])
    jsonschema.Draft4Validator(schema).validate(obj)
    assert unknown_fields(obj, schema) == []


def test_unknown_field_check_catches_a_typo():
    runtime = load(KSERVE / "cluster-serving-runtime.yaml")
    runtime["spec"]["protocolVersion"] = ["v2"]
    assert unknown_fields(runtime, kserve_schema("clusterservingruntime-v1alpha1.json")) == \
        ["$.spec.protocolVersion"]


def test_cluster_serving_runtime_has_what_kserve_requires():
    runtime = load(KSERVE / "cluster-serving-runtime.yaml")
    check_against_crd(runtime, "clusterservingruntime-v1alpha1.json")
    assert (runtime["apiVersion"], runtime["kind"]) == ("serving.kserve.io/v1alpha1",
                                                        "ClusterServingRuntime")
    spec = runtime["spec"]
    assert {"name": "tabship", "version": "1", "autoSelect": True, "priority": 1} in \
        spec["supportedModelFormats"]
    assert spec["protocolVersions"] == ["v2"]
    assert spec["annotations"] == {"prometheus.kserve.io/port": "8080",
                                   "prometheus.kserve.io/path": "/metrics"}
    c = spec["containers"][0]
    assert c["name"] == "kserve-container"  # the name KServe's controller looks the container up by
    assert c["args"][0] == "serve"
    assert arg_value(c["args"], "--model-dir") == "/mnt/models"
    assert c["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]
    assert c["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    # The container must also be a valid Kubernetes container: validate it inside a Pod.
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "runtime-container"},
           "spec": {"containers": [c]}}
    kubernetes_validate.validate(pod, K8S_VERSION, strict=True)


def test_inference_service_uses_the_runtime():
    isvc = load(KSERVE / "inference-service.yaml")
    check_against_crd(isvc, "inferenceservice-v1beta1.json")
    runtime = load(KSERVE / "cluster-serving-runtime.yaml")
    assert (isvc["apiVersion"], isvc["kind"]) == ("serving.kserve.io/v1beta1", "InferenceService")
    model = isvc["spec"]["predictor"]["model"]
    assert model["modelFormat"]["name"] == runtime["spec"]["supportedModelFormats"][0]["name"]
    assert model["runtime"] == runtime["metadata"]["name"]
    assert model["protocolVersion"] in runtime["spec"]["protocolVersions"]
    assert model["storageUri"]
    # The model inside the artifact the example points at is named like the InferenceService.
    assert isvc["metadata"]["name"] == "iris"
