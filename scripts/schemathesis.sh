#!/usr/bin/env bash
# Runs schemathesis against the OpenAPI document the API serves, on a local stack of its own
# (free ports, its own emulators), checking: no 5xx on any operation, responses conform to the
# documented schemas and content types. Stops the stack on exit, whatever happens.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
key="hl_prod_schemathesis_$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
operator="hlop_prod_schemathesis_$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
log="$(mktemp -t hookline-schemathesis.XXXXXX)"
cargo build --quiet --bin hookline-local

PORT="$port" DEV_API_KEY="$key" DEV_OPERATOR_KEY="$operator" ALLOW_HTTP_WEBHOOKS=true target/debug/hookline-local dev >"$log" 2>&1 &
pid=$!
cleanup() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"; }
trap cleanup EXIT

for _ in $(seq 1 120); do
  grep -q "Hookline is ready" "$log" && break
  kill -0 "$pid" 2>/dev/null || { echo "schemathesis.sh: the local stack did not start:" >&2; cat "$log" >&2; exit 1; }
  sleep 0.5
done
grep -q "Hookline is ready" "$log" || { echo "schemathesis.sh: the local stack was not ready in 60 s" >&2; cat "$log" >&2; exit 1; }

base="http://127.0.0.1:$port"
# Give the generated webhooks something to subscribe to: the platform's catalog, which only
# an operator key writes (the account key below reads it).
for name in invoice.created loan.created; do
  curl -sf -o /dev/null -X POST "$base/api/v3/event_types" \
    -H "Authorization: Bearer $operator" -H 'content-type: application/vnd.api+json' \
    -d "{\"data\":{\"type\":\"event_types\",\"attributes\":{\"name\":\"$name\"}}}"
done

run() {
  SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$root/scripts${PYTHONPATH:+:$PYTHONPATH}" \
  schemathesis run "$base/api/v3/openapi.json" \
    --checks not_a_server_error,response_schema_conformance,content_type_conformance \
    --max-examples "${SCHEMATHESIS_EXAMPLES:-30}" \
    ${SCHEMATHESIS_SEED:+--seed "$SCHEMATHESIS_SEED"} \
    --workers 2 \
    --warnings off \
    "$@"
}
# Every operation as an account (the platform's routes answer it 404), then the platform's
# event catalog as the platform, which alone gets past its key check.
run --header "Authorization: Bearer $key"
run --header "Authorization: Bearer $operator" --include-path-regex '^/api/v3/event_types'
