#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets/) for a given time each, one after the other, on
# its corpus seeded from the committed inputs (fuzz/seed-corpus.sh), and prints per target the
# executions, exec/s, coverage (edges) and features libFuzzer reached, the corpus size and the
# outcome. Fails if any target finds a crash (a panic, a failed assertion, a timeout of 10 s per
# input, an allocation over 512 MB); the input is then in fuzz/artifacts/<target>/.
# Usage: scripts/fuzz.sh [seconds-per-target]      (default 60)
#   FUZZ_TARGETS="json_request v2_infer"  run only these targets
#   FUZZ_SANITIZER=address                build with AddressSanitizer (default none: the targets
#                                         and the parsers are safe Rust, and ASan halves exec/s)
#   CARGO_BUILD_JOBS=1                    parallel compile jobs for the build (cargo's own setting)
# Installs the pinned cargo-fuzz (scripts/install-fuzz.sh); uses the nightly toolchain when
# rustup has one, else stable with RUSTC_BOOTSTRAP=1. The fuzz crate builds into
# $CARGO_TARGET_DIR (default fuzz/target).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

seconds="${1:-60}"
sanitizer="${FUZZ_SANITIZER:-none}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "usage: scripts/fuzz.sh [seconds-per-target]  (a whole number of seconds, got \`$seconds\`)" >&2
    exit 2
fi

# Largest input per target: room above the largest seed (libFuzzer's default cap is the largest
# seed, and any cap below a seed truncates it; the golden artifacts reach 38 KB).
declare -A max_len=(
    [artifact_loader]=65536
    [json_request]=16384
    [v2_infer]=16384
    [multipart_upload]=16384
    [csv_reader]=16384
    [keys_toml]=4096
    [state_json]=8192
    [xgboost_model]=65536
    [lightgbm_text]=65536
)
targets="${FUZZ_TARGETS:-artifact_loader json_request v2_infer multipart_upload csv_reader keys_toml state_json xgboost_model lightgbm_text}"

bash scripts/install-fuzz.sh
toolchains="$(rustup toolchain list 2>/dev/null || true)"
if grep -q '^nightly' <<<"$toolchains"; then
    fuzz=(cargo +nightly fuzz)
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi

cd fuzz
./seed-corpus.sh >/dev/null
echo "== building the fuzz targets (${fuzz[*]}, sanitizer $sanitizer)"
"${fuzz[@]}" build -s "$sanitizer"

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
failed=()
rows=()
for target in $targets; do
    len="${max_len[$target]:-65536}"
    echo "== $target: ${seconds}s, -max_len=$len"
    status=0
    "${fuzz[@]}" run -s "$sanitizer" "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -max_len="$len" -timeout=10 -malloc_limit_mb=512 \
        -print_final_stats=1 >"$logs/$target.log" 2>&1 || status=$?
    # The last status line (`#N ... cov: C ft: F corp: K/S ... exec/s: E`) and the final stats.
    last=$(grep -E '^#[0-9]+' "$logs/$target.log" | tail -n 1 || true)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$target.log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logs/$target.log" | tail -n 1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corpus=$(find "corpus/$target" -type f | wc -l)
    if [ "$status" -eq 0 ]; then
        outcome="ok"
    else
        outcome="CRASH (exit $status)"
        failed+=("$target")
        grep -E 'panicked|ERROR: libFuzzer|SUMMARY|Test unit written|deadly signal|timeout' "$logs/$target.log" | head -n 20 || true
        tail -n 40 "$logs/$target.log" >"$repo/fuzz/artifacts/$target.log" 2>/dev/null || true
    fi
    rows+=("$(printf '%-18s %12s %9s %7s %7s %8s  %s' "$target" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$corpus" "$outcome")")
done

printf '\n%-18s %12s %9s %7s %7s %8s  %s\n' target executions exec/s cov ft corpus outcome
printf '%s\n' "${rows[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzzing found crashes in: ${failed[*]} (inputs in fuzz/artifacts/<target>/; reproduce with \`cargo +nightly fuzz run -s $sanitizer <target> <file>\`)" >&2
    exit 1
fi
echo "fuzzing: $(wc -w <<<"$targets") targets, ${seconds}s each, no crash"
