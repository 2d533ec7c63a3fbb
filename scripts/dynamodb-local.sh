#!/usr/bin/env bash
# Ensure the official DynamoDB Local engine is in tools/dynamodb-local/engine/
# (DynamoDBLocal.jar + DynamoDBLocal_lib/ + LoopbackServer.class, the launcher that binds
# it to 127.0.0.1) and print that directory on stdout.
#
# The jar ships inside the npm package amplify-dynamodb-simulator (under
# package/emulator/); we `npm pack` a pinned version (no install, no scripts run),
# check the tarball's sha256 and extract just the engine. Idempotent: does
# nothing when the pinned version is already in place.
#
# Run it: cd "$(scripts/dynamodb-local.sh)" &&
#   java -Djava.library.path=./DynamoDBLocal_lib -cp 'DynamoDBLocal.jar:DynamoDBLocal_lib/*:.' \
#     LoopbackServer -inMemory -port 8000 -disableTelemetry
#
# Exit codes: 0 ok, 1 failure, 3 npm missing, 4 javac (a JDK >= 11) missing.
set -euo pipefail

PKG="amplify-dynamodb-simulator"
VERSION="2.9.30" # bundles DynamoDB Local 1.25.1
TGZ_SHA256="3503ffac19f183407909fecdacf4db51ab1fdad1da7b2f177016670b2d80e4b9"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/tools/dynamodb-local/engine"
launcher="$root/tools/dynamodb-local/LoopbackServer.java"
stamp="$dest/.version"
want="$PKG@$VERSION $(sha256sum "$launcher" | cut -d' ' -f1)"

die() { echo "dynamodb-local.sh: error: $1" >&2; exit "${2:-1}"; }

if [[ -f "$dest/DynamoDBLocal.jar" && -f "$dest/LoopbackServer.class" \
      && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "$dest"
  exit 0
fi

command -v javac >/dev/null 2>&1 || die "javac not found: install a JDK >= 11 (DynamoDB Local runs on Java; apt-get install default-jdk-headless)" 4
command -v npm >/dev/null 2>&1 || die "npm not found: install Node.js/npm (needed to fetch $PKG@$VERSION, which bundles DynamoDB Local)" 3

sha() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

tmp="$(mktemp -d "$root/tools/dynamodb-local/.engine.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

if ! (cd "$tmp" && npm pack "$PKG@$VERSION" --silent >"$tmp/npm.log" 2>&1); then
  cat "$tmp/npm.log" >&2
  die "npm pack $PKG@$VERSION failed (output above)"
fi
tgz="$tmp/$PKG-$VERSION.tgz"
[[ -f "$tgz" ]] || die "npm pack did not produce $(basename "$tgz")"
got="$(sha "$tgz")"
[[ "$got" == "$TGZ_SHA256" ]] || die "sha256 mismatch for $(basename "$tgz"): got $got, want $TGZ_SHA256"

mkdir "$tmp/out"
tar -xzf "$tgz" -C "$tmp/out" --strip-components=2 \
  package/emulator/DynamoDBLocal.jar package/emulator/DynamoDBLocal_lib \
  || die "could not extract DynamoDBLocal.jar / DynamoDBLocal_lib from $(basename "$tgz")"
[[ -f "$tmp/out/DynamoDBLocal.jar" && -d "$tmp/out/DynamoDBLocal_lib" ]] \
  || die "DynamoDBLocal.jar / DynamoDBLocal_lib not found in $(basename "$tgz")"
javac -cp "$tmp/out/DynamoDBLocal.jar:$tmp/out/DynamoDBLocal_lib/*" -d "$tmp/out" "$launcher" \
  || die "could not compile $launcher"
echo "$want" >"$tmp/out/.version"

# Swap in the complete directory only once it is whole.
rm -rf "$dest"
mv "$tmp/out" "$dest"
echo "$dest"
