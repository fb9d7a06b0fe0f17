#!/usr/bin/env bash
# Debian's chromium for the report's browser tests and bench:report (driven through
# playwright-core, which downloads no browser of its own). Idempotent. Without root or
# apt it says what is missing and leaves it: those tests then report themselves skipped.
set -euo pipefail
source "$(dirname "$0")/lib/apt.sh"

log() { printf '[setup chromium] %s\n' "$*" >&2; }

if ! command -v chromium >/dev/null; then
  apt_install_or_explain "the report's browser tests will be skipped" chromium fonts-dejavu-core
fi
if command -v chromium >/dev/null; then
  log "$(chromium --version 2>/dev/null | head -1)"
fi
