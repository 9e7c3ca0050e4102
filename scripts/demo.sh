#!/usr/bin/env bash
# The main job on the bundled default: train the iris demo and serve it with the web form.
# Usage: scripts/demo.sh [--port 8900]   (artifact in ./out/iris.tabship; serves in the foreground,
# Ctrl-C stops it). Open http://127.0.0.1:8900/ui in a browser, or http://127.0.0.1:8900/docs.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p tabship-cli
exec "${CARGO_TARGET_DIR:-target}/release/tabship" demo --output out/iris.tabship "$@"
