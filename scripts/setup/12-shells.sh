#!/usr/bin/env bash
# zsh and fish, for the tests that load `hookpoint completion zsh|fish` into the real
# shells (bash is always there). Idempotent; without root or apt those tests are
# reported skipped with the reason.
set -euo pipefail

log() { printf '[setup shells] %s\n' "$*" >&2; }

missing=()
command -v zsh >/dev/null || missing+=(zsh)
command -v fish >/dev/null || missing+=(fish)
((${#missing[@]} == 0)) && exit 0
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  log "missing ${missing[*]}; cannot install here (their completion tests will be skipped)"
  exit 0
fi
log "installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
} || log "could not install ${missing[*]} (their completion tests will be skipped)"
