// The in-memory view every admission reads: namespaces' labels and the accepted
// HookpointPolicies, with defaults resolved once per policy version rather than
// once per request.
import { NAMESPACE_NAME_LABEL } from "../names.js";
import { effectivePolicy, type EffectivePolicy, type Settings } from "./effective.js";
import { optionalSelectorMatches } from "./selector.js";
import type { HookpointPolicy, NamespaceInfo } from "./types.js";

export interface SnapshotPolicy {
  policy: HookpointPolicy;
  effective: EffectivePolicy;
}

export interface Snapshot {
  readonly namespaces: ReadonlyMap<string, NamespaceInfo>;
  /** Highest priority first; ties by name. */
  readonly policies: readonly SnapshotPolicy[];
  readonly defaults: EffectivePolicy;
}

/** Precedence: higher `priority` first, then name order. */
export function comparePolicies(a: HookpointPolicy, b: HookpointPolicy): number {
  const pa = a.spec.priority ?? 0;
  const pb = b.spec.priority ?? 0;
  if (pa !== pb) return pb - pa;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

export function buildSnapshot(
  namespaces: Iterable<NamespaceInfo>,
  policies: Iterable<HookpointPolicy>,
  settings: Settings,
): Snapshot {
  const nsMap = new Map<string, NamespaceInfo>();
  // Kubernetes always sets kubernetes.io/metadata.name; namespaces read from files
  // may lack it. Add it here, once per snapshot, not on every admission.
  for (const ns of namespaces) {
    nsMap.set(ns.name, ns.labels[NAMESPACE_NAME_LABEL] === ns.name ? ns : { name: ns.name, labels: { ...ns.labels, [NAMESPACE_NAME_LABEL]: ns.name } });
  }
  const sorted = [...policies].sort(comparePolicies);
  return {
    namespaces: nsMap,
    policies: sorted.map((policy) => ({ policy, effective: effectivePolicy(policy, settings) })),
    defaults: effectivePolicy(undefined, settings),
  };
}

/** A namespace's labels, kubernetes.io/metadata.name included (also for one not in the snapshot yet). */
export function namespaceLabels(snapshot: Snapshot, name: string): Readonly<Record<string, string>> {
  return snapshot.namespaces.get(name)?.labels ?? { [NAMESPACE_NAME_LABEL]: name };
}

/** The policy governing a pod: the first (highest precedence) whose selectors both match. */
export function governingPolicy(
  snapshot: Snapshot,
  nsLabels: Readonly<Record<string, string>>,
  podLabels: Readonly<Record<string, string>>,
): EffectivePolicy {
  for (const p of snapshot.policies) {
    if (optionalSelectorMatches(p.policy.spec.namespaceSelector, nsLabels) && optionalSelectorMatches(p.policy.spec.podSelector, podLabels)) {
      return p.effective;
    }
  }
  return snapshot.defaults;
}
