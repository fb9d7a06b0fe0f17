#!/usr/bin/env bash
# Builds the two binaries of the local test cluster (kube-apiserver, etcd) once and
# caches them outside the repository, keyed by version:
#   ${HOOKPOINT_CACHE:-$HOME/.cache/hookpoint}/bin/<name>-<version>
# The versions come from the Go modules in scripts/cluster/build/<name>/go.mod.
#
# Usage: build.sh [--print-paths]
#   --print-paths  only print "<name>=<path>" lines (no build); exit 3 if one is missing
# Exit codes: 0 built or cached; 2 cannot build on this machine (no Go, Go too old,
# no network to the module proxy); 1 any other failure (compile error, disk, ...).
# Environment: HOOKPOINT_CACHE, HOOKPOINT_GO (the go command, default "go"), and
# Go's own GOPROXY / GOMODCACHE / GOCACHE.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cache="${HOOKPOINT_CACHE:-$HOME/.cache/hookpoint}"
bindir="$cache/bin"
go_cmd="${HOOKPOINT_GO:-go}"

log() { printf '[hookpoint cluster] %s\n' "$*" >&2; }
# One clear line, then exit with the given code.
die() { local code=$1; shift; printf 'hookpoint cluster: %s\n' "$*" >&2; exit "$code"; }

# name | module directory | main package | module whose version keys the cache
targets=(
  "etcd|etcd|go.etcd.io/etcd/server/v3|go.etcd.io/etcd/server/v3"
  "kube-apiserver|kube-apiserver|k8s.io/kubernetes/cmd/kube-apiserver|k8s.io/kubernetes"
)

# Reads a required module's version from go.mod without needing Go (cached runs).
module_version() {
  local gomod=$1 module=$2 v
  v=$(awk -v m="$module" '($1 == "require" && $2 == m) { print $3; exit } ($1 == m && $2 ~ /^v/) { print $2; exit }' "$gomod")
  [[ -n $v ]] || die 1 "no version of $module in $gomod"
  printf '%s' "$v"
}

print_only=false
[[ ${1:-} == --print-paths ]] && print_only=true

missing=() # with --print-paths names; otherwise targets with "|<version>" appended
for t in "${targets[@]}"; do
  IFS='|' read -r name dir _pkg keymod <<<"$t"
  version=$(module_version "$here/build/$dir/go.mod" "$keymod")
  path="$bindir/$name-$version"
  if $print_only; then
    printf '%s=%s\n' "$name" "$path"
    [[ -x $path ]] || missing+=("$name")
  elif [[ -x $path ]]; then
    log "cached: $name $version"
  else
    missing+=("$t|$version")
  fi
done
if $print_only; then [[ ${#missing[@]} -eq 0 ]] || exit 3; exit 0; fi
[[ ${#missing[@]} -gt 0 ]] || exit 0

# --- something must be built: Go is needed from here on ---
if ! command -v "$go_cmd" >/dev/null 2>&1; then
  die 2 "Go is not installed (\"$go_cmd\" not found); it is needed once to build kube-apiserver and etcd for the e2e tests (install Go >= 1.24)"
fi
go_version=$("$go_cmd" env GOVERSION 2>/dev/null || true)
if [[ ! $go_version =~ ^go1\.([0-9]+) ]] || (( BASH_REMATCH[1] < 24 )); then
  die 2 "Go >= 1.24 is needed to build kube-apiserver and etcd; \"$go_cmd\" is ${go_version:-unknown}"
fi

# Never fetch another toolchain, read only the committed go.mod/go.sum, and build
# static binaries (no C toolchain needed).
export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0

mkdir -p "$bindir"
# Two builds at once (setup script and a test run) would waste the slow part twice.
exec 9>"$bindir/.build.lock"
flock 9

for t in "${missing[@]}"; do
  IFS='|' read -r name dir pkg keymod version <<<"$t"
  moddir="$here/build/$dir"
  path="$bindir/$name-$version"
  if [[ -x $path ]]; then log "cached: $name $version (built meanwhile)"; continue; fi

  started=$SECONDS
  log "downloading Go modules for $name $version (from ${GOPROXY:-$("$go_cmd" env GOPROXY)})"
  if ! out=$(cd "$moddir" && "$go_cmd" mod download 2>&1); then
    printf '%s\n' "$out" | tail -n 5 >&2
    first=$(printf '%s\n' "$out" | grep -m1 -iE 'dial tcp|no such host|timeout|connection refused|proxyconnect|TLS handshake|network is unreachable|403 Forbidden' || true)
    if [[ -n $first ]]; then
      die 2 "cannot download Go modules from the module proxy (${GOPROXY:-$("$go_cmd" env GOPROXY)}): $first"
    fi
    die 1 "go mod download failed for $name $version (see above)"
  fi
  ldflags='-s -w'
  if [[ $keymod == k8s.io/kubernetes && $version =~ ^v([0-9]+)\.([0-9]+)\. ]]; then
    # What hack/lib/version.sh stamps: without it /version says v0.0.0-master.
    v=k8s.io/component-base/version
    ldflags+=" -X $v.gitVersion=$version -X $v.gitMajor=${BASH_REMATCH[1]} -X $v.gitMinor=${BASH_REMATCH[2]} -X $v.gitTreeState=clean"
  fi
  log "building $name $version (go build -trimpath, $(nproc) cores; the first build takes minutes)"
  tmp="$path.tmp.$$"
  if ! (cd "$moddir" && "$go_cmd" build -trimpath -ldflags="$ldflags" -o "$tmp" "$pkg"); then
    rm -f "$tmp"
    die 1 "go build of $name $version failed (see above)"
  fi
  mv -f "$tmp" "$path"
  log "built $name $version in $((SECONDS - started)) s: $path"
done
