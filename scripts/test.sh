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

# The e2e tests start the local cluster (and istiod) when none runs and leave it up for the
# next file; a cluster this run started is stopped again at the end.
cluster_was_up=0
npx tsx scripts/cluster/cluster.ts status >/dev/null 2>&1 && cluster_was_up=1
istiod_was_up=0
npx tsx scripts/istio/istiod.ts status >/dev/null 2>&1 && istiod_was_up=1

log "tests"
rc=0
npx vitest run --reporter=default --reporter=./test/support/summary-reporter.ts "$@" || rc=$?
if [[ $istiod_was_up == 0 ]]; then
  npx tsx scripts/istio/istiod.ts down >/dev/null 2>&1 || log "could not stop istiod: npm run istio:down"
fi
if [[ $cluster_was_up == 0 ]] && npx tsx scripts/cluster/cluster.ts status >/dev/null 2>&1; then
  npx tsx scripts/cluster/cluster.ts down >.cluster/down.log 2>&1 || log "could not stop the local cluster: see .cluster/down.log"
fi
exit "$rc"
