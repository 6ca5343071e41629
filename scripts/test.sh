#!/usr/bin/env bash
# The test command: brings the Debian peers the tests talk to, builds the real tools that judge our
# output (cached per version, scripts/build-judges.sh), builds, and runs vitest.
# Extra arguments go to vitest (e.g. `npm test -- test/oci`).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh
bash scripts/build-judges.sh
npx tsc -p tsconfig.json
npx tsc -p tsconfig.test.json
npx tsc -p dagger/tsconfig.json
exec npx vitest run --reporter=default --reporter=json --outputFile.json=.vitest-report.json "$@"
