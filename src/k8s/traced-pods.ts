// The traced pods (label hookpoint.dev/injected=true) that `status` and `collect` visit:
// paged lists through the API server, the agent's port from the container's
// HOOKPOINT_METRICS_PORT, and each pod's top owner.
import pLimit from "p-limit";
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1OwnerReference, type V1Pod } from "@kubernetes/client-node";
import { envEntry } from "../admission/pod.js";
import { AGENT_METRICS_PORT, INJECTED_LABEL } from "../names.js";
import { errorText, httpStatus } from "./api-errors.js";

const PAGE_SIZE = 500;

export interface PodSelection {
  /** null: every namespace (-A). */
  namespace: string | null;
  /** A label selector added to hookpoint.dev/injected=true. */
  selector?: string | undefined;
}

/** What `status` and `collect` show of a pod besides its agent. */
export interface PodFacts {
  namespace: string;
  name: string;
  phase: string;
  node: string | null;
  podIP: string | null;
}

export function podFacts(pod: V1Pod): PodFacts {
  return {
    namespace: pod.metadata?.namespace ?? "",
    name: pod.metadata?.name ?? "",
    phase: pod.metadata?.deletionTimestamp ? "Terminating" : (pod.status?.phase ?? "Unknown"),
    node: pod.spec?.nodeName ?? null,
    podIP: pod.status?.podIP ?? null,
  };
}

export interface Workload {
  kind: string;
  name: string;
}

export function tracedSelector(selector: string | undefined): string {
  const extra = selector?.trim();
  return `${INJECTED_LABEL}=true${extra ? `,${extra}` : ""}`;
}

/** The selected traced pods, sorted by namespace and name. */
export async function listTracedPods(kc: KubeConfig, sel: PodSelection): Promise<V1Pod[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const labelSelector = tracedSelector(sel.selector);
  const pods: V1Pod[] = [];
  let cont: string | undefined;
  // Named with the server, as explain and check do: a user with several clusters sees which one failed.
  const where = `${sel.namespace === null ? "all namespaces" : `namespace ${sel.namespace}`} of ${kc.getCurrentCluster()?.server ?? "the cluster"}`;
  do {
    const page = { labelSelector, limit: PAGE_SIZE, ...(cont ? { _continue: cont } : {}) };
    try {
      const list = sel.namespace === null ? await core.listPodForAllNamespaces(page) : await core.listNamespacedPod({ namespace: sel.namespace, ...page });
      pods.push(...list.items);
      cont = list.metadata?._continue || undefined;
    } catch (err) {
      const hint = httpStatus(err) === 403 ? " (the user needs list on pods: see deploy/examples/hookpoint-collector-rbac.yaml)" : "";
      throw new Error(`cannot list pods in ${where} with selector ${labelSelector}: ${errorText(err)}${hint}`);
    }
  } while (cont);
  return pods.sort((a, b) => key(a).localeCompare(key(b)));
}

const key = (p: V1Pod) => `${p.metadata?.namespace ?? ""}/${p.metadata?.name ?? ""}`;

/** The agent's port: the HOOKPOINT_METRICS_PORT the traced container gets (its last entry), else 15099. */
export function agentPort(pod: V1Pod): number {
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    const v = envEntry(c.env, "HOOKPOINT_METRICS_PORT")?.value;
    if (v && /^\d+$/.test(v) && Number(v) > 0 && Number(v) < 65536) return Number(v);
  }
  return AGENT_METRICS_PORT;
}

/**
 * The pod's top owner. A ReplicaSet's owner (a Deployment, usually) comes from
 * `ownerOf` when the user may read ReplicaSets; otherwise it is inferred: a ReplicaSet
 * named `<deployment>-<pod-template-hash>` belongs to that Deployment. Other owners
 * (StatefulSet, DaemonSet, Job) are the workload themselves. Pure.
 */
export function podWorkload(pod: V1Pod, ownerOf: (namespace: string, replicaSet: string) => V1OwnerReference | null | undefined): Workload | null {
  const refs = pod.metadata?.ownerReferences ?? [];
  const ref = refs.find((r) => r.controller) ?? refs[0];
  if (!ref) return null;
  if (ref.kind !== "ReplicaSet") return { kind: ref.kind, name: ref.name };
  const owner = ownerOf(pod.metadata?.namespace ?? "", ref.name);
  if (owner) return { kind: owner.kind, name: owner.name };
  if (owner === null) return { kind: "ReplicaSet", name: ref.name };
  const hash = pod.metadata?.labels?.["pod-template-hash"];
  if (hash && ref.name.endsWith(`-${hash}`)) return { kind: "Deployment", name: ref.name.slice(0, -hash.length - 1) };
  return { kind: "ReplicaSet", name: ref.name };
}

/**
 * The controlling owner of each ReplicaSet the pods name (null: it has none), read once
 * each; undefined where the user may not read it, so podWorkload infers it.
 */
export async function replicaSetOwners(kc: KubeConfig, pods: readonly V1Pod[]): Promise<(namespace: string, name: string) => V1OwnerReference | null | undefined> {
  const apps = kc.makeApiClient(AppsV1Api);
  const wanted = new Set<string>();
  for (const p of pods) {
    for (const r of p.metadata?.ownerReferences ?? []) if (r.kind === "ReplicaSet") wanted.add(`${p.metadata?.namespace ?? ""}/${r.name}`);
  }
  const owners = new Map<string, V1OwnerReference | null | undefined>();
  let forbidden = false; // one 403 says it for all of them
  const limit = pLimit(8);
  await Promise.all(
    [...wanted].sort().map((k) =>
      limit(async () => {
        if (forbidden) return;
        const [namespace, name] = k.split("/") as [string, string];
        try {
          const rs = await apps.readNamespacedReplicaSet({ namespace, name });
          const refs = rs.metadata?.ownerReferences ?? [];
          owners.set(k, refs.find((r) => r.controller) ?? refs[0] ?? null);
        } catch (err) {
          if (httpStatus(err) === 403) forbidden = true;
        }
      }),
    ),
  );
  return (namespace, name) => owners.get(`${namespace}/${name}`);
}
