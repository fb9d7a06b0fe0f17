#!/usr/bin/env bash
# Test fixture: builds the fake Envoy (test/fixtures/envoy/*.cc but pilot_agent.cc, HTTP/2
# from Debian's libnghttp2-dev, installed here when missing) and pilot-agent with g++ into
# test/fixtures/build/ (gitignored). Built once per source hash and compiler version,
# cached under ${HOOKPOINT_CACHE:-$HOME/.cache/hookpoint}/fixture/<key>/ and copied in.
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { printf '[setup fixture] %s\n' "$*" >&2; }
fail() { printf '[setup fixture] ERROR: %s\n' "$*" >&2; exit 1; }

src=test/fixtures/envoy
out=test/fixtures/build
extra_symbols=200000

for tool in g++ strip sha256sum awk; do
  command -v "$tool" >/dev/null || fail "$tool not found (Debian: apt-get install g++ binutils coreutils gawk)"
done

if [[ ! -f /usr/include/nghttp2/nghttp2.h ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing libnghttp2-dev with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || fail "apt-get update failed"
    apt-get install -y -qq --no-install-recommends libnghttp2-dev >/dev/null || fail "apt-get install libnghttp2-dev failed"
  else
    fail "libnghttp2-dev missing (Debian: apt-get install libnghttp2-dev)"
  fi
fi

envoy_sources=()
for f in "$src"/*.cc; do
  [[ $f == */pilot_agent.cc ]] || envoy_sources+=("$f")
done
key=$( { cat "${envoy_sources[@]}" "$src"/*.h "$src/pilot_agent.cc" "$0"; g++ --version | head -1; dpkg-query -W -f='${Version}' libnghttp2-dev 2>/dev/null || true; } | sha256sum | cut -c1-16)
cache="${HOOKPOINT_CACHE:-$HOME/.cache/hookpoint}/fixture/$key"

if [[ -f $out/.key ]] && [[ $(cat "$out/.key") == "$key" ]] && [[ -x $out/big/bin/envoy ]]; then
  log "fixture up to date ($key)"
  exit 0
fi

if [[ ! -f $cache/.complete ]]; then
  log "building fixture $key with $(g++ --version | head -1)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  flags=(-std=c++17 -O2 -pthread -fno-omit-frame-pointer -Wall -Wextra -Wl,--build-id=sha1)
  mkdir -p "$tmp/usr/local/bin" "$tmp/stripped/bin" "$tmp/big/bin"
  g++ "${flags[@]}" -o "$tmp/usr/local/bin/envoy" "${envoy_sources[@]}" -lnghttp2 || fail "g++ failed on ${envoy_sources[*]}"
  g++ "${flags[@]}" -o "$tmp/usr/local/bin/pilot-agent" "$src/pilot_agent.cc" || fail "g++ failed on $src/pilot_agent.cc"
  strip --strip-all -o "$tmp/stripped/bin/envoy" "$tmp/usr/local/bin/envoy"
  cp "$tmp/usr/local/bin/pilot-agent" "$tmp/stripped/bin/pilot-agent"

  # 200,000 extra global functions with Envoy-like mangled names, each a real (tiny)
  # function with type and size, so the symbol table looks like a production Envoy's.
  log "generating $extra_symbols extra symbols for the big fixture"
  awk -v n="$extra_symbols" 'BEGIN {
    print "\t.section .note.GNU-stack,\"\",@progbits"; print "\t.text"
    for (i = 0; i < n; i++) {
      cls = "Generated" int(i / 100); m = "method" i "Impl"
      sym = "_ZN5Envoy9Extension" length(cls) cls length(m) m "ERKNS_4Http16RequestHeaderMapEb"
      printf "\t.globl %s\n\t.type %s, @function\n\t.p2align 4\n%s:\n\tret\n\t.size %s, .-%s\n", sym, sym, sym, sym, sym
    }
  }' > "$tmp/big_symbols.s"
  g++ -c -o "$tmp/big_symbols.o" "$tmp/big_symbols.s" || fail "assembling the extra symbols failed"
  g++ "${flags[@]}" -o "$tmp/big/bin/envoy" "${envoy_sources[@]}" "$tmp/big_symbols.o" -lnghttp2 || fail "g++ failed on the big fixture"
  cp "$tmp/usr/local/bin/pilot-agent" "$tmp/big/bin/pilot-agent"
  rm -f "$tmp/big_symbols.s" "$tmp/big_symbols.o"

  mkdir -p "$(dirname "$cache")"
  rm -rf "$cache.partial"
  cp -a "$tmp" "$cache.partial"
  touch "$cache.partial/.complete"
  rm -rf "$cache"
  mv "$cache.partial" "$cache"
else
  log "using cached fixture $key"
fi

rm -rf "$out"
mkdir -p "$out"
cp -a "$cache/usr" "$cache/stripped" "$cache/big" "$out/"
echo "$key" > "$out/.key"
# The fixture proxy runs as uid/gid 1337 and must be able to reach its binaries.
chmod -R a+rX "$out"
log "fixture ready in $out ($(nm "$out/big/bin/envoy" | wc -l) symbols in the big one)"
