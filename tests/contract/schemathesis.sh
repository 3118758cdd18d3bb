#!/usr/bin/env bash
# Property-based API testing: schemathesis (pinned, from PyPI) against the release binary, on
# SQLite and on PostgreSQL, once per role (submitter, analyst, admin), every check on, at least
# MIN_CASES generated cases per run. Fails on any 5xx, any response the document does not describe
# (status, content type, headers, body schema), any schema-valid request refused or invalid one
# accepted (beyond the expectations in tests/contract/schemathesis.toml), or too few cases.
#
# Each backend gets a throwaway database with the reference data and the three synthetic demo
# rounds. Runs are ordered submitter → analyst → admin: the admin run writes (creates and revokes
# clients, publishes frameworks and rounds, re-opens returns…), which is fine on a throwaway
# database but would change what the read-only roles see, so it comes last.
#
# Environment (all optional):
#   BACKENDS="sqlite postgres"   which backends to run
#   ROLES="submitter analyst admin"
#   MAX_EXAMPLES=15              schemathesis --max-examples (per operation and phase; 10 gives
#                                about 3,100 cases per run over the 40 operations)
#   MIN_CASES=2000               fail a run that generated fewer cases than this
#   ST_SEED=<int>                fix the generation seed (default: random, printed in the report)
#   DMA_BIN=target/release/dma   the binary (default: built here with cargo build --release)
#   PG_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres
#   ST_WORKERS=1                 schemathesis workers (more trip a CPython 3.11 bug: "AST constructor
#                                recursion depth mismatch" when hypothesis parses lambdas in threads)
# Reports (JUnit and the JSON run report) land in target/schemathesis/<backend>-<role>/.
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=target/schemathesis-venv
REQUIREMENTS=("schemathesis==4.32.5")
BACKENDS="${BACKENDS:-sqlite postgres}"
ROLES="${ROLES:-submitter analyst admin}"
MAX_EXAMPLES="${MAX_EXAMPLES:-15}"
MIN_CASES="${MIN_CASES:-2000}"
ST_WORKERS="${ST_WORKERS:-1}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
# The submitter acts for one acute trust with returns in every demo round.
SUBMITTER_ORG="${SUBMITTER_ORG:-RJ1}"
REPORTS=target/schemathesis
started=$(date +%s)

echo "== schemathesis in $VENV"
stamp="$VENV/.requirements"
if [[ ! -x "$VENV/bin/st" || "$(cat "$stamp" 2>/dev/null)" != "${REQUIREMENTS[*]}" ]]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${REQUIREMENTS[@]}"
  echo "${REQUIREMENTS[*]}" >"$stamp"
fi
"$VENV/bin/st" --version

if [[ -z "${DMA_BIN:-}" ]]; then
  echo "== cargo build --release --bin dma"
  cargo build --release --bin dma
  DMA_BIN=target/release/dma
fi

work=$(mktemp -d)
server_pid=""
pg_db=""
stop_server() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
drop_pg_db() {
  if [[ -n "$pg_db" ]]; then
    psql "$PG_ADMIN_URL" -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS \"$pg_db\" WITH (FORCE)" >/dev/null || true
    pg_db=""
  fi
}
cleanup() {
  stop_server
  drop_pg_db
  rm -rf "$work"
}
trap cleanup EXIT

# The service's own environment for these runs. Rate limits are off (0): one schemathesis worker
# sends requests faster than a person, and a 429 would only say the run was fast. The bound on
# expensive computations keeps its defaults (one worker never has more than one in flight).
export DMA_JWT_SECRET="schemathesis-run-only-0123456789abcdefghij"
export DMA_DATA_DIR="$work"
export DMA_DEMO=true
export RUST_LOG="${RUST_LOG:-warn}"
export DMA_RATE_LIMIT_PER_SECOND="${DMA_RATE_LIMIT_PER_SECOND:-0}"
export DMA_ANON_RATE_LIMIT_PER_SECOND="${DMA_ANON_RATE_LIMIT_PER_SECOND:-0}"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DMA_BIND="127.0.0.1:$port"
base="http://127.0.0.1:$port"

start_server() {
  "$DMA_BIN" serve >"$1" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 240); do
    if curl -fsS "$base/health/ready" >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      cat "$1" >&2
      echo "the server stopped" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "the server did not become ready" >&2
  exit 1
}

token_for() {
  case "$1" in
    submitter) "$DMA_BIN" token --role submitter --org "$SUBMITTER_ORG" --ttl 4h --subject st-submitter ;;
    *) "$DMA_BIN" token --role "$1" --ttl 4h --subject "st-$1" ;;
  esac
}

failed=()
summary=()
for backend in $BACKENDS; do
  case "$backend" in
    sqlite)
      export DATABASE_URL="$work/st-$backend.sqlite"
      ;;
    postgres)
      pg_db="dma_schemathesis_$$"
      psql "$PG_ADMIN_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$pg_db\"" >/dev/null
      export DATABASE_URL="${PG_ADMIN_URL%/*}/$pg_db"
      # The server loads the demo by itself only into an empty SQLite file; here `seed --demo`.
      "$DMA_BIN" seed --demo >"$work/seed.log" 2>&1 || { cat "$work/seed.log" >&2; exit 1; }
      ;;
    *)
      echo "unknown backend $backend" >&2
      exit 1
      ;;
  esac
  start_server "$work/server-$backend.log"
  for role in $ROLES; do
    out="$REPORTS/$backend-$role"
    rm -rf "$out"
    mkdir -p "$out"
    token=$(token_for "$role")
    echo "== schemathesis: $backend, $role (max $MAX_EXAMPLES examples per operation)"
    args=(
      run "$base/api-docs/openapi.json"
      --url "$base"
      --checks all
      --max-examples "$MAX_EXAMPLES"
      --workers "$ST_WORKERS"
      --header "Authorization: Bearer $token"
      --request-timeout 30
      --generation-database none
      --suppress-health-check too_slow,filter_too_much
      --report junit,ndjson
      --report-dir "$out"
      --no-color
    )
    if [[ -n "${ST_SEED:-}" ]]; then
      args+=(--seed "$ST_SEED")
    fi
    set +e
    SCHEMATHESIS_HOOKS=tests.contract.schemathesis_hooks PYTHONPATH=. \
      "$VENV/bin/st" --config-file tests/contract/schemathesis.toml "${args[@]}" \
      >"$out/output.txt" 2>&1
    status=$?
    set -e
    tail -n 40 "$out/output.txt"
    # schemathesis's own count, from its summary ("Test cases:" / "  2125 generated, …").
    cases=$(grep -oE '^ +[0-9]+ generated' "$out/output.txt" | grep -oE '[0-9]+' | tail -n 1)
    cases=${cases:-0}
    summary+=("$backend $role: $cases cases, exit $status")
    if [[ $status -ne 0 ]]; then
      failed+=("$backend/$role: schemathesis exit $status (see $out/output.txt)")
    fi
    if ((cases < MIN_CASES)); then
      failed+=("$backend/$role: only $cases cases generated (at least $MIN_CASES wanted)")
    fi
    if grep -q "panicked" "$work/server-$backend.log"; then
      failed+=("$backend/$role: the server panicked (see below)")
      grep -n -A5 "panicked" "$work/server-$backend.log" >&2 || true
    fi
  done
  stop_server
  cp "$work/server-$backend.log" "$REPORTS/server-$backend.log"
  drop_pg_db
done

echo "== schemathesis summary ($(($(date +%s) - started)) s)"
printf '  %s\n' "${summary[@]}"
if ((${#failed[@]})); then
  printf 'FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "== schemathesis: no failures"
