#!/usr/bin/env bash
# npm packages: `npm ci` when node_modules is missing or older than the lock file.
set -euo pipefail
cd "$(dirname "$0")/../.."
stamp=node_modules/.hookpoint-lock-stamp
if [[ ! -f $stamp ]] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
