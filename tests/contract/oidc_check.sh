#!/usr/bin/env bash
# Sign-in with OpenID Connect end to end against a real OpenID provider: oidc-provider 9.13.3
# (tests/oidc, pinned by its package-lock.json, installed with npm ci) and the service binary,
# walked over HTTP by tests/contract/oidc_check.py (Python standard library only). Both processes
# are stopped on exit.
#
# Environment (optional): DMA_BIN=target/debug/dma (default: built here).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ ! -d tests/oidc/node_modules/oidc-provider \
      || tests/oidc/package-lock.json -nt tests/oidc/node_modules/.package-lock.json ]]; then
  (cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error)
fi

if [[ -z "${DMA_BIN:-}" ]]; then
  cargo build --bin dma
  DMA_BIN=target/debug/dma
fi

exec python3 tests/contract/oidc_check.py --bin "$DMA_BIN"
