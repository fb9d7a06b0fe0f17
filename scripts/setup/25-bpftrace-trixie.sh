#!/usr/bin/env bash
# A newer bpftrace beside Debian 12's 0.17: Debian trixie's (0.23.x), so the bpf tests run
# the bundled scripts on both. Trixie's packages need trixie's libc, so they are not
# installed into the system: a separate apt configuration downloads bpftrace and its
# dependency closure, dpkg-deb unpacks them into
# ${HOOKPOINT_CACHE:-$HOME/.cache/hookpoint}/bpftrace-trixie/<version>/root, and
# bpftrace-trixie/bin/bpftrace runs it through trixie's own dynamic loader and libraries.
# Idempotent: a working wrapper is left alone (no network then).
# In CI (CI=true) a machine that cannot fetch it fails here; elsewhere the 0.23 tests are
# then skipped with the reason.
set -euo pipefail

log() { printf '[setup bpftrace-trixie] %s\n' "$*" >&2; }
give_up() {
  if [[ ${CI:-} == true ]]; then
    log "ERROR: $* (CI needs the second bpftrace for the bpf tests)"
    exit 1
  fi
  log "$*: the bpf tests on bpftrace 0.23 will be skipped"
  exit 0
}

base="${HOOKPOINT_CACHE:-$HOME/.cache/hookpoint}/bpftrace-trixie"
wrapper="$base/bin/bpftrace"
if [[ -x $wrapper ]] && version=$("$wrapper" --version 2>/dev/null); then
  log "$version ready ($wrapper)"
  exit 0
fi
for tool in apt-get dpkg-deb; do
  command -v "$tool" >/dev/null || give_up "$tool not found"
done
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -f $keyring ]] || give_up "no Debian archive keyring at $keyring"

apt="$base/apt"
mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial" "$apt/parts"
: >"$apt/status"
echo "deb [signed-by=$keyring] http://deb.debian.org/debian trixie main" >"$apt/sources.list"
opts=(
  -o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/parts"
  -o "Dir::Etc::Preferences=$apt/parts/none" -o "Dir::Etc::PreferencesParts=$apt/parts"
  -o "Dir::State=$apt/state" -o "Dir::State::status=$apt/status" -o "Dir::Cache=$apt/cache"
  -o APT::Architecture=amd64 -o APT::Architectures=amd64 -o Debug::NoLocking=1
  -o APT::Install-Recommends=false -o APT::Get::AllowUnauthenticated=false -o APT::Sandbox::User=root
)
[[ $(dpkg --print-architecture 2>/dev/null) == amd64 ]] || give_up "only amd64 is set up"
log "fetching trixie's package lists (a separate apt configuration under $apt)"
apt-get "${opts[@]}" -qq update || give_up "apt-get update for trixie failed"
version=$(apt-cache "${opts[@]}" policy bpftrace | awk '/Candidate:/ {print $2}')
[[ -n $version && $version != "(none)" ]] || give_up "trixie has no bpftrace candidate"
dest="$base/$version"
if [[ ! -f $dest/.complete ]]; then
  log "downloading bpftrace $version and its dependencies"
  rm -f "$apt/cache/archives/"*.deb
  # An empty dpkg status: apt fetches the whole closure, trixie's libc included.
  apt-get "${opts[@]}" -qq install --download-only -y bpftrace >/dev/null || give_up "downloading bpftrace $version failed"
  rm -rf "$dest.partial"
  mkdir -p "$dest.partial/root"
  for deb in "$apt/cache/archives/"*.deb; do dpkg-deb -x "$deb" "$dest.partial/root"; done
  touch "$dest.partial/.complete"
  rm -rf "$dest"
  mv "$dest.partial" "$dest"
  rm -f "$apt/cache/archives/"*.deb
fi
lib="$dest/root/usr/lib/x86_64-linux-gnu"
[[ -x $lib/ld-linux-x86-64.so.2 && -x $dest/root/usr/bin/bpftrace ]] || give_up "the unpacked packages lack the loader or bpftrace"
mkdir -p "$base/bin"
cat >"$wrapper.tmp" <<EOF
#!/bin/sh
# bpftrace $version from Debian trixie, on trixie's own libc (scripts/setup/25-bpftrace-trixie.sh).
exec "$lib/ld-linux-x86-64.so.2" --library-path "$lib" "$dest/root/usr/bin/bpftrace" "\$@"
EOF
chmod 0755 "$wrapper.tmp"
mv "$wrapper.tmp" "$wrapper"
"$wrapper" --version >/dev/null 2>&1 || give_up "the unpacked bpftrace $version does not run"
log "$("$wrapper" --version) ready ($wrapper)"
