#!/bin/sh
# `hookpoint` in the tracing proxy images (/usr/local/bin/hookpoint): the CLI and
# the agent on the image's own Node. exec keeps the agent as the container's
# PID 1, where it runs the proxy under tini (installed beside it) so orphaned
# processes are reaped (see HOOKPOINT_REAPER). HOOKPOINT_HOME and HOOKPOINT_NODE
# exist for testing the launcher outside an image.
set -eu
exec "${HOOKPOINT_NODE:-/usr/local/bin/node}" "${HOOKPOINT_HOME:-/opt/hookpoint}/dist/cli/main.js" "$@"
