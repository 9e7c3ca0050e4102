#!/usr/bin/env bash
# The main job on the bundled default: train the iris demo, inspect it and predict with it.
# Usage: scripts/demo.sh            (outputs in ./out/)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p tabship-cli
tabship=target/release/tabship
mkdir -p out
$tabship train testdata/iris.csv --target species --name iris --output out/iris.tabship
echo
$tabship inspect out/iris.tabship
echo
$tabship predict out/iris.tabship testdata/iris.csv --proba --output out/iris-predictions.csv
head -n 4 out/iris-predictions.csv
