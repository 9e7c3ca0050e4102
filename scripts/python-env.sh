#!/usr/bin/env bash
# Creates/updates the project's Python environment at <repo>/.venv from
# python/requirements-dev.txt, every package pinned by python/constraints.txt.  Usage: bash scripts/python-env.sh
# Idempotent: pip runs only when the requirements file's sha256 differs from
# the stamp .venv/.requirements.sha256 left by the last successful install.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"
req="$repo/python/requirements-dev.txt"
constraints="$repo/python/constraints.txt"
stamp="$venv/.requirements.sha256"

if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi

want="$(cat "$req" "$constraints" | sha256sum | cut -d' ' -f1)"
if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" -c "$constraints"
  echo "$want" > "$stamp"
fi

# pyspark (tabship.spark, the MLflow spark_udf test) runs on a JVM: Debian's, installed when missing.
if ! command -v java >/dev/null; then
  bash "$repo/scripts/install-tools.sh" java >&2
fi

echo "$venv"
