#!/usr/bin/env bash
# The README's test command (`npm test`): installs everything the tests need,
# idempotently, then runs every test project and ends with
# `N passed, N failed[, N skipped]`.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[hookpoint test] %s\n' "$*" >&2; }

# Each setup step is idempotent and says what it does; a failing step stops the run.
for step in scripts/setup/*.sh; do
  log "setup: ${step#scripts/setup/}"
  bash "$step"
done

log "type-check and lint"
npx tsc -p tsconfig.json --noEmit
npx eslint . --max-warnings 0

log "tests"
exec npx vitest run --reporter=default --reporter=./test/support/summary-reporter.ts "$@"
