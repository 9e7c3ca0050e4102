#!/bin/sh
# Seeds the artifact_loader corpus with the committed golden artifacts.
# Run from anywhere; writes fuzz/corpus/artifact_loader/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
corpus="$here/corpus/artifact_loader"
mkdir -p "$corpus"
for f in "$here"/../testdata/golden/*.tabship; do
    cp "$f" "$corpus/"
done
echo "seeded $(ls "$corpus" | wc -l) file(s) in $corpus"
