#!/usr/bin/env bash
# Ensure a project-local Python venv exists and holds a requirements file.
#   scripts/venv.sh                          .venv from requirements-dev.txt (the dev tools)
#   scripts/venv.sh VENV REQUIREMENTS [PIP-ARGS...]   any other venv of the project
# Idempotent: reinstalls only when the requirements file changed since the last
# successful install (sha256 kept in VENV/.installed). Quiet on success.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/${1:-.venv}"
req="$root/${2:-requirements-dev.txt}"
shift $(( $# < 2 ? $# : 2 ))
stamp="$venv/.installed"

die() { echo "venv.sh: error: $*" >&2; exit 1; }

command -v python3 >/dev/null 2>&1 || die "python3 not found (need Python >= 3.11 with the venv module)"
[[ -f "$req" ]] || die "missing $req"

sha() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}
want="$(sha "$req")"

# A venv whose interpreter is gone (moved dir, removed Python) is recreated.
if [[ -d "$venv" && ! -x "$venv/bin/python" ]]; then
  rm -rf "$venv"
fi
if [[ ! -x "$venv/bin/python" ]]; then
  log="$(mktemp)"
  if ! python3 -m venv "$venv" >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"
    die "could not create $venv (on Debian/Ubuntu: apt-get install python3-venv)"
  fi
  rm -f "$log"
fi

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! "$venv/bin/python" -m pip install --disable-pip-version-check -q "$@" -r "$req" >"$log" 2>&1; then
  cat "$log" >&2
  die "pip install -r $req failed (output above)"
fi
echo "$want" >"$stamp"
