#!/usr/bin/env bash
# Reads at national scale against the release binary, on a database already holding the
# synthetic national data set (`dma seed --synthetic --organisations 25000`):
#   - cold: the round divergence endpoint's first request after the data stamp moved;
#   - warm, side by side (wrk, 1 connection, interleaved): GET /organisations/{ods}, the
#     divergence page of flagged rows (flagged_only=true, default page), the first page of the
#     full listing;
#   - the full CSV and NDJSON exports (bytes, seconds, MB/s) and the server's RSS;
#   - RSS under 4 concurrent clients, and after the idle sweep (DMA_DIVERGENCE_CACHE_IDLE_SECONDS=30).
#   usage: benches/national.sh DATABASE_URL [seconds]
# Needs wrk (Debian package) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
URL="$1"
SECS="${2:-10}"
BIN=target/release/dma
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
export DMA_JWT_SECRET="load-test-secret-load-test-secret-0123" RUST_LOG=info DMA_DEMO=false DMA_RATE_LIMIT_PER_SECOND=0
export DMA_DIVERGENCE_CACHE_IDLE_SECONDS=30
PORT=18500
DATABASE_URL="$URL" DMA_DATA_DIR="$WORK" DMA_BIND="127.0.0.1:$PORT" "$BIN" serve > "$WORK/serve.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.2; done
TOKEN=$(DATABASE_URL="$URL" DMA_DATA_DIR="$WORK" "$BIN" token --role analyst --ttl 2h)
ADMIN=$(DATABASE_URL="$URL" DMA_DATA_DIR="$WORK" "$BIN" token --role admin --ttl 2h)
BASE="http://127.0.0.1:$PORT/api/v1"
rss() { awk '/VmRSS/ {printf "%.0f MB", $2/1024}' "/proc/$PID/status"; }
hwm() { awk '/VmHWM/ {printf "%.0f MB", $2/1024}' "/proc/$PID/status"; }
get() { curl -s -o /dev/null -w "%{http_code} %{size_download} B %{time_total} s" -H "Authorization: Bearer $TOKEN" "$1"; }
ORG=$(curl -fs -H "Authorization: Bearer $TOKEN" "$BASE/organisations?type=acute&per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["ods_code"])')
PAGE="$BASE/rounds/2025-26/divergence?flagged_only=true"
echo "idle rss: $(rss)"
echo "cold (first request): $(get "$PAGE")"
# An organisation change moves the data stamp, as a submit does; the next request recomputes.
curl -fs -H "Authorization: Bearer $ADMIN" "$BASE/organisations/$ORG" | python3 -c '
import json, sys
o = json.load(sys.stdin)
keys = ["name", "org_type", "region_code", "icb_code", "opened_on", "closed_on", "successor_code"]
body = {k: o.get(k) for k in keys}
body["name"] = body["name"] + " (renamed)"
print(json.dumps(body))' > "$WORK/org.json"
curl -fs -o /dev/null -X PUT -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  --data-binary @"$WORK/org.json" "$BASE/organisations/$ORG" \
  || echo "(organisation update refused: the figure below is a cached read)"
echo "cold (after the data changed): $(get "$PAGE")"
grep -a "analysis computed" "$WORK/serve.log" | sed 's/\x1b\[[0-9;]*m//g' | sed 's/.*computed/computed/' | sed 's/^/  /' || true
echo "rss after: $(rss) (peak $(hwm))"
ms() { awk -v v="$1" 'BEGIN { n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n=n; else if (v ~ /s$/) n*=1000; printf "%.3f", n }'; }
p50() { ms "$(awk '$1=="50%" {print $2}' "$1")"; }
for round in 1 2; do
  for name in org flagged full; do
    case $name in
      org) u="$BASE/organisations/$ORG";;
      flagged) u="$PAGE";;
      full) u="$BASE/rounds/2025-26/divergence";;
    esac
    wrk -t1 -c1 -d"${SECS}s" --latency -H "Authorization: Bearer $TOKEN" "$u" > "$WORK/$name.txt"
    echo "warm run $round $name: p50 $(p50 "$WORK/$name.txt") ms, $(awk '/Requests\/sec/ {print $2}' "$WORK/$name.txt") req/s, non-2xx $(awk '/Non-2xx/ {print $NF}' "$WORK/$name.txt")"
  done
  echo "  ratio flagged/org $(python3 -c "print(round($(p50 "$WORK/flagged.txt")/$(p50 "$WORK/org.txt"),2))"), full/org $(python3 -c "print(round($(p50 "$WORK/full.txt")/$(p50 "$WORK/org.txt"),2))")"
done
for f in csv ndjson; do
  out=$(curl -s -o /dev/null -w "%{size_download} %{time_total}" -H "Authorization: Bearer $TOKEN" "$BASE/rounds/2025-26/divergence?format=$f")
  echo "export $f: $out -> $(echo "$out" | awk '{printf "%.0f MB/s", $1/$2/1e6}'), rss $(rss)"
done
wrk -t2 -c4 -d"${SECS}s" -H "Authorization: Bearer $TOKEN" "$PAGE" > "$WORK/four.txt" &
WRK=$!
sleep $((SECS / 2)); echo "rss during 4 clients: $(rss)"; wait "$WRK"
echo "4 clients: $(awk '/Requests\/sec/ {print $2}' "$WORK/four.txt") req/s; rss after: $(rss) (peak $(hwm))"
sleep 65
echo "rss after the idle sweep: $(rss)"
grep -a "idle divergence" "$WORK/serve.log" | sed 's/\x1b\[[0-9;]*m//g' | sed 's/.*INFO/ /' || true
START=$(date +%s.%N); kill -TERM "$PID"; wait "$PID" || true
echo "shutdown when idle: $(python3 -c "import time; print(round(time.time()-$START,2))") s"
