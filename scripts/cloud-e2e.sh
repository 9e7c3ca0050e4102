#!/usr/bin/env bash
# End-to-end test of the cloud contracts (SageMaker, Vertex AI, Azure ML) with bodies made by the
# vendors' own client libraries: builds .venv-cloud from python/requirements-cloud.txt pinned by
# python/constraints-cloud.txt (their pins conflict with the main dev environment's, see the
# requirements file), builds the debug binary and runs crates/tabship-serve/tests/e2e/test_cloud.py.
# Usage: scripts/cloud-e2e.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$PWD/.venv-cloud"
req=python/requirements-cloud.txt
constraints=python/constraints-cloud.txt
stamp="$venv/.requirements.sha256"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
want="$(cat "$req" "$constraints" | sha256sum | cut -d' ' -f1)"
if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" -c "$constraints"
  echo "$want" > "$stamp"
fi
cargo build -q --locked -p tabship-cli
TABSHIP_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/tabship" \
  "$venv/bin/python" -m pytest crates/tabship-serve/tests/e2e/test_cloud.py "$@"
