#!/usr/bin/env bash
# bpftrace for the agent's bpf tests (Debian's package; 0.17 on Debian 12), tini for the
# agent's PID-1 reaping test, and tracefs mounted at /sys/kernel/tracing. Idempotent.
# Without root (or without apt) it says what is missing and leaves it: the bpf tests then
# report themselves skipped with the reason.
set -euo pipefail
source "$(dirname "$0")/lib/apt.sh"

log() { printf '[setup bpftrace] %s\n' "$*" >&2; }

missing=()
command -v bpftrace >/dev/null || missing+=(bpftrace)
command -v tini >/dev/null || missing+=(tini)

if ((${#missing[@]} > 0)); then
  apt_install_or_explain "the bpf tests will be skipped" "${missing[@]}"
fi
if command -v bpftrace >/dev/null; then
  log "$(bpftrace --version 2>/dev/null | head -1)"
fi

tracefs=/sys/kernel/tracing
if [[ -e $tracefs/events || -e $tracefs/uprobe_events ]]; then
  log "tracefs mounted at $tracefs"
elif [[ $(id -u) -eq 0 ]]; then
  log "mounting tracefs at $tracefs"
  mount -t tracefs nodev "$tracefs" || log "could not mount tracefs at $tracefs (the bpf tests will be skipped)"
else
  log "tracefs not mounted at $tracefs and not root (the bpf tests will be skipped)"
fi
