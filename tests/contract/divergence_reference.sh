#!/usr/bin/env bash
# The divergence endpoint against an independent re-implementation of docs/divergence-v1.md and
# docs/divergence-v2.md (tests/contract/divergence_reference.py, written from the documents without
# reading the engine): several data sets built through the API, every row compared field by field.
#
# Environment (optional): DMA_BIN=target/release/dma (default: built here).
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=target/reference-venv
REQUIREMENTS=("mpmath==1.3.0")
stamp="$VENV/.requirements"
if [[ ! -x "$VENV/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "${REQUIREMENTS[*]}" ]]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${REQUIREMENTS[@]}"
  echo "${REQUIREMENTS[*]}" >"$stamp"
fi

if [[ -z "${DMA_BIN:-}" ]]; then
  cargo build --release --bin dma
  DMA_BIN=target/release/dma
fi

"$VENV/bin/python" tests/contract/divergence_reference.py --bin "$DMA_BIN"
