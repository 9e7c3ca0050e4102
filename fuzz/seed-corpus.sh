#!/bin/sh
# Seeds every target's corpus (fuzz/corpus/<target>/, git-ignored) from the committed inputs:
# the golden artifacts for artifact_loader, the hand-written valid (and some invalid) inputs under
# fuzz/seeds/<target>/, and, for csv_reader, the CSV files of testdata/ (behind a control byte:
# UTF-8, comma). Run from anywhere; existing corpus entries are kept.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
testdata="$here/../testdata"

seed() { # target, files...
    target=$1
    shift
    mkdir -p "$here/corpus/$target"
    for f in "$@"; do
        [ -f "$f" ] && cp "$f" "$here/corpus/$target/"
    done
    echo "$target: $(ls "$here/corpus/$target" | wc -l) file(s) in corpus/$target"
}

seed artifact_loader "$testdata"/golden/*.tabship
# Models written by XGBoost itself (1.7, 2.1, 3.2; JSON and UBJSON).
mkdir -p "$here/corpus/xgboost_model"
for f in "$testdata"/import/xgboost/*/*/model.*; do
    case_dir=$(dirname "$f")
    cp "$f" "$here/corpus/xgboost_model/$(basename "$(dirname "$case_dir")")-$(basename "$case_dir")-$(basename "$f")"
done
echo "xgboost_model: $(ls "$here/corpus/xgboost_model" | wc -l) file(s) in corpus/xgboost_model"
seed lightgbm_text "$testdata"/import/lightgbm/*.model.txt
for dir in "$here"/seeds/*/; do
    target=$(basename "$dir")
    seed "$target" "$dir"*
done
# Control byte 0 (UTF-8, comma), then the file; only the first 16 KB of each (the size cap the
# CSV target runs with).
mkdir -p "$here/corpus/csv_reader"
for f in "$testdata"/*.csv "$testdata"/golden/*_inputs.csv; do
    { printf '\000'; head -c 16383 "$f"; } > "$here/corpus/csv_reader/testdata-$(basename "$f")"
done
echo "csv_reader: $(ls "$here/corpus/csv_reader" | wc -l) file(s) after testdata"
