#!/usr/bin/env bash
# Every test: formatting, lints, cargo deny (deny.toml), the Rust test suites (unit, integration, doc, golden, property),
# the scipy cross-checks of the drift statistics, then the Python package: builds the extension
# into .venv (maturin), runs pytest with warnings as errors, mypy --strict and mypy.stubtest;
# then the end-to-end server tests (scripts/e2e.sh: pinned .venv, Debian chromium); then, when a
# nightly toolchain is installed, every fuzz target briefly (scripts/fuzz.sh, 10 s each).
# Usage: scripts/test.sh        (idempotent; CI runs it via .ci/run on a fresh clone)
#   scripts/test.sh --quick     the inner loop: fmt, clippy, the Rust unit and integration tests
#                               (no doctests), and pytest without the tests marked `slow`; no
#                               cargo deny, scipy, mypy, end-to-end or fuzzing. Not a substitute
#                               for the full run before a merge.
#   TABSHIP_FUZZ_SECONDS=N      seconds per fuzz target (default 10; 0 skips fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

quick=0
case "${1:-}" in
  "") ;;
  --quick) quick=1 ;;
  *) echo "usage: scripts/test.sh [--quick]" >&2; exit 2 ;;
esac

step() { printf '\n== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

if [ "$quick" -eq 1 ]; then
  step "cargo test (unit and integration; --quick skips doctests)"
  cargo test --workspace --locked --tests
  step "python env (.venv, pinned by python/constraints.txt)"
  bash scripts/python-env.sh
  step "champion/challenger references are current (scipy, statsmodels, scikit-learn)"
# The fixture tests/it/compare.rs reads; a stale one means the references moved under a pin change.
"$py" scripts/stats-reference.py --check

step "maturin develop (debug build of the extension into .venv)"
  (cd python && VIRTUAL_ENV="$repo/.venv" "$repo/.venv/bin/maturin" develop --locked --quiet)
  step "pytest -m 'not slow' (warnings are errors)"
  (cd python && "$repo/.venv/bin/python" -m pytest -W error -p no:cacheprovider -m "not slow")
  step "quick run passed (the full run: scripts/test.sh)"
  exit 0
fi

step "cargo deny (licences, bans, sources; advisories when their database can be fetched)"
# scripts/install-tools.sh builds the pinned cargo-deny once per machine; without a registry
# the step is skipped rather than failed. The advisory database is cloned from GitHub: where
# that is not reachable only advisories are skipped, and the output says so.
if bash scripts/install-tools.sh; then
  if cargo deny fetch db >/dev/null 2>&1; then
    cargo deny check --hide-inclusion-graph
  else
    echo "cargo deny: advisories SKIPPED (the RustSec database could not be fetched from GitHub)"
    cargo deny check --hide-inclusion-graph licenses bans sources
  fi
else
  echo "cargo deny: SKIPPED (cargo-deny could not be installed)"
fi

step "cargo test"
cargo test --workspace --locked

step "python env (.venv, pinned by python/constraints.txt)"
bash scripts/python-env.sh
py="$repo/.venv/bin/python"

step "drift statistics against scipy (pytest)"
cargo build -q --locked -p tabship-drift --example stats_json
TABSHIP_STATS_JSON="${CARGO_TARGET_DIR:-$PWD/target}/debug/examples/stats_json" \
  "$py" -m pytest -q -W error -p no:cacheprovider crates/tabship-drift/tests/scipy

step "maturin develop (debug build of the extension into .venv)"
# A debug build: the suite's data is small, and it compiles in seconds from the warm target/.
(cd python && VIRTUAL_ENV="$repo/.venv" "$repo/.venv/bin/maturin" develop --locked --quiet)

step "pytest (warnings are errors)"
(cd python && "$py" -m pytest -W error -p no:cacheprovider)

step "mypy --strict and mypy.stubtest"
(cd python && "$py" -m mypy --no-incremental && "$py" -m mypy.stubtest --mypy-config-file pyproject.toml tabship)

step "end-to-end: tabship serve with Python clients and headless Chromium"
bash scripts/e2e.sh

fuzz_seconds="${TABSHIP_FUZZ_SECONDS:-10}"
# Read the list whole: with pipefail, `grep -q` closing the pipe early could fail `rustup`.
toolchains="$(rustup toolchain list 2>/dev/null || true)"
if [ "$fuzz_seconds" -gt 0 ] && grep -q '^nightly' <<<"$toolchains"; then
    step "fuzz: every target ${fuzz_seconds}s (scripts/fuzz.sh; longer runs: docs/reliability.md)"
    bash scripts/fuzz.sh "$fuzz_seconds"
else
    step "fuzz: skipped (no nightly toolchain, or TABSHIP_FUZZ_SECONDS=0)"
fi
