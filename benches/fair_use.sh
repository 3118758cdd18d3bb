#!/usr/bin/env bash
# Fair use under a flood: caller B reads one organisation (paced, about 40 requests a second on two
# connections) alone, then while caller A floods the round divergence endpoint with 40 connections;
# interleaved for several rounds, on SQLite and on PostgreSQL, with the fair-use limits at their
# defaults (`on`) and switched off (`off`: no rate limits, no bound on expensive work below the
# pool). Reports B's p50/p99 alone and under the flood, the ratio of the p99s (the target is ≤ 2),
# and how A's requests were answered (2xx, 429, 503). Both callers are analysts with their own
# token subject (`dma token --subject`). The machine is shared and noisy: compare ratios of runs
# taken side by side, not absolute times.
#   usage: benches/fair_use.sh [seconds] [rounds] [modes]   (default: 15 3 "on off")
# Needs wrk (Debian package), the release binary, and for PostgreSQL a server at $PG_ADMIN_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-15}"
ROUNDS="${2:-3}"
MODES="${3:-on off}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
BIN=target/release/dma
[ -x "$BIN" ] || cargo build --release --bin dma
WORK=$(mktemp -d)
DB="dma_fair_$$"
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export DMA_JWT_SECRET="load-test-secret-load-test-secret-0123" RUST_LOG=warn DMA_DEMO=false
READ_B="/api/v1/organisations/RXR"
FLOOD_A="/api/v1/rounds/2025-26/divergence"

# Counts responses by status over all of wrk's threads; `delay` paces a connection when PACE_MS is set.
cat > "$WORK/count.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) counts = {} end
local pace = tonumber(os.getenv("PACE_MS") or "")
if pace then function delay() return pace end end
function response(status, headers, body) counts[status] = (counts[status] or 0) + 1 end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("counts")) do total[k] = (total[k] or 0) + v end
  end
  for k, v in pairs(total) do io.write(string.format("status %d %d\n", k, v)) end
end
LUA

ms() { # wrk prints 1.23ms, 812.00us or 1.02s
  awk -v v="$1" 'BEGIN { n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n=n; else if (v ~ /s$/) n*=1000; printf "%.2f", n }'
}
pct() { ms "$(awk -v p="$2" '$1==p {print $2}' "$1")"; }
count() { awk -v lo="$2" -v hi="$3" '$1=="status" && $2>=lo && $2<=hi {n+=$3} END {print n+0}' "$1"; }

printf '%-10s %-4s %5s %9s %9s %9s %9s %7s %6s %8s %7s %7s %7s\n' \
  backend mode round B_p50 B_p99 B+A_p50 B+A_p99 ratio B_non2 A_2xx A_429 A_503 A_other

run_backend() {
  local backend="$1" url="$2" port="$3"
  DATABASE_URL="$url" DMA_DATA_DIR="$WORK" "$BIN" seed --demo >/dev/null
  local a b
  a=$(DMA_DATA_DIR="$WORK" "$BIN" token --role analyst --subject flooder-a --ttl 2h)
  b=$(DMA_DATA_DIR="$WORK" "$BIN" token --role analyst --subject reader-b --ttl 2h)
  for mode in $MODES; do
    local env=()
    [ "$mode" = off ] && env=(DMA_RATE_LIMIT_PER_SECOND=0 DMA_ANON_RATE_LIMIT_PER_SECOND=0
      DMA_HEAVY_PER_CALLER=1000 DMA_HEAVY_TOTAL=1000)
    env "${env[@]}" DATABASE_URL="$url" DMA_DATA_DIR="$WORK" DMA_BIND="127.0.0.1:$port" "$BIN" serve &
    local pid=$!
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.2; done
    local base="http://127.0.0.1:$port"
    # Warm up: both paths once, and B for two seconds.
    curl -fs -o /dev/null -H "Authorization: Bearer $a" "$base$FLOOD_A"
    PACE_MS=50 wrk -t1 -c2 -d2s -s "$WORK/count.lua" -H "Authorization: Bearer $b" "$base$READ_B" >/dev/null
    for r in $(seq 1 "$ROUNDS"); do
      local alone="$WORK/alone" loaded="$WORK/loaded" flood="$WORK/flood"
      PACE_MS=50 wrk -t1 -c2 -d"${SECONDS_PER_RUN}s" --latency -s "$WORK/count.lua" \
        -H "Authorization: Bearer $b" "$base$READ_B" > "$alone"
      sleep 1
      wrk -t2 -c40 -d"$(( SECONDS_PER_RUN + 4 ))s" -s "$WORK/count.lua" \
        -H "Authorization: Bearer $a" "$base$FLOOD_A" > "$flood" &
      local flood_pid=$!
      sleep 2
      PACE_MS=50 wrk -t1 -c2 -d"${SECONDS_PER_RUN}s" --latency -s "$WORK/count.lua" \
        -H "Authorization: Bearer $b" "$base$READ_B" > "$loaded"
      wait "$flood_pid"
      sleep 2
      local p99a p99l
      p99a=$(pct "$alone" 99%); p99l=$(pct "$loaded" 99%)
      printf '%-10s %-4s %5s %9s %9s %9s %9s %7s %6s %8s %7s %7s %7s\n' "$backend" "$mode" "$r" \
        "$(pct "$alone" 50%)" "$p99a" "$(pct "$loaded" 50%)" "$p99l" \
        "$(awk -v a="$p99a" -v l="$p99l" 'BEGIN { printf "%.2f", l / a }')" \
        "$(( $(count "$alone" 300 999) + $(count "$loaded" 300 999) ))" \
        "$(count "$flood" 200 299)" "$(count "$flood" 429 429)" "$(count "$flood" 503 503)" \
        "$(( $(count "$flood" 300 428) + $(count "$flood" 430 502) + $(count "$flood" 504 999) ))"
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
}

run_backend sqlite "$WORK/dma.sqlite" 18190
psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $DB"
run_backend postgresql "${PG_ADMIN_URL%/*}/$DB" 18191
