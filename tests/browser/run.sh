#!/usr/bin/env bash
# The web front end (/app) walked in a real browser: headless Chromium driven by Selenium, with
# axe-core injected into every page: the analysts' dashboard (tests/browser/dashboard.py), then the
# CIO questionnaire (tests/browser/questionnaire.py), each on its own service and its own fresh
# database. Installs what it needs:
# Debian's chromium and chromium-driver when missing, a venv at target/browser-venv with the
# pinned tests/browser/requirements.txt, and axe-core from tests/browser/package-lock.json.
#
# Run from the repository root:
#   DMA_BIN=target/release/dma tests/browser/run.sh     # binary (default target/debug/dma)
#   BROWSER_PG=1 tests/browser/run.sh                    # on fresh PostgreSQL databases (one per walk)
#   DATABASE_URL=postgres://... tests/browser/run.sh     # on a database you give, both walks
#                                                        # (default: a fresh temporary SQLite file
#                                                        # per walk)
#   BROWSER_WALKS=questionnaire tests/browser/run.sh     # only some walks (default: dashboard questionnaire)
# Screenshots go to docs/screenshots/. Each walk prints `WALK: N checks passed, M failed`; the last
# line, `browser: N checks passed, M failed`, adds them up. Exits non-zero when any check failed.
set -euo pipefail

# DMA_BIN may be relative to where the script was started from.
if [[ -n "${DMA_BIN:-}" && "$DMA_BIN" != /* && -e "$DMA_BIN" ]]; then
  DMA_BIN="$PWD/$DMA_BIN"
fi
cd "$(dirname "$0")/../.."
export DMA_BIN="${DMA_BIN:-$PWD/target/debug/dma}"
if [[ ! -x "$DMA_BIN" ]]; then
  echo "no service binary at $DMA_BIN: run cargo build (or set DMA_BIN)" >&2
  echo "browser: 0 checks passed, 1 failed"
  exit 1
fi

if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
  apt-get update
  apt-get install -y chromium chromium-driver
fi

VENV=target/browser-venv
stamp="$VENV/.requirements"
if [[ ! -x "$VENV/bin/python" ]] || ! cmp -s tests/browser/requirements.txt "$stamp"; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/browser/requirements.txt
  cp tests/browser/requirements.txt "$stamp"
fi

(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)

PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
pg_dbs=()
cleanup() {
  local db
  for db in "${pg_dbs[@]}"; do
    psql "$PG_ADMIN_URL" -q -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null || true
  done
}
trap cleanup EXIT

passed=0
failed=0
status=0
for walk in ${BROWSER_WALKS:-dashboard questionnaire}; do
  db_url="${DATABASE_URL:-}"
  if [[ "${BROWSER_PG:-}" == 1 ]]; then
    db="dma_browser_${walk}_$$_$(date +%s)"
    psql "$PG_ADMIN_URL" -q -c "CREATE DATABASE \"$db\""
    pg_dbs+=("$db")
    db_url="${PG_ADMIN_URL%/*}/$db"
    echo "fresh PostgreSQL database $db_url for the $walk walk"
  fi
  log="$(mktemp)"
  st=0
  # The dashboard walk names its count `browser:`; here it is that walk's, so it is renamed, and
  # the only `browser:` line is the sum at the end.
  DATABASE_URL="$db_url" "$VENV/bin/python" "tests/browser/$walk.py" 2>&1 \
    | sed -u -E 's/^browser: ([0-9]+ checks passed, [0-9]+ failed)$/'"$walk"': \1/' | tee "$log" || st=$?
  line="$(grep -E "^$walk: [0-9]+ checks passed, [0-9]+ failed$" "$log" | tail -n1 || true)"
  rm -f "$log"
  if [[ -z "$line" ]]; then
    # The walk crashed before it could count.
    echo "$walk: 0 checks passed, 1 failed (the walk did not finish)"
    failed=$((failed + 1))
    [[ $st -ne 0 ]] || st=1
  else
    [[ "$line" =~ ([0-9]+)\ checks\ passed,\ ([0-9]+)\ failed ]]
    passed=$((passed + BASH_REMATCH[1]))
    failed=$((failed + BASH_REMATCH[2]))
  fi
  [[ $st -eq 0 ]] || status=$st
done
echo
echo "browser: $passed checks passed, $failed failed"
[[ $failed -eq 0 ]] || [[ $status -ne 0 ]] || status=1
exit "$status"
