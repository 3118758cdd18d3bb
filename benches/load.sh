#!/usr/bin/env bash
# Load test of the round divergence endpoint (every trust of the demo's latest round) against the
# release binary, on SQLite and on PostgreSQL. Needs `wrk` (Debian package) and, for the PostgreSQL
# run, a server at $PG_ADMIN_URL. Prints wrk's latency distribution and the server's resident
# memory before and after the run.
#   usage: benches/load.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-20}"
CONNECTIONS="${2:-4}"
THREADS=$(( CONNECTIONS < 2 ? CONNECTIONS : 2 ))
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
BIN=target/release/dma
[ -x "$BIN" ] || cargo build --release
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
export DMA_JWT_SECRET="load-test-secret-load-test-secret-0123"
PATH_UNDER_TEST="/api/v1/rounds/2025-26/divergence"

rss() { awk '/VmRSS/ {print $2 " kB"}' "/proc/$1/status"; }

run() {
  local name="$1" url="$2" port="$3"
  echo "== $name"
  DATABASE_URL="$url" DMA_DATA_DIR="$WORK" RUST_LOG=warn "$BIN" seed --demo
  DATABASE_URL="$url" DMA_DATA_DIR="$WORK" DMA_BIND="127.0.0.1:$port" RUST_LOG=warn "$BIN" serve &
  local pid=$!
  for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.2; done
  local token
  token=$(DMA_DATA_DIR="$WORK" "$BIN" token --role analyst)
  local bytes
  bytes=$(curl -fs -H "Authorization: Bearer $token" "http://127.0.0.1:$port$PATH_UNDER_TEST" | wc -c)
  echo "response: $bytes bytes"
  echo "rss before: $(rss $pid)"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port$PATH_UNDER_TEST"
  echo "rss after first run: $(rss $pid)"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port$PATH_UNDER_TEST" | grep -E "Requests/sec|requests in"
  echo "rss after second run: $(rss $pid)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

run sqlite "$WORK/dma.sqlite" 18090
DB="dma_load_$$"
psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $DB"
trap 'kill $(jobs -p) 2>/dev/null || true; psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"; rm -rf "$WORK"' EXIT
run postgresql "${PG_ADMIN_URL%/*}/$DB" 18091
