#!/usr/bin/env bash
# Resident memory of the server under repeated load: seeds the demo into a fresh SQLite file,
# starts the release binary and runs `wrk -c4` on the round divergence endpoint N times in a row,
# printing the RSS and thread count after each run. Needs `wrk`.
#   usage: benches/rss.sh [runs] [seconds per run]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-8}"
SECONDS_PER_RUN="${2:-8}"
BIN=target/release/dma
[ -x "$BIN" ] || cargo build --release
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
export DMA_JWT_SECRET="load-test-secret-load-test-secret-0123" DMA_DATA_DIR="$WORK" \
  DATABASE_URL="$WORK/dma.sqlite" DMA_BIND=127.0.0.1:18096 RUST_LOG=warn
"$BIN" seed --demo >/dev/null
"$BIN" serve &
PID=$!
for _ in $(seq 1 50); do curl -fs http://127.0.0.1:18096/health/ready >/dev/null && break; sleep 0.2; done
TOKEN=$("$BIN" token --role analyst)
for i in $(seq 1 "$RUNS"); do
  requests=$(wrk -t2 -c4 -d"${SECONDS_PER_RUN}s" -H "Authorization: Bearer $TOKEN" \
    http://127.0.0.1:18096/api/v1/rounds/2025-26/divergence | awk '/requests in/ {print $1}')
  echo "run $i: $requests requests, rss $(awk '/VmRSS/ {print $2}' /proc/$PID/status) kB," \
    "threads $(ls /proc/$PID/task | wc -l)"
done
