// `DIR/manifest.json`: what the pods whose records are in DIR were, from where, and what
// failed: the pods of the last `collect` run, then those of earlier runs into the same DIR
// whose copies are still there. `hookpoint report` reads it; the schema is fixed (version 1).
import { join } from "node:path";
import { isObject } from "../is-object.js";
import type { Workload } from "../k8s/traced-pods.js";
import { replaceFile } from "../replace-file.js";
import { isoTimeMs } from "../records/times.js";

export const MANIFEST_FILE = "manifest.json";

export interface ManifestFile {
  /** Relative to the pod's directory `DIR/<namespace>/<pod>/`. */
  name: string;
  bytes: number;
  /** The earliest and the latest `ts` of the local copy's complete records; null for programs. */
  first: string | null;
  last: string | null;
}

/** How a pod is named in the manifest's keys and on collect's progress lines: namespace/name. */
export function podKey(pod: { namespace: string; name: string }): string {
  return `${pod.namespace}/${pod.name}`;
}

export interface ManifestPod {
  namespace: string;
  name: string;
  workload: Workload | null;
  node: string | null;
  podIP: string | null;
  agent: { reachable: boolean; error?: string };
  /**
   * envoy-request-trace's traced requests by outcome (recorded, aborted, timeout, ...) as the
   * agent's /status gave them when this pod was last asked: counts over the agent's life,
   * not over --since. Absent when the agent does not run the request trace, or did not say.
   */
  traceRequestsOverAgentLife?: Record<string, number>;
  files: ManifestFile[];
  /** Sum of the files' bytes. */
  bytes: number;
  errors: string[];
  /** When the run that last asked this pod's agent started (the manifest's own collectedAt, or an earlier run's). */
  collectedAt: string;
}

export interface Manifest {
  version: 1;
  cluster: { server: string; context: string };
  /** When the run started. */
  collectedAt: string;
  /** Start of the window (--since), null for everything. */
  since: string | null;
  /** When the run ended: no record collected is later. */
  until: string;
  /** This run's pods, then earlier runs' pods whose copies are still in DIR. */
  pods: ManifestPod[];
}

/** Pod and namespace names as Kubernetes allows them: never "..", never a "/", so a pod's folder stays inside DIR. */
const K8S_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * The pods an earlier manifest describes, as that run wrote them (`files` still to be read
 * again from the folder). What is not a version 1 manifest gives none, and a pod entry not
 * shaped as collect writes it is left out: its facts are unknown, and its records are still
 * read from its folder.
 */
export function earlierManifestPods(text: string): ManifestPod[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return [];
  }
  if (!isObject(v) || v.version !== 1 || !Array.isArray(v.pods)) return [];
  const runAt = timeOf(v.collectedAt);
  const out: ManifestPod[] = [];
  for (const p of v.pods) {
    if (!isObject(p) || typeof p.namespace !== "string" || !K8S_NAME.test(p.namespace) || typeof p.name !== "string" || !K8S_NAME.test(p.name)) continue;
    const workload = p.workload === null ? null : isObject(p.workload) && typeof p.workload.kind === "string" && typeof p.workload.name === "string" ? { kind: p.workload.kind, name: p.workload.name } : undefined;
    const a = p.agent;
    const agent = isObject(a) && typeof a.reachable === "boolean" ? (a.error === undefined ? { reachable: a.reachable } : typeof a.error === "string" ? { reachable: a.reachable, error: a.error } : undefined) : undefined;
    const errors = Array.isArray(p.errors) && p.errors.every((e): e is string => typeof e === "string") ? p.errors : undefined;
    // A manifest from before pods had their own time: its run's.
    const collectedAt = p.collectedAt === undefined ? runAt : timeOf(p.collectedAt);
    const node = nullableString(p.node);
    const podIP = nullableString(p.podIP);
    const traced = p.traceRequestsOverAgentLife === undefined ? null : outcomeCounts(p.traceRequestsOverAgentLife);
    if (workload === undefined || agent === undefined || errors === undefined || collectedAt === undefined || node === undefined || podIP === undefined || traced === undefined) continue;
    out.push({ namespace: p.namespace, name: p.name, workload, node, podIP, agent, ...(traced ? { traceRequestsOverAgentLife: traced } : {}), files: [], bytes: 0, errors, collectedAt });
  }
  return out;
}

/** Requests by outcome: an object of whole numbers ≥ 0, else undefined. */
export function outcomeCounts(v: unknown): Record<string, number> | undefined {
  if (!isObject(v)) return undefined;
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(v)) {
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0) return undefined;
    out[k] = n;
  }
  return out;
}

/** The value when it is a string or null, else undefined. */
function nullableString(v: unknown): string | null | undefined {
  return v === null || typeof v === "string" ? v : undefined;
}

function timeOf(v: unknown): string | undefined {
  return typeof v === "string" && !Number.isNaN(isoTimeMs(v)) ? v : undefined;
}

/** Replaces DIR/manifest.json whole (a reader never sees half of it); a failure is a WriteError in words. */
export function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  return replaceFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n");
}
