#!/usr/bin/env bash
# The FHIR R4 facade (/fhir/r4) checked from outside by an independent validator
# (tests/contract/fhir_check.py): CapabilityStatement, Questionnaire and QuestionnaireResponse
# reads and searches, OperationOutcome errors, and Questionnaire import/export round trips of the
# HL7 example forms in tests/fhir/questionnaires/ (origins in tests/fhir/SOURCE.md).
#
# Validator: fhir.resources 6.4.0, the last release whose top-level models (fhir.resources.<name>)
# are FHIR R4 4.0.1 (its __fhir_version__ is "4.0.1"). 6.5.0 moved to R4B 4.3.0 and 7.x/8.x are R5
# with only R4B and STU3 sub-packages, so none of them validates 4.0.1 itself. 6.4.0 is built on
# pydantic v1 and declares no upper bound, hence the pydantic 1.10 pin.
#
# Environment (optional): DMA_BIN=target/release/dma (default: built here).
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=target/fhir-venv
REQUIREMENTS=("fhir.resources==6.4.0" "pydantic==1.10.27" "email-validator==2.3.0")
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

"$VENV/bin/python" tests/contract/fhir_check.py --bin "$DMA_BIN"
