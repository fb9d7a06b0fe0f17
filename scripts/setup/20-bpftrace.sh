#!/usr/bin/env bash
# bpftrace for the agent's bpf tests (Debian's package; 0.17 on Debian 12), tini for the
# agent's PID-1 reaping test, and tracefs mounted at /sys/kernel/tracing. Idempotent.
# Without root (or without apt) it says what is missing and leaves it: the bpf tests then
# report themselves skipped with the reason.
set -euo pipefail

log() { printf '[setup bpftrace] %s\n' "$*" >&2; }

missing=()
command -v bpftrace >/dev/null || missing+=(bpftrace)
command -v tini >/dev/null || missing+=(tini)

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    log "missing ${missing[*]} and not root: cannot install (the bpf tests will be skipped)"
  elif ! command -v apt-get >/dev/null; then
    log "missing ${missing[*]} and no apt-get: install them by hand (the bpf tests will be skipped)"
  else
    log "installing ${missing[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || { log "ERROR: apt-get update failed"; exit 1; }
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || { log "ERROR: apt-get install ${missing[*]} failed"; exit 1; }
  fi
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
