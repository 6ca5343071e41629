#!/usr/bin/env bash
# Runs every benchmark in bench/ (each prints its own figures against a peer measured in the same run).
set -euo pipefail
cd "$(dirname "$0")/.."
for bench in bench/*.ts; do
  echo "== ${bench}"
  npx tsx "${bench}"
done
