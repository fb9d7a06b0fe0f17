#!/bin/sh
# `hookpoint` in the tracing proxy images (/usr/local/bin/hookpoint): the CLI and
# the agent on the image's own Node. HOOKPOINT_HOME and HOOKPOINT_NODE exist for
# testing the launcher outside an image.
#
# As the container's PID 1 (the webhook's `command: [hookpoint, agent, --, ...]`),
# `hookpoint agent` runs under tini: tini, PID 1, reaps every orphaned process of the
# container and passes signals to the agent only (no -g), and the agent passes them
# to the proxy command only, so pilot-agent drains Envoy on SIGTERM as it should.
# HOOKPOINT_REAPER=none leaves tini out.
#
# --max-semi-space-size=1 keeps V8's young generation at 1 MiB: the agent allocates
# little and steadily, and this takes about 12 MB off its resident memory.
set -eu
node="${HOOKPOINT_NODE:-/usr/local/bin/node}"
main="${HOOKPOINT_HOME:-/opt/hookpoint}/dist/cli/main.js"
if [ "$$" = 1 ] && [ "${1:-}" = agent ] && [ "${HOOKPOINT_REAPER:-auto}" != none ]; then
  tini=$(command -v tini || true)
  if [ -n "$tini" ]; then
    exec "$tini" -- "$node" --max-semi-space-size=1 "$main" "$@"
  fi
fi
exec "$node" --max-semi-space-size=1 "$main" "$@"
