#!/usr/bin/env bash
# kustomize, which test/unit/deploy uses to render deploy/overlays/*: built once
# from source through the Go module proxy and cached outside the repository,
# keyed by version. Idempotent: a cached binary is reused.
set -euo pipefail
version=v5.5.0
cache="${HOOKPOINT_CACHE:-$HOME/.cache/hookpoint}/kustomize/$version"
bin="$cache/kustomize"
log() { printf '[setup kustomize] %s\n' "$*" >&2; }

if [[ -x $bin ]]; then
  log "kustomize $version already built: $bin"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  log "ERROR: Go is needed to build kustomize $version (go install sigs.k8s.io/kustomize/kustomize/v5@$version) and was not found on PATH"
  exit 1
fi
log "building kustomize $version with $(go version | cut -d' ' -f3) into $bin (about a minute, once)"
mkdir -p "$cache"
tmp="$(mktemp -d "$cache/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
if ! GOBIN="$tmp" go install "sigs.k8s.io/kustomize/kustomize/v5@$version"; then
  log "ERROR: go install sigs.k8s.io/kustomize/kustomize/v5@$version failed (see above)"
  exit 1
fi
mv "$tmp/kustomize" "$bin"
log "kustomize $version ready: $bin"
