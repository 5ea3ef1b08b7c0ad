#!/usr/bin/env bash
# `npm run bench [-- --quick | --instructions | --route | --cluster]`: the benchmarks, against real Redis and PostgreSQL like the tests.
# `bash scripts/bench.sh lab [--quick]` (`npm run lab`): the strategy lab instead.
# `bash scripts/bench.sh profile <target> [--cold]` (`npm run bench:profile --`): one target's CPU profile.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/test-services.sh up)"
trap 'bash scripts/test-services.sh down' EXIT
if [ "${1:-}" = lab ]; then
  shift
  node --import tsx bench/lab/run.ts "$@"
elif [ "${1:-}" = profile ]; then
  shift
  node --import tsx bench/profile.ts "$@"
else
  node --import tsx bench/run.ts "$@"
fi
