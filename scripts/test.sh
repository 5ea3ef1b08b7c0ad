#!/usr/bin/env bash
# `npm test`: the whole suite, each step named after the invariant it guards. Stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$1"; }

step "real tools available (Debian chromium, nginx)"
bash scripts/ensure-tools.sh

step "test services answer (Redis, PostgreSQL: the given ones, or private ones started here)"
eval "$(bash scripts/test-services.sh up)"
trap 'bash scripts/test-services.sh down' EXIT
echo "REDIS_URL=$REDIS_URL DATABASE_URL=$DATABASE_URL"

step "types check (tsc, strict)"
npm run -s typecheck

step "lint and formatting (eslint, prettier)"
npm run -s lint

step "server builds (dist/ is what npm start runs)"
npm run -s build

step "tests: unit, store contract, integration, browser"
results=.test-data/vitest-results.json
mkdir -p .test-data
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" || status=$?
# One plain closing line that any CI log reader understands.
node -e '
  const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results" || true
exit "$status"
