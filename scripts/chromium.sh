#!/usr/bin/env bash
# Prints the path of the Chromium the portal's browser tests drive (scripts/portal-e2e.sh).
#   $CHROMIUM if set, else /usr/bin/chromium; when missing and we are root with apt-get,
#   installs Debian's `chromium` (no browser is ever downloaded by npm or Playwright).
# Exit codes: 0 found (path on stdout); 1 missing with CI=1 (required there);
#   3 missing elsewhere: a loud SKIPPED line on stderr, which portal-e2e.sh turns into a skip.
set -euo pipefail

candidate="${CHROMIUM:-/usr/bin/chromium}"

usable() { [ -n "$1" ] && [ -x "$1" ] && [ ! -d "$1" ]; }

if ! usable "$candidate" && [ -z "${CHROMIUM:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "chromium.sh: $candidate is missing; installing Debian's chromium with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    if apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends chromium >&2; then
      :
    else
      echo "chromium.sh: apt-get could not install chromium" >&2
    fi
  fi
fi

if usable "$candidate"; then
  echo "$candidate"
  exit 0
fi

how="install Debian's package as root (apt-get update && apt-get install -y chromium), or set CHROMIUM=/path/to/chromium"
if [ -n "${CHROMIUM:-}" ]; then
  how="CHROMIUM=$CHROMIUM is not an executable file; unset it to use /usr/bin/chromium, or $how"
fi
if [ "${CI:-}" = 1 ] || [ "${CI:-}" = true ]; then
  echo "chromium.sh: ERROR: the portal browser tests need Chromium and CI requires them: $how" >&2
  exit 1
fi
{
  echo "######################################################################"
  echo "SKIPPED: portal browser tests need Chromium ($how)"
  echo "######################################################################"
} >&2
exit 3
