"""Extracts the schemas deploy/kserve is checked against from a KServe checkout.

Usage: python3 scripts/kserve-schema.py KSERVE_CHECKOUT   (writes deploy/kserve/schema/*.json)

From config/crd/full/ (descriptions dropped: most of the bytes, none of the validation):
ClusterServingRuntime v1alpha1 whole; InferenceService v1beta1 with every subtree larger than 5 kB
outside spec.predictor.model (embedded pod specs, other frameworks' predictors, transformer,
explainer) replaced by an open object marked "trimmed", so the committed file stays small while the
fields KServe reads for a predictor (model, modelFormat, runtime, protocolVersion, storageUri,
replicas) keep their exact types, enums and required lists.
"""

import json
import subprocess
import sys
from pathlib import Path

import yaml

OUT = Path(__file__).resolve().parents[1] / "deploy" / "kserve" / "schema"
LIMIT = 5_000
# The path the example and the checks use: kept whole however large.
KEEP = {"spec", "predictor", "model"}


def crd_schema(checkout, name, version):
    crd = yaml.safe_load((Path(checkout) / "config/crd/full" / name).read_text())
    return next(v["schema"]["openAPIV3Schema"] for v in crd["spec"]["versions"]
                if v["name"] == version)


def strip_descriptions(node):
    """Descriptions are most of a CRD's bytes and none of its validation."""
    if isinstance(node, dict):
        return {k: strip_descriptions(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [strip_descriptions(v) for v in node]
    return node


def trim(node):
    if not isinstance(node, dict):
        return node
    props = node.get("properties")
    if props:
        for key, child in props.items():
            if key not in KEEP and len(json.dumps(child)) > LIMIT:
                props[key] = {"type": child.get("type", "object"),
                              "x-kubernetes-preserve-unknown-fields": True,
                              "description": "trimmed by scripts/kserve-schema.py"}
            else:
                props[key] = trim(child)
    return node


def main(checkout):
    commit = subprocess.run(["git", "-C", checkout, "rev-parse", "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip() or "unknown"
    OUT.mkdir(parents=True, exist_ok=True)
    for out, name, version, trimmed in (
        ("clusterservingruntime-v1alpha1.json", "serving.kserve.io_clusterservingruntimes.yaml",
         "v1alpha1", False),
        ("inferenceservice-v1beta1.json", "serving.kserve.io_inferenceservices.yaml",
         "v1beta1", True),
    ):
        schema = strip_descriptions(crd_schema(checkout, name, version))
        if trimmed:
            schema = trim(schema)
        schema["x-source"] = f"github.com/kserve/kserve@{commit} config/crd/full/{name}"
        (OUT / out).write_text(json.dumps(schema, separators=(",", ":"), sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
