#!/usr/bin/env bash
# Test fixture: the fixture Envoy with 3,000,000 extra function symbols (the agent's memory
# bound; see test/fixtures/envoy/huge-symbols.ts), in test/fixtures/build/huge/bin/. Built
# once per fixture build and generator, cached under
# ${HOOKPOINT_CACHE:-$HOME/.cache/hookpoint}/fixture/<key>-huge-<gen>/ (about 170 MB) and
# hard-linked (else copied) in. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { printf '[setup fixture-huge] %s\n' "$*" >&2; }
fail() { printf '[setup fixture-huge] ERROR: %s\n' "$*" >&2; exit 1; }

out=test/fixtures/build
count=3000000
[[ -f $out/.key && -x $out/usr/local/bin/envoy ]] || fail "the fixture is not built (scripts/setup/30-fixture.sh)"
gen=$( { cat test/fixtures/envoy/huge-symbols.ts src/elf/format.ts; echo "$count"; } | sha256sum | cut -c1-12)
key="$(cat "$out/.key")-huge-$gen"
cache="${HOOKPOINT_CACHE:-$HOME/.cache/hookpoint}/fixture/$key"

if [[ -f $out/huge/.key ]] && [[ $(cat "$out/huge/.key") == "$key" ]] && [[ -x $out/huge/bin/envoy ]]; then
  log "huge fixture up to date ($key)"
  exit 0
fi
if [[ ! -f $cache/.complete ]]; then
  log "generating the fixture Envoy with $count extra symbols"
  rm -rf "$cache.partial"
  mkdir -p "$cache.partial"
  npx tsx test/fixtures/envoy/huge-symbols.ts "$out/usr/local/bin/envoy" "$cache.partial/envoy" "$count" || fail "generating the huge fixture failed"
  touch "$cache.partial/.complete"
  rm -rf "$cache"
  mv "$cache.partial" "$cache"
fi
rm -rf "$out/huge"
mkdir -p "$out/huge/bin"
ln -f "$cache/envoy" "$out/huge/bin/envoy" 2>/dev/null || cp "$cache/envoy" "$out/huge/bin/envoy"
cp "$out/usr/local/bin/pilot-agent" "$out/huge/bin/pilot-agent"
echo "$key" > "$out/huge/.key"
chmod -R a+rX "$out/huge"
log "huge fixture ready in $out/huge ($(du -h "$out/huge/bin/envoy" | cut -f1))"
