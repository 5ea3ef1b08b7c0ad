#!/usr/bin/env bash
# `npm run bench [-- --quick]`: the benchmarks, against real Redis and PostgreSQL like the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/test-services.sh up)"
trap 'bash scripts/test-services.sh down' EXIT
node --import tsx bench/run.ts "$@"
