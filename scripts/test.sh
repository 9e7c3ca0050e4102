#!/usr/bin/env bash
# Every test: formatting, lints, the Rust test suites (unit, integration, doc, golden, property),
# and the end-to-end server tests (scripts/e2e.sh: pinned .venv, Debian chromium).
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

step "end-to-end: tabship serve with Python clients and headless Chromium"
bash scripts/e2e.sh
