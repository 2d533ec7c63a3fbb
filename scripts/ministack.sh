#!/usr/bin/env bash
# Ensure the DynamoDB emulator (ministack) is installed in its own venv,
# tools/ministack/.venv, from tools/ministack/requirements.txt (every package pinned
# with its hash). Prints the venv folder on stdout.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/venv.sh" tools/ministack/.venv tools/ministack/requirements.txt --require-hashes --no-deps
echo "$root/tools/ministack/.venv"
