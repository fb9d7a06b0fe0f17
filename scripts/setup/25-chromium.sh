#!/usr/bin/env bash
# Debian's chromium for the report's browser tests and bench:report (driven through
# playwright-core, which downloads no browser of its own). Idempotent. Without root or
# apt it says what is missing and leaves it: those tests then report themselves skipped.
set -euo pipefail

log() { printf '[setup chromium] %s\n' "$*" >&2; }

if command -v chromium >/dev/null; then
  log "$(chromium --version 2>/dev/null | head -1)"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  log "chromium missing and not root: cannot install (the report's browser tests will be skipped)"
elif ! command -v apt-get >/dev/null; then
  log "chromium missing and no apt-get: install it by hand (the report's browser tests will be skipped)"
else
  log "installing chromium with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || { log "ERROR: apt-get update failed"; exit 1; }
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null || { log "ERROR: apt-get install chromium failed"; exit 1; }
  log "$(chromium --version 2>/dev/null | head -1)"
fi
