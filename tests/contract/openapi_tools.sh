#!/usr/bin/env bash
# Judges openapi/openapi.json the way integrators' tools will:
#   (a) openapi-spec-validator accepts it;
#   (b) openapi-python-client generates a client from it without a single warning or error;
#   (c) the generated client parses the 200 of GET /rounds/{round}/divergence and
#       GET /rounds/{round}/scores into the typed models DivergenceReport and RoundScores;
#   (d) every operationId is unique (and camelCase), every response has a description;
#   (e) the generated client, called against the debug binary on a fresh SQLite database with
#       the demo rounds, gets a typed DivergenceReport and RoundScores for round 2025-26.
# Needs python3 (with venv) and PyPI; the tools live in target/contract-venv, reused across runs.
# SKIP_LIVE=1 skips (e).
set -euo pipefail
cd "$(dirname "$0")/../.."

DOC="${OPENAPI_DOC:-openapi/openapi.json}"
VENV=target/contract-venv
REQUIREMENTS=("openapi-spec-validator==0.9.*" "openapi-python-client==0.29.*")

echo "== python tools in $VENV"
stamp="$VENV/.requirements"
if [[ ! -x "$VENV/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "${REQUIREMENTS[*]}" ]]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${REQUIREMENTS[@]}"
  echo "${REQUIREMENTS[*]}" >"$stamp"
fi
PY="$VENV/bin/python"

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== (a) openapi-spec-validator"
"$VENV/bin/openapi-spec-validator" "$DOC"

echo "== (b) openapi-python-client generate"
# No post hooks: formatting the generated code with ruff is not what is judged here, and without
# ruff installed the default hooks only print "ruff is not in PATH".
printf 'post_hooks: []\n' >"$work/generator.yaml"
set +e
"$VENV/bin/openapi-python-client" generate --path "$DOC" --output-path "$work/dma_client" \
  --meta none --config "$work/generator.yaml" --fail-on-warning >"$work/generate.log" 2>&1
status=$?
set -e
cat "$work/generate.log"
if [[ $status -ne 0 ]] || grep -qiE 'warning|error|unable|cannot|skipping|not in path' "$work/generate.log"; then
  echo "openapi-python-client did not generate the client cleanly (exit $status)" >&2
  exit 1
fi

echo "== (c, d) typed models, typed 200 parsing, operation ids, response descriptions"
PYTHONPATH="$work" "$PY" - "$DOC" <<'PY'
import collections, inspect, json, re, sys, typing

import httpx

import dma_client.models as models
from dma_client import Client
from dma_client.api.divergence import get_round_divergence
from dma_client.api.scores import get_round_scores

doc = json.load(open(sys.argv[1]))
failures = []

# (d) operation ids unique and camelCase; every response described.
ids = collections.Counter()
for path, ops in doc["paths"].items():
    for method, op in ops.items():
        op_id = op.get("operationId")
        ids[op_id] += 1
        if not op_id or not re.fullmatch(r"[a-z][a-zA-Z0-9]*", op_id):
            failures.append(f"{method.upper()} {path}: operationId {op_id!r} is not camelCase")
        for status, resp in op["responses"].items():
            if "$ref" not in resp and not resp.get("description"):
                failures.append(f"{method.upper()} {path} {status}: no description")
failures += [f"operationId {i!r} used {n} times" for i, n in ids.items() if n > 1]
for name, resp in doc.get("components", {}).get("responses", {}).items():
    if not resp.get("description"):
        failures.append(f"components.responses.{name}: no description")


def minimal(schema, depth=0):
    """The smallest instance of a schema: required properties only, first of any choice."""
    if "$ref" in schema:
        return minimal(doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]], depth + 1)
    for key in ("oneOf", "anyOf", "allOf"):
        if key in schema:
            if key == "allOf":
                out = {}
                for part in schema[key]:
                    out.update(minimal(part, depth + 1))
                return out
            return minimal(schema[key][0], depth + 1)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = "null" if "null" in kind else kind[0]
    if kind == "null":
        return None
    if kind == "object":
        props = schema.get("properties", {})
        return {k: minimal(props[k], depth + 1) for k in schema.get("required", []) if k in props}
    if kind == "array":
        return []
    if kind == "string":
        return "2025-01-01T00:00:00Z" if schema.get("format") == "date-time" else "x"
    return {"integer": 0, "number": 0.5, "boolean": False}[kind]


for module, model, path, exports in [
    (get_round_divergence, "DivergenceReport", "/api/v1/rounds/{round}/divergence", {"text/csv", "application/x-ndjson"}),
    (get_round_scores, "RoundScores", "/api/v1/rounds/{round}/scores", {"text/csv"}),
]:
    cls = getattr(models, model, None)
    if cls is None:
        failures.append(f"the generated client has no model {model}")
        continue
    media = doc["paths"][path]["get"]["responses"]["200"]["content"]
    if set(media) != {"application/json"} | exports:
        failures.append(f"{path}: 200 declares {sorted(media)}, not JSON and {sorted(exports)}")
    schema = media.get("application/json", {}).get("schema", {"$ref": f"#/components/schemas/{model}"})
    body = minimal(schema)
    reply = httpx.Response(200, json=body, request=httpx.Request("GET", "http://test" + path))
    parsed = module._parse_response(client=Client(base_url="http://test"), response=reply)
    if not isinstance(parsed, cls):
        failures.append(f"{module.__name__}: a 200 parses to {type(parsed).__name__}, not {model}")
    hint = typing.get_args(inspect.signature(module.sync).return_annotation)
    if cls not in hint or str in hint:
        failures.append(f"{module.__name__}.sync returns {hint}, not {model}")
    print(f"{module.__name__.rsplit('.', 1)[1]}: 200 -> {type(parsed).__name__}")

if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
print(f"{sum(ids.values())} operations, ids unique; every response described")
PY

if [[ "${SKIP_LIVE:-0}" == 1 ]]; then
  echo "== (e) skipped (SKIP_LIVE=1)"
  exit 0
fi

echo "== (e) the generated client against the debug binary"
cargo build --quiet --bin dma
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DATABASE_URL="$work/dma.sqlite" DMA_DATA_DIR="$work" DMA_BIND="127.0.0.1:$port" DMA_DEMO=true
export DMA_JWT_SECRET="contract-check-only-0123456789abcdefghij"
target/debug/dma serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 120); do
  if "$PY" -c "import httpx, sys; sys.exit(httpx.get('http://127.0.0.1:$port/health/ready').status_code != 200)" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    cat "$work/server.log" >&2
    echo "the server stopped" >&2
    exit 1
  fi
  sleep 0.5
done
token=$(target/debug/dma token --role analyst --ttl 10m)
PYTHONPATH="$work" BASE_URL="http://127.0.0.1:$port" TOKEN="$token" "$PY" - <<'PY'
import os, sys

from dma_client import AuthenticatedClient
from dma_client.api.divergence import get_round_divergence
from dma_client.api.scores import get_round_scores
from dma_client.models import DivergenceReport, RoundScores

client = AuthenticatedClient(base_url=os.environ["BASE_URL"], token=os.environ["TOKEN"],
                             raise_on_unexpected_status=True, timeout=60)
report = get_round_divergence.sync(round_="2025-26", client=client)
scores = get_round_scores.sync(round_="2025-26", client=client)
ok = isinstance(report, DivergenceReport) and isinstance(scores, RoundScores)
print(f"getRoundDivergence(2025-26) -> {type(report).__name__}"
      + (f" with {report.total} rows" if isinstance(report, DivergenceReport) else f": {report}"))
print(f"getRoundScores(2025-26) -> {type(scores).__name__}")
# Every page of the listing through the generated client, following next_cursor.
if ok:
    seen, cursor = 0, None
    while True:
        kwargs = {"limit": 500} if cursor is None else {"limit": 500, "cursor": cursor}
        page = get_round_divergence.sync(round_="2025-26", client=client, **kwargs)
        ok = ok and isinstance(page, DivergenceReport) and len(page.rows) <= 500
        seen += len(page.rows)
        cursor = page.next_cursor if isinstance(page.next_cursor, str) else None
        if not ok or cursor is None:
            break
    ok = ok and seen == report.total
    print(f"getRoundDivergence pages of 500: {seen} rows of {report.total}")
sys.exit(0 if ok else 1)
PY
echo "== OpenAPI document accepted by the integrators' tools"
