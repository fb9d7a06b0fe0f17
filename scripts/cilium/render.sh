#!/usr/bin/env bash
# Regenerates test/fixtures/cilium/cilium-envoy-daemonset.yaml: the cilium-envoy DaemonSet
# exactly as Cilium's own Helm chart renders it, taken as test data. The chart comes from
# the github.com/cilium/cilium Go module (install/kubernetes/cilium, Apache-2.0) and Helm
# from the helm.sh/helm/v4 module, both through the Go module proxy. Not part of `npm test`
# (the rendered file is committed); run it when moving to another Cilium version.
# Usage: scripts/cilium/render.sh [CILIUM_VERSION]   (default below)
set -euo pipefail
cd "$(dirname "$0")/../.."
version=${1:-v1.20.2}
helm_version=v4.2.0
out=test/fixtures/cilium/cilium-envoy-daemonset.yaml
export GOFLAGS=-mod=mod
dir=$(go mod download -json "github.com/cilium/cilium@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[[ -n $dir && -d $dir/install/kubernetes/cilium ]] || { echo "render.sh: no chart in github.com/cilium/cilium@$version" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
GOBIN="$tmp" go install "helm.sh/helm/v4/cmd/helm@$helm_version"
"$tmp/helm" template cilium "$dir/install/kubernetes/cilium" --namespace kube-system --set envoy.enabled=true > "$tmp/all.yaml"
{
  printf '# The cilium-envoy DaemonSet as Cilium %s'"'"'s Helm chart renders it (test data, unmodified):\n' "$version"
  printf '#   helm template cilium install/kubernetes/cilium --namespace kube-system --set envoy.enabled=true\n'
  printf '# Source: github.com/cilium/cilium@%s install/kubernetes/cilium (Apache License 2.0,\n' "$version"
  printf '# Copyright Authors of Cilium), Helm %s. Regenerate with scripts/cilium/render.sh.\n' "$helm_version"
  awk 'BEGIN { RS = "\n---\n" } /\nkind: DaemonSet\n/ && /\n  name: cilium-envoy\n/ { print "---"; printf "%s\n", $0 }' "$tmp/all.yaml"
} > "$out"
echo "wrote $out" >&2
