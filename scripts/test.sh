#!/usr/bin/env bash
# Runs every test with Node's own runner (through tsx), one file at a time
# so that tests which start servers do not fight over ports.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(find src test -name '*.test.ts' | sort); fi
exec node --import tsx --test --test-concurrency=1 "${files[@]}"
