#!/usr/bin/env bash
# `npm test`: the whole suite, each step named after the invariant it guards. Stops at the first failure.
# The last line is always `tests: N passed, N failed[, N skipped]`, and says "0 failed" only when the exit
# status is 0: a step that fails before the tests run counts as one failure.
set -euo pipefail
cd "$(dirname "$0")/.."

results=.test-data/vitest-results.json
current=""
services_up=false
vitest_status=""

step() {
  current=$1
  printf '\n== %s\n' "$1"
}

finish() {
  local status=$?
  trap - EXIT
  if $services_up; then bash scripts/test-services.sh down || true; fi
  if [ -n "$vitest_status" ]; then
    npx tsx scripts/test-summary.ts "$results" "$vitest_status" || echo "tests: 0 passed, 1 failed"
  elif [ "$status" -ne 0 ]; then
    printf '\nstep failed: %s\ntests: 0 passed, 1 failed\n' "$current"
  fi
  exit "$status"
}
trap finish EXIT

step "real tools available (Debian chromium, nginx)"
bash scripts/ensure-tools.sh

step "test services answer (Redis, PostgreSQL: the given ones, or private ones started here)"
services_up=true # set first: `down` is safe to run, and cleans up a half-finished `up`
eval "$(bash scripts/test-services.sh up)"
echo "REDIS_URL=$REDIS_URL DATABASE_URL=$DATABASE_URL"

step "types check (tsc, strict)"
npm run -s typecheck

step "lint and formatting (eslint, prettier)"
npm run -s lint

step "server builds (dist/ is what npm start runs)"
npm run -s build

step "tests: unit, store contract, integration, browser"
mkdir -p .test-data
rm -rf "$results" .test-data/coverage # never summarise an earlier run
vitest_status=0
npx vitest run --coverage.enabled --reporter=default --reporter=json --outputFile.json="$results" \
  || vitest_status=$?
exit "$vitest_status"
