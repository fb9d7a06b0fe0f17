// The collect manifest (`DIR/manifest.json`, written by `hookpoint collect`): only what the
// report uses is checked - the cluster, the time window and each pod's identity, owner and
// the agent's traced requests by outcome.
// Pure: text in, manifest (or an error naming the field) out.
import { outcomeCounts } from "../collect/manifest.js";
import { isObject } from "../is-object.js";

export interface ManifestPod {
  namespace: string;
  name: string;
  workload: { kind: string; name: string } | null;
  node: string | null;
  agentReachable: boolean | null;
  errors: string[];
  /** envoy-request-trace's requests by outcome over the agent's life, at collect time (`traceRequestsOverAgentLife`); null when absent or not counts. */
  traceRequests: Record<string, number> | null;
}

export interface Manifest {
  cluster: { server: string | null; context: string | null };
  collectedAt: string | null;
  since: string | null;
  until: string | null;
  pods: ManifestPod[];
}

export function parseManifest(text: string): Manifest {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`not JSON (${(err as Error).message})`);
  }
  if (!isObject(v)) throw new Error("expected an object");
  if (v.version !== 1) throw new Error(`version: expected 1, got ${JSON.stringify(v.version)}`);
  if (!Array.isArray(v.pods)) throw new Error("pods: expected a list");
  const cluster = isObject(v.cluster) ? v.cluster : {};
  return {
    cluster: { server: str(cluster.server), context: str(cluster.context) },
    collectedAt: str(v.collectedAt),
    since: str(v.since),
    until: str(v.until),
    pods: v.pods.map((p, i) => {
      if (!isObject(p) || typeof p.namespace !== "string" || typeof p.name !== "string") throw new Error(`pods[${i}]: expected namespace and name strings`);
      const w = p.workload;
      const workload = isObject(w) && typeof w.kind === "string" && typeof w.name === "string" ? { kind: w.kind, name: w.name } : null;
      const agent = isObject(p.agent) && typeof p.agent.reachable === "boolean" ? p.agent.reachable : null;
      const errors = Array.isArray(p.errors) ? p.errors.filter((e): e is string => typeof e === "string") : [];
      return { namespace: p.namespace, name: p.name, workload, node: str(p.node), agentReachable: agent, errors, traceRequests: outcomeCounts(p.traceRequestsOverAgentLife) ?? null };
    }),
  };
}

function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}
