#!/usr/bin/env bash
# Runs the customer portal's end-to-end browser tests (tests/portal, Playwright driving the
# system's Chromium) against a local stack of its own (free ports, its own emulators), like
# scripts/schemathesis.sh. Skips loudly without Chromium (CI=1 makes it required; see
# scripts/chromium.sh). Stops the stack on exit, whatever happens; exits with the tests' status.
# Extra arguments go to `playwright test` (e.g. a file name or `-g 'read-only'`).
# Screenshots land in ${PORTAL_SCREENSHOTS:-target/portal-e2e}, failure traces in target/portal-e2e-results.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

set +e
chromium="$(scripts/chromium.sh)"
status=$?
set -e
if [ "$status" = 3 ]; then
  echo "portal-e2e.sh: SKIPPED (no Chromium, see above)" >&2
  exit 0
elif [ "$status" != 0 ]; then
  exit "$status"
fi

# The tests' own packages, exactly as locked; no browser download (the system's Chromium is used).
suite="$root/tests/portal"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ ! -d "$suite/node_modules" ] || [ "$suite/package-lock.json" -nt "$suite/node_modules" ]; then
  (cd "$suite" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$suite/node_modules"
fi

# The tests type-check (a mistake in them is found before any stack starts).
(cd "$suite" && node_modules/.bin/tsc --noEmit)

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
key="hl_prod_portal_$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
operator="hlop_prod_portal_$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
log="$(mktemp -t hookline-portal-e2e.XXXXXX)"
cargo build --quiet --bin hookline-local

PORT="$port" DEV_API_KEY="$key" DEV_OPERATOR_KEY="$operator" ALLOW_HTTP_WEBHOOKS=true target/debug/hookline-local dev >"$log" 2>&1 &
pid=$!
cleanup() {
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -n "${PORTAL_E2E_KEEP_LOG:-}" ]; then echo "portal-e2e.sh: the stack's log: $log" >&2; else rm -f "$log"; fi
}
trap cleanup EXIT

for _ in $(seq 1 120); do
  grep -q "Hookline is ready" "$log" && break
  kill -0 "$pid" 2>/dev/null || { echo "portal-e2e.sh: the local stack did not start:" >&2; cat "$log" >&2; exit 1; }
  sleep 0.5
done
grep -q "Hookline is ready" "$log" || { echo "portal-e2e.sh: the local stack was not ready in 60 s" >&2; cat "$log" >&2; exit 1; }

screenshots="${PORTAL_SCREENSHOTS:-target/portal-e2e}"
case "$screenshots" in /*) ;; *) screenshots="$root/$screenshots" ;; esac
mkdir -p "$screenshots"

set +e
(
  cd "$suite"
  HOOKLINE_URL="http://127.0.0.1:$port" HOOKLINE_OPERATOR_KEY="$operator" CHROMIUM="$chromium" \
  PORTAL_SCREENSHOTS="$screenshots" PORTAL_RESULTS="$root/target/portal-e2e-results" \
    node_modules/.bin/playwright test "$@"
)
status=$?
set -e
echo "portal-e2e.sh: screenshots in $screenshots" >&2
exit "$status"
