#!/usr/bin/env bash
# Load test of the save path (`PUT …/answers`) beside `/health/live`, side by side in one run, for
# one or more builds of the binary, at 1 and 8 connections, on SQLite and on PostgreSQL.
# Reports wrk's p50/p99 and the ratio of the save p50 to the `/health/live` p50 of the same run
# (the machine is shared and noisy: ratios, not absolute times, are the figure to compare).
#   usage: benches/save_load.sh [seconds] [label=binary ...]   (default: current=target/release/dma)
# Needs wrk (Debian package) and, for PostgreSQL, a server at $PG_ADMIN_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-10}"
shift || true
BUILDS=("$@")
[ ${#BUILDS[@]} -gt 0 ] || BUILDS=("current=target/release/dma")
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
WORK=$(mktemp -d)
DBS=()
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  for db in "${DBS[@]}"; do psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
export DMA_JWT_SECRET="load-test-secret-load-test-secret-0123"
export RUST_LOG=warn DMA_DEMO=false

p50() { awk '$1=="50%" {print $2}' "$1"; }
p99() { awk '$1=="99%" {print $2}' "$1"; }
errors() { awk '/Non-2xx/ {n=$NF} END {print n+0}' "$1"; }
ms() { # wrk prints 1.23ms, 812.00us or 1.02s
  awk -v v="$1" 'BEGIN { n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n=n; else if (v ~ /s$/) n*=1000; printf "%.3f", n }'
}

printf '%-11s %-10s %5s %12s %12s %12s %8s %8s\n' backend build conns live_p50_ms save_p50_ms save_p99_ms ratio non2xx

run_build() {
  local backend="$1" label="$2" bin="$3" url="$4" port="$5"
  local data="$WORK/$label-$backend"
  mkdir -p "$data"
  DATABASE_URL="$url" DMA_DATA_DIR="$data" DMA_BIND="127.0.0.1:$port" "$bin" serve >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.2; done
  local base="http://127.0.0.1:$port/api/v1"
  local admin
  admin=$(DMA_DATA_DIR="$data" DATABASE_URL="$url" "$bin" token --role admin)
  local opens closes
  opens=$(date -u -d '-1 day' +%Y-%m-%dT00:00:00Z); closes=$(date -u -d '+30 days' +%Y-%m-%dT00:00:00Z)
  curl -fs -o /dev/null -H "Authorization: Bearer $admin" -H 'content-type: application/json' -X POST "$base/rounds" \
    -d "{\"key\":\"bench\",\"title\":\"Save benchmark\",\"framework\":\"wgll-2025\",\"opens_at\":\"$opens\",\"closes_at\":\"$closes\"}"
  curl -fs -o /dev/null -H "Authorization: Bearer $admin" -X POST "$base/rounds/bench/open"
  local orgs
  orgs=$(curl -fs -H "Authorization: Bearer $admin" "$base/organisations?type=acute&per_page=40" \
    | python3 -c 'import json,sys; print(" ".join(o["ods_code"] for o in json.load(sys.stdin)["items"]))')
  local args=()
  for o in $orgs; do args+=(--org "$o"); done
  local sub
  sub=$(DMA_DATA_DIR="$data" DATABASE_URL="$url" "$bin" token --role submitter "${args[@]}" --ttl 2h)
  local lua="$WORK/save-$label-$backend.lua"
  python3 - "$sub" $orgs > "$lua" <<'PY'
import sys, json
token, orgs = sys.argv[1], sys.argv[2:]
print("local orgs = " + "{" + ",".join(json.dumps(o) for o in orgs) + "}")
print("local token = " + json.dumps(token))
print('''
local n = 0
request = function()
  n = n + 1
  local ods = orgs[math.random(#orgs)]
  local value = (n % 2 == 0) and "true" or "false"
  local body = '{"answers":[{"question":"WL-STR-2a","value":' .. value .. ',"evidence":"Board paper ' .. n .. '"}]}'
  return wrk.format("PUT", "/api/v1/rounds/bench/assessments/" .. ods .. "/answers",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
response = function(status, headers, body)
  if status >= 300 then io.stderr:write("non-2xx " .. status .. " " .. body:sub(1, 160) .. "\\n") end
end''')
PY
  # Warm up, then live and save interleaved at each connection count.
  wrk -t1 -c1 -d2s -s "$lua" "http://127.0.0.1:$port" >/dev/null
  for c in 1 8; do
    local t=$(( c < 2 ? c : 2 ))
    wrk -t"$t" -c"$c" -d"${SECONDS_PER_RUN}s" --latency "http://127.0.0.1:$port/health/live" > "$WORK/live.txt"
    wrk -t"$t" -c"$c" -d"${SECONDS_PER_RUN}s" --latency -s "$lua" "http://127.0.0.1:$port" > "$WORK/save.txt" 2> "$WORK/save-errors.txt"
    local live save
    live=$(ms "$(p50 "$WORK/live.txt")"); save=$(ms "$(p50 "$WORK/save.txt")")
    printf '%-11s %-10s %5s %12s %12s %12s %8s %8s\n' "$backend" "$label" "$c" "$live" "$save" \
      "$(ms "$(p99 "$WORK/save.txt")")" "$(awk -v a="$save" -v b="$live" 'BEGIN{printf "%.1f", a/b}')" "$(errors "$WORK/save.txt" || true)"
    sort "$WORK/save-errors.txt" | uniq -c | sed 's/^/    /' >&2
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

port=18200
for backend in sqlite postgresql; do
  for build in "${BUILDS[@]}"; do
    label="${build%%=*}"; bin="${build#*=}"
    port=$((port + 1))
    if [ "$backend" = sqlite ]; then
      url="$WORK/$label.sqlite"
    else
      db="dma_save_${label//[^a-z0-9]/_}_$$"
      DBS+=("$db")
      psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $db" >/dev/null
      url="${PG_ADMIN_URL%/*}/$db"
    fi
    run_build "$backend" "$label" "$bin" "$url" "$port"
  done
done
