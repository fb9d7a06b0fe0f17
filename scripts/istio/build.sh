#!/usr/bin/env bash
# Builds Istio's pilot-discovery (istiod), pilot-agent and istioctl (which renders
# Istio's own manifests from its charts) once, from the istio.io/istio
# Go module named in scripts/istio/build/go.mod, and caches them outside the repository
# keyed by that version:
#   ${HOOKPOINT_CACHE:-$HOME/.cache/hookpoint}/bin/<name>-<version>
# Only the Go module proxy is needed (no git, no Docker, no C toolchain).
#
# Next to them, gateway-api-crds-<version>.yaml: the Gateway API CRDs (standard channel) of
# the sigs.k8s.io/gateway-api module this Istio requires, which istiod's waypoint and
# gateway controllers need, and envoy-bootstrap-<version>.json: the Envoy bootstrap template
# the proxyv2 image carries at /var/lib/istio/envoy/envoy_bootstrap_tmpl.json, which
# pilot-agent renders before it starts Envoy.
#
# Usage: build.sh [--print-paths]
#   --print-paths  only print "<name>=<path>" lines and "version=<version>" (no build);
#                  exit 3 if one is missing
# Exit codes: 0 built or cached; 2 cannot build on this machine (no Go, Go older than
# the module needs, no network to the module proxy); 1 any other failure.
# Environment: HOOKPOINT_CACHE, HOOKPOINT_GO (the go command, default "go"), and Go's
# own GOPROXY / GOMODCACHE / GOCACHE.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
moddir="$here/build"
cache="${HOOKPOINT_CACHE:-$HOME/.cache/hookpoint}"
bindir="$cache/bin"
go_cmd="${HOOKPOINT_GO:-go}"
# The Go release the module's go line asks for (go.mod: "go 1.26.0").
go_minor_needed=26

log() { printf '[hookpoint istio] %s\n' "$*" >&2; }
die() { local code=$1; shift; printf 'hookpoint istio: %s\n' "$*" >&2; exit "$code"; }

version=$(awk '($1 == "require" && $2 == "istio.io/istio") { print $3; exit } ($1 == "istio.io/istio" && $2 ~ /^v/) { print $2; exit }' "$moddir/go.mod")
[[ -n $version ]] || die 1 "no istio.io/istio version in $moddir/go.mod"

# name | main package | build tags (as Istio's Makefile.core.mk builds them)
targets=(
  "pilot-discovery|istio.io/istio/pilot/cmd/pilot-discovery|vtprotobuf,disable_pgv"
  "pilot-agent|istio.io/istio/pilot/cmd/pilot-agent|agent,disable_pgv,grpcnotrace,retrynotrace"
  "istioctl|istio.io/istio/istioctl/cmd/istioctl|vtprotobuf,disable_pgv"
)

crds="$bindir/gateway-api-crds-$version.yaml"
bootstrap="$bindir/envoy-bootstrap-$version.json"

print_only=false
[[ ${1:-} == --print-paths ]] && print_only=true

missing=()
crds_missing=false
[[ -f $crds && -f $bootstrap ]] || crds_missing=true
for t in "${targets[@]}"; do
  IFS='|' read -r name _pkg _tags <<<"$t"
  path="$bindir/$name-$version"
  if $print_only; then
    printf '%s=%s\n' "$name" "$path"
    [[ -x $path ]] || missing+=("$name")
  elif [[ -x $path ]]; then
    log "cached: $name $version"
  else
    missing+=("$t")
  fi
done
if $print_only; then
  printf 'gateway-api-crds=%s\nenvoy-bootstrap=%s\nversion=%s\n' "$crds" "$bootstrap" "$version"
  [[ ${#missing[@]} -eq 0 ]] && ! $crds_missing || exit 3
  exit 0
fi
[[ ${#missing[@]} -gt 0 ]] || $crds_missing || exit 0

if ! command -v "$go_cmd" >/dev/null 2>&1; then
  die 2 "Go is not installed (\"$go_cmd\" not found); it is needed once to build Istio's pilot-discovery and pilot-agent (Go >= 1.$go_minor_needed)"
fi
go_version=$("$go_cmd" env GOVERSION 2>/dev/null || true)
if [[ ! $go_version =~ ^go1\.([0-9]+) ]] || (( BASH_REMATCH[1] < go_minor_needed )); then
  die 2 "Go >= 1.$go_minor_needed is needed to build Istio $version; \"$go_cmd\" is ${go_version:-unknown} (a newer toolchain comes through the module proxy with GOTOOLCHAIN=go1.$go_minor_needed.0, or install it)"
fi

export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0

mkdir -p "$bindir"
exec 9>"$bindir/.build.lock"
flock 9

# What Istio's common/scripts/report_build_info.sh stamps: `pilot-agent version` and
# istiod's /version then name the commit instead of "unknown".
revision=${version##*-}
release_line=$(awk '/^\/\/ Istio release line:/ { print $5; exit }' "$moddir/go.mod")
ldflags="-s -w -X istio.io/istio/pkg/version.buildVersion=${release_line:-unknown}-dev+$revision -X istio.io/istio/pkg/version.buildGitRevision=$revision -X istio.io/istio/pkg/version.buildStatus=Clean"

started_all=$SECONDS
log "downloading Go modules for Istio $version (from ${GOPROXY:-$("$go_cmd" env GOPROXY)})"
if ! out=$(cd "$moddir" && "$go_cmd" mod download 2>&1); then
  printf '%s\n' "$out" | tail -n 5 >&2
  first=$(printf '%s\n' "$out" | grep -m1 -iE 'dial tcp|no such host|timeout|connection refused|proxyconnect|TLS handshake|network is unreachable|403 Forbidden|404 Not Found|410 Gone' || true)
  [[ -z $first ]] || die 2 "cannot download Go modules from the module proxy (${GOPROXY:-$("$go_cmd" env GOPROXY)}): $first"
  die 1 "go mod download failed for Istio $version (see above)"
fi
log "modules ready in $((SECONDS - started_all)) s"

for t in "${missing[@]}"; do
  IFS='|' read -r name pkg tags <<<"$t"
  path="$bindir/$name-$version"
  if [[ -x $path ]]; then log "cached: $name $version (built meanwhile)"; continue; fi
  started=$SECONDS
  log "building $name $version (go build -tags=$tags, $(nproc) cores; the first build takes minutes)"
  tmp="$path.tmp.$$"
  if ! (cd "$moddir" && "$go_cmd" build -trimpath -tags="$tags" -ldflags="$ldflags" -o "$tmp" "$pkg"); then
    rm -f "$tmp"
    die 1 "go build of $name $version failed (see above)"
  fi
  mv -f "$tmp" "$path"
  log "built $name $version in $((SECONDS - started)) s: $path"
done
if [[ ! -f $crds ]]; then
  dir=$(cd "$moddir" && "$go_cmd" list -m -f '{{.Dir}}' sigs.k8s.io/gateway-api) || die 1 "cannot locate the sigs.k8s.io/gateway-api module"
  gw_version=$(cd "$moddir" && "$go_cmd" list -m -f '{{.Version}}' sigs.k8s.io/gateway-api)
  shopt -s nullglob
  files=("$dir"/config/crd/standard/gateway.networking.k8s.io_*.yaml)
  shopt -u nullglob
  (( ${#files[@]} > 0 )) || die 1 "no CRDs under $dir/config/crd/standard"
  { printf '# Gateway API %s CRDs (standard channel) from the sigs.k8s.io/gateway-api Go module (Apache-2.0)\n' "$gw_version"
    for f in "${files[@]}"; do
      # The CRDs only: the channel also ships a ValidatingAdmissionPolicy for upgrades.
      grep -q '^kind: CustomResourceDefinition' "$f" || continue
      printf -- '---\n'; cat "$f"
    done; } > "$crds.tmp.$$"
  mv -f "$crds.tmp.$$" "$crds"
  log "Gateway API $gw_version CRDs: $crds"
fi
if [[ ! -f $bootstrap ]]; then
  dir=$(cd "$moddir" && "$go_cmd" list -m -f '{{.Dir}}' istio.io/istio) || die 1 "cannot locate the istio.io/istio module"
  cp "$dir/tools/packaging/common/envoy_bootstrap.json" "$bootstrap.tmp.$$" || die 1 "no tools/packaging/common/envoy_bootstrap.json in $dir"
  chmod 644 "$bootstrap.tmp.$$"
  mv -f "$bootstrap.tmp.$$" "$bootstrap"
  log "Envoy bootstrap template: $bootstrap"
fi
log "Istio binaries ready in $((SECONDS - started_all)) s"
