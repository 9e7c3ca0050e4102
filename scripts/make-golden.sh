#!/usr/bin/env bash
# Regenerates the golden artifacts and their expected predictions in testdata/golden/.
# Run it only on purpose (a format or model change); the tests compare against the committed files.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p tabship-cli
tabship=target/debug/tabship
g=testdata/golden
$tabship train testdata/iris.csv --target species --name iris --model-version golden -o $g/iris_logistic.tabship
$tabship predict $g/iris_logistic.tabship testdata/iris.csv --proba -o $g/iris_logistic.expected.csv
$tabship train testdata/adult_sample.csv --target income --name adult --model-version golden -o $g/adult_logistic.tabship
$tabship predict $g/adult_logistic.tabship $g/adult_inputs.csv --proba -o $g/adult_logistic.expected.csv
$tabship train testdata/diamonds_sample.csv --target price --model ridge --name diamonds --model-version golden -o $g/diamonds_ridge.tabship
$tabship predict $g/diamonds_ridge.tabship $g/diamonds_inputs.csv -o $g/diamonds_ridge.expected.csv
