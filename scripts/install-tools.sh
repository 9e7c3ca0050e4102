#!/usr/bin/env bash
# Installs the pinned developer tools the suite uses beyond the Rust toolchain: cargo-deny
# (advisories, licences, bans, sources; see deny.toml). Skips a tool already installed at its
# pinned version; builds it from crates.io otherwise (a few minutes, once per machine).
# `containers`: instead, installs Debian's podman, runc and mmdebstrap (scripts/container-e2e.sh).
# `java`: instead, installs Debian's openjdk-17-jre-headless (pyspark's JVM; python/tests/test_spark.py).
# Usage: scripts/install-tools.sh [containers|java]
set -euo pipefail

if [[ "${1:-}" == "containers" ]]; then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  # uidmap/fuse-overlayfs/slirp4netns: podman's usual companions (rootless use, overlay storage).
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    podman runc mmdebstrap uidmap fuse-overlayfs slirp4netns >/dev/null
  exit 0
fi

if [[ "${1:-}" == "java" ]]; then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    openjdk-17-jre-headless >/dev/null
  exit 0
fi

CARGO_DENY_VERSION=0.20.2

installed="$(cargo deny --version 2>/dev/null || true)"
if [[ "$installed" == "cargo-deny $CARGO_DENY_VERSION" ]]; then
  echo "cargo-deny $CARGO_DENY_VERSION already installed"
else
  # Its own target dir, so that the project's build cache keeps only the project.
  CARGO_TARGET_DIR="${TMPDIR:-/tmp}/tabship-tools-target" \
    cargo install cargo-deny --locked --version "$CARGO_DENY_VERSION"
fi
