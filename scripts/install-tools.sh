#!/usr/bin/env bash
# Installs the pinned developer tools the suite uses beyond the Rust toolchain: cargo-deny
# (advisories, licences, bans, sources; see deny.toml). Skips a tool already installed at its
# pinned version; builds it from crates.io otherwise (a few minutes, once per machine).
# Usage: scripts/install-tools.sh
set -euo pipefail

CARGO_DENY_VERSION=0.20.2

installed="$(cargo deny --version 2>/dev/null || true)"
if [[ "$installed" == "cargo-deny $CARGO_DENY_VERSION" ]]; then
  echo "cargo-deny $CARGO_DENY_VERSION already installed"
else
  # Its own target dir, so that the project's build cache keeps only the project.
  CARGO_TARGET_DIR="${TMPDIR:-/tmp}/tabship-tools-target" \
    cargo install cargo-deny --locked --version "$CARGO_DENY_VERSION"
fi
