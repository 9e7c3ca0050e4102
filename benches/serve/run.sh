#!/usr/bin/env bash
# HTTP overhead of `tabship serve` (issue 11 #7): single-row `POST /predict` on loopback, tabship
# serving testdata/golden/adult_logistic_profile.tabship (it carries a drift profile, so every
# request also feeds the live drift window and the metrics) against the bare axum floor (`serve-floor`, which
# parses the same JSON body and answers a small JSON object), both loaded by wrk in one run at 1 and
# 64 connections. Prints req/s and p99 per point and the ratio tabship/floor.
#
# Run from anywhere (not part of scripts/test.sh; about 1 minute with the default 10 s points):
#
#     cargo build --release -p tabship-cli -p tabship-benches --bin tabship --bin serve-floor
#     sudo apt-get install wrk                   # Debian's wrk 4.1
#     bash benches/serve/run.sh                  # DURATION=10 TABSHIP_PORT=18901 FLOOR_PORT=18902
#
# Binaries come from ${CARGO_TARGET_DIR:-target}/release. Both servers use their default worker
# threads (one per core) and listen on 127.0.0.1 only; tabship logs at warn (no access log). wrk
# runs on the same machine (1 thread for 1 connection, 2 for 64), 2 s warm-up then DURATION s.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
tabship=$target/release/tabship
floor=$target/release/serve-floor
artifact=${ARTIFACT:-$repo/testdata/golden/adult_logistic_profile.tabship}
duration=${DURATION:-10}
tabship_port=${TABSHIP_PORT:-18901}
floor_port=${FLOOR_PORT:-18902}

for bin in "$tabship" "$floor"; do
    [[ -x $bin ]] || { echo "missing $bin; build with:" >&2
        echo "  cargo build --release -p tabship-cli -p tabship-benches --bin tabship --bin serve-floor" >&2
        exit 1; }
done
command -v wrk >/dev/null || { echo "wrk not found: sudo apt-get install wrk" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl not found" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# The first row of testdata/golden/adult_inputs.csv without its target, the record every request
# posts (BODY=... for another artifact's record).
body=${BODY:-'{"age":28,"workclass":"Private","education":"Bachelors","education_num":13,"marital_status":"Married-civ-spouse","occupation":"Prof-specialty","relationship":"Wife","race":"Black","gender":"Female","capital_gain":0,"capital_loss":0,"hours_per_week":40,"native_country":"Atlantis"}'}
printf '%s' "$body" >"$work/body.json"
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$body'
LUA

# Waits (bounded, 30 s) until a server answers the record with 200.
wait_ready() {
    local url=$1 pid=$2
    for _ in $(seq 300); do
        kill -0 "$pid" 2>/dev/null || { echo "server for $url exited" >&2; exit 1; }
        if [[ $(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
            --data-binary @"$work/body.json" "$url" || true) == 200 ]]; then
            return
        fi
        sleep 0.1
    done
    echo "server for $url never became ready" >&2
    exit 1
}

# Prints "REQ_PER_S P99_MS ERRORS" for one wrk point (after a 2 s warm-up).
load() {
    local url=$1 connections=$2 threads=1 out
    [[ $connections -gt 1 ]] && threads=2
    timeout 30 wrk -t "$threads" -c "$connections" -d 2s -s "$work/post.lua" "$url" >/dev/null
    out=$(timeout $((duration + 30)) wrk -t "$threads" -c "$connections" -d "${duration}s" \
        --latency -s "$work/post.lua" "$url")
    awk '
        function ms(v) {
            if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
            if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
            if (v ~ /m$/) return substr(v, 1, length(v) - 1) * 60000
            if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
            return v
        }
        /Requests\/sec:/ { rps = $2 }
        $1 == "99%" { p99 = ms($2) }
        /Socket errors:/ { gsub(",", ""); errors += $4 + $6 + $8 + $10 }
        /Non-2xx or 3xx responses:/ { errors += $5 }
        END { printf "%.0f %.3f %d\n", rps, p99, errors }
    ' <<<"$out"
}

"$tabship" serve "$artifact" --host 127.0.0.1 --port "$tabship_port" --log-level warn \
    >"$work/tabship.log" 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$tabship_port/predict" "${pids[-1]}"
"$floor" "$floor_port" >"$work/floor.log" 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$floor_port/predict" "${pids[-1]}"

echo "$(date -u +%FT%TZ) $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), ${duration}s per point"
echo "tabship answer: $(curl -s -H 'Content-Type: application/json' --data-binary @"$work/body.json" \
    "http://127.0.0.1:$tabship_port/predict")"
printf '%-4s %12s %9s %6s %12s %9s %6s %8s\n' conns "tabship r/s" "p99 ms" errors \
    "floor r/s" "p99 ms" errors ratio
for connections in 1 64; do
    read -r t_rps t_p99 t_err < <(load "http://127.0.0.1:$tabship_port/predict" "$connections")
    read -r f_rps f_p99 f_err < <(load "http://127.0.0.1:$floor_port/predict" "$connections")
    ratio=$(awk -v t="$t_rps" -v f="$f_rps" 'BEGIN { printf "%.1f%%", (f > 0 ? 100 * t / f : 0) }')
    printf '%-4s %12s %9s %6s %12s %9s %6s %8s\n' "$connections" "$t_rps" "$t_p99" "$t_err" \
        "$f_rps" "$f_p99" "$f_err" "$ratio"
done
