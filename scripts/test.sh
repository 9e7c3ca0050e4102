#!/usr/bin/env bash
# Every test: formatting, lints, the Rust test suites (unit, integration, doc, golden, property),
# the scipy cross-checks of the drift statistics (in the pinned .venv) and the end-to-end server
# tests (scripts/e2e.sh: pinned .venv, Debian chromium).
# Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked

step "drift statistics against scipy (pytest)"
venv="$(bash scripts/python-env.sh)"
cargo build -q --locked -p tabship-drift --example stats_json
TABSHIP_STATS_JSON="$PWD/target/debug/examples/stats_json" \
  "$venv/bin/python" -m pytest -q -W error -p no:cacheprovider crates/tabship-drift/tests/scipy

step "end-to-end: tabship serve with Python clients and headless Chromium"
bash scripts/e2e.sh
