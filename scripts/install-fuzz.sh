#!/usr/bin/env bash
# Installs the pinned cargo-fuzz used by scripts/fuzz.sh (skips when that version is present).
# Needs only crates.io; the fuzz targets themselves build with the nightly toolchain
# (`rustup toolchain list`), or with RUSTC_BOOTSTRAP=1 on stable as a fallback.
# Usage: scripts/install-fuzz.sh
set -euo pipefail

version="0.13.2"

if command -v cargo-fuzz >/dev/null 2>&1 \
    && [ "$(cargo-fuzz --version 2>/dev/null | awk '{print $2}')" = "$version" ]; then
    echo "cargo-fuzz $version already installed"
    exit 0
fi

# Its own target dir, so installing never touches (or waits on) the workspace's build.
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${TMPDIR:-/tmp}/cargo-fuzz-install}" \
    cargo install cargo-fuzz --locked --version "$version"
cargo-fuzz --version
