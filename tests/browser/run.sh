#!/usr/bin/env bash
# The web front end (/app) walked in a real browser: headless Chromium driven by Selenium
# (tests/browser/dashboard.py), with axe-core injected into every page. Installs what it needs:
# Debian's chromium and chromium-driver when missing, a venv at target/browser-venv with the
# pinned tests/browser/requirements.txt, and axe-core from tests/browser/package-lock.json.
#
# Run from the repository root:
#   DMA_BIN=target/release/dma tests/browser/run.sh     # binary (default target/debug/dma)
#   BROWSER_PG=1 tests/browser/run.sh                    # on a fresh PostgreSQL database
#   DATABASE_URL=postgres://... tests/browser/run.sh     # on a database you give (default: a
#                                                        # fresh temporary SQLite file)
# Screenshots go to docs/screenshots/. Prints `browser: N checks passed, M failed`; exits non-zero
# when any check failed.
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
pg_db=""
cleanup() {
  if [[ -n "$pg_db" ]]; then
    psql "$PG_ADMIN_URL" -q -c "DROP DATABASE IF EXISTS \"$pg_db\" WITH (FORCE)" >/dev/null || true
  fi
}
trap cleanup EXIT
if [[ "${BROWSER_PG:-}" == 1 ]]; then
  pg_db="dma_browser_$$_$(date +%s)"
  psql "$PG_ADMIN_URL" -q -c "CREATE DATABASE \"$pg_db\""
  export DATABASE_URL="${PG_ADMIN_URL%/*}/$pg_db"
  echo "fresh PostgreSQL database $DATABASE_URL"
fi

log="$(mktemp)"
status=0
"$VENV/bin/python" tests/browser/dashboard.py 2>&1 | tee "$log" || status=$?
if ! grep -qE '^browser: [0-9]+ checks passed, [0-9]+ failed$' "$log"; then
  # The walk crashed before it could count.
  echo "browser: 0 checks passed, 1 failed"
  [[ $status -ne 0 ]] || status=1
fi
rm -f "$log"
exit "$status"
