#!/usr/bin/env bash
# Regenerates golden artifacts and their expected predictions in testdata/golden/.
# Run it only on purpose (a deliberate format or model change): the Rust and Python suites compare
# against the committed files. Usage: scripts/make-golden.sh [NAME ...]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p tabship-cli
tabship="${CARGO_TARGET_DIR:-target}/debug/tabship"
g=testdata/golden

# name | training data | train arguments | inputs to predict | predict arguments
# The goldens of formats 1.0 and 1.1 are trained with --no-drift-profile so that they keep their format.
goldens=(
  "iris_logistic|testdata/iris.csv|--target species --name iris --no-drift-profile|testdata/iris.csv|--proba"
  "adult_logistic|testdata/adult_sample.csv|--target income --name adult --no-drift-profile|$g/adult_inputs.csv|--proba"
  "diamonds_ridge|testdata/diamonds_sample.csv|--target price --model ridge --name diamonds --no-drift-profile|$g/diamonds_inputs.csv|"
  "iris_tree|testdata/iris.csv|--target species --model decision-tree --max-depth 4 --name iris-tree --no-drift-profile|testdata/iris.csv|--proba"
  "adult_forest|testdata/adult_sample.csv|--target income --model random-forest --n-trees 10 --max-depth 6 --name adult-forest --no-drift-profile|$g/adult_inputs.csv|--proba"
  "diamonds_forest|testdata/diamonds_sample.csv|--target price --model random-forest --n-trees 10 --max-depth 6 --name diamonds-forest --no-drift-profile|$g/diamonds_inputs.csv|"
  # Format 1.2: pipelines with their drift profile (a classifier and a regressor).
  "adult_logistic_profile|testdata/adult_sample.csv|--target income --name adult|$g/adult_inputs.csv|--proba"
  "diamonds_forest_profile|testdata/diamonds_sample.csv|--target price --model random-forest --n-trees 10 --max-depth 6 --name diamonds-forest|$g/diamonds_inputs.csv|"
)

# Format 1.5: models imported from XGBoost 3.2 (f32 comparisons and sums, missing directions,
# categorical splits listed right, NaN-passing encoders) and LightGBM 4.7 (float64 comparisons,
# missing types, categorical splits listed left) with their fixture's rows as reference data.
# name | library | model | reference | import arguments | inputs to predict | predict arguments
imported=(
  "adult_xgboost|xgboost|testdata/import/xgboost/v3.2/adult_binary_cat/model.json|testdata/import/xgboost/v3.2/adult_binary_cat/rows.csv|--target target --name adult-xgboost|$g/adult_inputs.csv|--proba"
  "adult_lightgbm|lightgbm|testdata/import/lightgbm/binary_adult.model.txt|testdata/import/lightgbm/binary_adult.reference.csv|--target target --name adult-lightgbm|$g/adult_inputs.csv|--proba"
)

for entry in "${imported[@]}"; do
  IFS='|' read -r name library model reference import_args inputs predict_args <<< "$entry"
  if [ $# -gt 0 ] && [[ ! " $* " =~ " $name " ]]; then continue; fi
  # shellcheck disable=SC2086
  $tabship import "$library" "$model" --reference "$reference" $import_args --model-version golden -o "$g/$name.tabship"
  # shellcheck disable=SC2086
  $tabship predict "$g/$name.tabship" "$inputs" $predict_args -o "$g/$name.expected.csv"
done

for entry in "${goldens[@]}"; do
  IFS='|' read -r name data train_args inputs predict_args <<< "$entry"
  if [ $# -gt 0 ] && [[ ! " $* " =~ " $name " ]]; then continue; fi
  # shellcheck disable=SC2086
  $tabship train "$data" $train_args --model-version golden -o "$g/$name.tabship"
  # shellcheck disable=SC2086
  $tabship predict "$g/$name.tabship" "$inputs" $predict_args -o "$g/$name.expected.csv"
done
