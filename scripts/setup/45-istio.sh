#!/usr/bin/env bash
# Istio's pilot-discovery (istiod), pilot-agent and istioctl for the real-Istio e2e
# tests, the injector goldens and `npm run bench:injector`: built once from the
# istio.io/istio Go module (scripts/istio/build/go.mod names the commit) and cached by
# version under ${HOOKPOINT_CACHE:-$HOME/.cache/hookpoint}/bin. A cold build takes
# several minutes; later runs only check the cache.
# In CI (CI=true) a machine that cannot build them fails here; elsewhere the real-Istio
# tests are then skipped with the reason.
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { printf '[hookpoint setup] %s\n' "$*" >&2; }
# shellcheck source=lib/build.sh
source scripts/setup/lib/build.sh

log "Istio binaries: pilot-discovery, pilot-agent, istioctl (scripts/istio/build.sh)"
build_or_explain scripts/istio/build.sh "Istio's binaries" "real-Istio tests"
