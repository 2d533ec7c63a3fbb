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

# shellcheck source=scripts/local-stack.sh
source "$root/scripts/local-stack.sh"
start_local_stack portal

screenshots="${PORTAL_SCREENSHOTS:-target/portal-e2e}"
case "$screenshots" in /*) ;; *) screenshots="$root/$screenshots" ;; esac
mkdir -p "$screenshots"

set +e
(
  cd "$suite"
  HOOKLINE_URL="$base" HOOKLINE_OPERATOR_KEY="$operator" CHROMIUM="$chromium" \
  PORTAL_SCREENSHOTS="$screenshots" PORTAL_RESULTS="$root/target/portal-e2e-results" \
    node_modules/.bin/playwright test "$@"
)
status=$?
set -e
echo "portal-e2e.sh: screenshots in $screenshots" >&2
exit "$status"
