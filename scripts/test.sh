#!/usr/bin/env bash
# The test command: brings the Debian peers the tests talk to, builds, and runs vitest.
# Extra arguments go to vitest (e.g. `npm test -- test/oci`).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh
npx tsc -p tsconfig.json
npx tsc -p tsconfig.test.json
npx tsc -p dagger/tsconfig.json
exec npx vitest run --reporter=default --reporter=json --outputFile.json=.vitest-report.json "$@"
