#!/usr/bin/env bash
# Before/after/floor side by side (benches/serve/README.md): an older tabship build, this one and
# the bare axum floor serve testdata/golden/adult_logistic_profile.tabship's record at once; wrk
# loads them in R interleaved rounds of 3 s (before, after, floor) at 1 and 64 connections, so load
# from other jobs hits all three alike. Prints each round and the medians with ratios to the floor.
#
#     BEFORE=/path/to/old/tabship [AFTER=...] [R=5] bash benches/serve/rounds.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
before=${BEFORE:?BEFORE=path to an older tabship binary}
after=${AFTER:-$target/release/tabship}
floor=$target/release/serve-floor
artifact=$repo/testdata/golden/adult_logistic_profile.tabship
rounds=${R:-5}
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
body='{"age":28,"workclass":"Private","education":"Bachelors","education_num":13,"marital_status":"Married-civ-spouse","occupation":"Prof-specialty","relationship":"Wife","race":"Black","gender":"Female","capital_gain":0,"capital_loss":0,"hours_per_week":40,"native_country":"Atlantis"}'
printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = %s\n' "'$body'" >"$work/post.lua"
"$before" serve "$artifact" --host 127.0.0.1 --port 18931 --log-level warn >/dev/null 2>&1 & pids+=($!)
"$after" serve "$artifact" --host 127.0.0.1 --port 18932 --log-level warn >/dev/null 2>&1 & pids+=($!)
"$floor" 18933 >/dev/null 2>&1 & pids+=($!)
for port in 18931 18932 18933; do
    for _ in $(seq 300); do
        code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
            -d "$body" "http://127.0.0.1:$port/predict" || true)
        [[ $code == 200 ]] && break
        sleep 0.1
    done
    [[ $code == 200 ]] || { echo "server on $port never answered" >&2; exit 1; }
done
for c in 1 64; do
    t=1; [[ $c -gt 1 ]] && t=2
    for r in $(seq "$rounds"); do
        for port in 18931 18932 18933; do
            out=$(timeout 30 wrk -t$t -c$c -d3s --latency -s "$work/post.lua" "http://127.0.0.1:$port/predict")
            echo "$c $port $(awk '/Requests\/sec/{r=$2} $1=="99%"{p=$2} END{print r, p}' <<<"$out")"
        done
    done
done | tee "$work/rounds"
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
for c in 1 64; do
    floor_rps=$(awk -v c=$c '$1 == c && $2 == 18933 { print $3 }' "$work/rounds" | median)
    for pair in 18931:before 18932:after 18933:floor; do
        rps=$(awk -v c=$c -v p=${pair%%:*} '$1 == c && $2 == p { print $3 }' "$work/rounds" | median)
        awk -v c=$c -v n=${pair##*:} -v r="$rps" -v f="$floor_rps" \
            'BEGIN { printf "%2d connections  %-6s median %8.0f req/s  %5.1f%% of the floor\n", c, n, r, 100 * r / f }'
    done
done
