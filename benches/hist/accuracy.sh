#!/usr/bin/env bash
# The accuracy table of benches/hist/README.md: random forests and extra trees, smartcore vs the
# histogram learner, default options (100 trees), on every dataset of ../shared/data.
# Usage: benches/hist/accuracy.sh [path/to/tabship] > table.md (LEARNERS=hist for one learner)
# (build first: cargo build --release -p tabship-cli). Holdout metrics and fit seconds come from
# `tabship train --json`; the split is the trainer's (seed 42, 20% held out).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tabship=${1:-${CARGO_TARGET_DIR:-$here/../../target}/release/tabship}
# The datasets: ../shared/data beside the repository (DATA=... for a worktree elsewhere).
data=${DATA:-$here/../../../shared/data}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "| dataset | task | model | learner | accuracy / R² | log loss / RMSE | fit s |"
echo "|---|---|---|---|---|---|---|"
while read -r file target task; do
  for model in random-forest extra-trees; do
    for learner in ${LEARNERS:-smartcore hist}; do
      if [[ $task == classification && $model == extra-trees && $learner == smartcore ]]; then
        echo "| $file | $task | $model | $learner | n/a (smartcore has no extra-trees classifier) | | |"
        continue
      fi
      "$tabship" train "$data/$file" --target "$target" --model "$model" --tree-learner "$learner" \
        --json -o "$out/m.tabship" </dev/null 2>"$out/err" >"$out/r.json" || { cat "$out/err" >&2; exit 1; }
      python3 - "$out/r.json" "$file" "$task" "$model" "$learner" <<'PY'
import json, sys
path, file, task, model, learner = sys.argv[1:]
text = open(path).read()
j = json.loads(text[text.find("{"):text.rfind("}") + 1])
m = j["metrics"]
if task == "classification":
    a, b = m["accuracy"], m["log_loss"]
else:
    a, b = m["r2"], m["rmse"]
print(f"| {file} | {task} | {model} | {learner} | {a:.4f} | {b:.4f} | {j['fit_seconds']:.2f} |")
PY
    done
  done
done <<'LIST'
iris.csv species classification
penguins.csv species classification
adult.csv income classification
diamonds.csv price regression
hotel_rates.csv avg_price_per_room regression
LIST
