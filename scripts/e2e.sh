#!/usr/bin/env bash
# End-to-end tests of `tabship serve`: the real binary on 127.0.0.1, driven by Python clients
# (requests, prometheus_client, openapi-spec-validator, schemathesis, tritonclient) and headless
# Chromium; the operator kit in deploy/ against a real scrape, and promtool on the alert rules;
# the Kubernetes and KServe manifests against their schemas; the container image built from the
# root Dockerfile and run with podman (scripts/container-e2e.sh; minutes the first time).
# Usage: scripts/e2e.sh   (installs Debian's chromium + chromium-driver and prometheus (for
# promtool), haproxy (test_scale_out.py: three replicas behind it), podman, runc and mmdebstrap
# with apt-get if missing, builds the pinned .venv and the debug binary first)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null \
  || ! command -v promtool >/dev/null || ! command -v haproxy >/dev/null; then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    chromium chromium-driver prometheus haproxy >/dev/null
fi

# The container test (test_container.py) builds and runs the root Dockerfile with podman.
if ! command -v podman >/dev/null || ! command -v mmdebstrap >/dev/null \
  || ! command -v runc >/dev/null; then
  bash scripts/install-tools.sh containers
fi

venv="$(bash scripts/python-env.sh)"
cargo build -q --locked -p tabship-cli
TABSHIP_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/tabship" "$venv/bin/python" -m pytest crates/tabship-serve/tests/e2e "$@"
# The cloud contracts with the vendors' client libraries, in their own pinned environment.
bash scripts/cloud-e2e.sh
