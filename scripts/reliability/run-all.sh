#!/usr/bin/env bash
# The long resource and fault tests of `tabship serve`, one after the other, each printing its
# figures (docs/reliability.md keeps the last run's). Everything runs on 127.0.0.1 against the
# real binary, bounded in count and time (about 15 minutes in all on 2 cores, debug build).
# Usage: scripts/reliability/run-all.sh [--release]
#   TABSHIP_BIN=path/to/tabship picks the binary; otherwise the debug build (or, with --release,
#   the release build) is built first. Needs Linux (/proc) and python3 (standard library only).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ -z "${TABSHIP_BIN:-}" ]]; then
  target="${CARGO_TARGET_DIR:-$PWD/target}"
  if [[ "${1:-}" == "--release" ]]; then
    cargo build -q --locked --release -p tabship-cli
    export TABSHIP_BIN="$target/release/tabship"
  else
    cargo build -q --locked -p tabship-cli
    export TABSHIP_BIN="$target/debug/tabship"
  fi
fi
echo "binary: $TABSHIP_BIN"

for script in upload_rss idle_connections swaps_under_load kill9_uploads invalid_state; do
  printf '\n== %s\n' "$script"
  python3 "scripts/reliability/$script.py"
done
