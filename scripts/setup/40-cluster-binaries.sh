#!/usr/bin/env bash
# kube-apiserver and etcd for the e2e tests: built once from the Go module proxy and
# cached by version under ${HOOKPOINT_CACHE:-$HOME/.cache/hookpoint}/bin (a cold
# build takes a few minutes; later runs only check the cache).
# In CI (CI=true) a machine that cannot build them fails here; elsewhere the e2e
# tests are then skipped with the reason.
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { printf '[hookpoint setup] %s\n' "$*" >&2; }
# shellcheck source=lib/build.sh
source scripts/setup/lib/build.sh

log "cluster binaries: kube-apiserver and etcd (scripts/cluster/build.sh)"
build_or_explain scripts/cluster/build.sh "cluster binaries" "e2e tests"
