#!/usr/bin/env bash
# The README's main job (`npm start`): the admission webhook on https://127.0.0.1:8443
# with no cluster. Installs npm packages when node_modules is missing, builds when
# src/ changed, keeps the dev certificates in certs/ when they are a valid set (else
# makes new ones) and prints their caBundle, then runs `hookpoint webhook` with the
# example policy and namespace labels. Extra arguments go to `hookpoint webhook`
# (e.g. `npm start -- --pretty`). HOOKPOINT_START_CERTS names another certificate
# directory (the tests use a temporary one).
# Signals: npm forwards SIGTERM/SIGINT to its own child only. package.json's start script
# execs this script and this script execs the webhook, so that child is the webhook
# itself: `kill <npm pid>` stops it (no shell left in between to swallow the signal).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[hookpoint start] %s\n' "$*" >&2; }
fail() { printf '[hookpoint start] ERROR: %s\n' "$*" >&2; exit 1; }

command -v node >/dev/null || fail "node not found (Node.js >= 20.11 is needed)"

if [[ ! -d node_modules ]]; then
  log "node_modules missing: installing npm packages"
  bash scripts/setup/10-npm.sh || fail "npm install failed (see above)"
fi

if [[ ! -f dist/cli/main.js ]] || [[ -n $(find src package.json tsconfig.json tsconfig.build.json -newer dist/cli/main.js -print -quit) ]]; then
  log "building (npm run build)"
  npm run --silent build || fail "build failed (see above)"
fi

certs=${HOOKPOINT_START_CERTS:-certs}
# Kept when they still hold together (the CA signed the serving certificate, the keys
# match, not expiring soon), else replaced: a second run uses what the first wrote.
log "dev certificates in $certs/ (a local CA and a serving certificate for localhost, 127.0.0.1, ::1 and the in-cluster service names):"
bundle=$(node dist/cli/main.js certs --out "$certs" --reuse) || fail "certificate generation failed (see above)"

port=8443
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case ${args[i]} in
    --port) port=${args[i + 1]:-$port} ;;
    --port=*) port=${args[i]#--port=} ;;
  esac
done

ca=$(cd "$certs" && pwd)/ca.crt
log "CA certificate: $ca"
log "caBundle (base64 of it, for a MutatingWebhookConfiguration): $bundle"
log "try it (from another terminal):"
printf '  curl --cacert %q -H "Content-Type: application/json" --data @%q https://127.0.0.1:%s/mutate\n' \
  "$ca" "$PWD/examples/admission-review.json" "$port" >&2
log "starting hookpoint webhook on port $port (JSON logs on stdout; add -- --pretty for humans; Ctrl-C stops)"

# Loopback only by default: a development server with a development CA. Later flags win,
# so `npm start -- --host 0.0.0.0` opens it up.
exec node dist/cli/main.js webhook --host 127.0.0.1 --port 8443 \
  --cert "$certs/tls.crt" --key "$certs/tls.key" \
  --policy examples/policy.yaml --namespaces examples/namespaces.yaml "$@"
