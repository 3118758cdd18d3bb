#!/usr/bin/env bash
# Save and submit latency beside /health/live (benches/writes.py), on SQLite and on PostgreSQL,
# against the release binary on the demo data set: the returns of up to N organisations of the
# demo's 2025-26 round are copied into a new open round and submitted one by one.
#   usage: benches/writes.sh [N]     (default 150)
# Needs a PostgreSQL server at $PG_ADMIN_URL for the second run.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-150}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
BIN=target/release/dma
[ -x "$BIN" ] || cargo build --release
WORK=$(mktemp -d)
DB="dma_writes_$$"
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export DMA_JWT_SECRET="load-test-secret-load-test-secret-0123" RUST_LOG=warn DMA_DEMO=false DMA_RATE_LIMIT_PER_SECOND=0

run() {
  local backend="$1" url="$2" port="$3"
  echo "== $backend"
  DATABASE_URL="$url" DMA_DATA_DIR="$WORK" "$BIN" seed --demo >/dev/null
  DATABASE_URL="$url" DMA_DATA_DIR="$WORK" DMA_BIND="127.0.0.1:$port" "$BIN" serve >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.2; done
  local base="http://127.0.0.1:$port/api/v1" admin
  admin=$(DATABASE_URL="$url" DMA_DATA_DIR="$WORK" "$BIN" token --role admin --ttl 2h)
  local opens closes
  opens=$(date -u -d '-1 day' +%Y-%m-%dT00:00:00Z); closes=$(date -u -d '+30 days' +%Y-%m-%dT00:00:00Z)
  curl -fs -o /dev/null -H "Authorization: Bearer $admin" -H 'content-type: application/json' -X POST "$base/rounds" \
    -d "{\"key\":\"bench\",\"title\":\"Write benchmark\",\"framework\":\"wgll-2025\",\"opens_at\":\"$opens\",\"closes_at\":\"$closes\"}"
  curl -fs -o /dev/null -H "Authorization: Bearer $admin" -X POST "$base/rounds/bench/open"
  local orgs
  orgs=$(curl -fs -H "Authorization: Bearer $admin" "$base/rounds/2025-26/scores?limit=$N" \
    | python3 -c 'import json,sys; print(" ".join(o["ods_code"] for o in json.load(sys.stdin)["items"]))')
  local args=()
  for o in $orgs; do args+=(--org "$o"); done
  local sub
  sub=$(DATABASE_URL="$url" DMA_DATA_DIR="$WORK" "$BIN" token --role submitter "${args[@]}" --ttl 2h)
  python3 benches/writes.py "127.0.0.1:$port" "$admin" "$sub" 2025-26 bench $orgs
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

run sqlite "$WORK/writes.sqlite" 18401
psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $DB" >/dev/null
run postgresql "${PG_ADMIN_URL%/*}/$DB" 18402
