// `collect`'s work once the pods are known: every pod's agent in parallel (bounded), one
// failure reported for its pod without stopping the others, and the manifest (keeping the
// pods of earlier runs into the same folder whose copies are still there).
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import pLimit from "p-limit";
import type { Workload } from "../k8s/traced-pods.js";
import { earlierManifestPods, MANIFEST_FILE, podKey, writeManifest, type Manifest, type ManifestPod } from "./manifest.js";
import { collectPod, describeCopies, unreachable, type PodCollectResult } from "./pod-collect.js";
import type { AgentTransport } from "./transport.js";

export interface CollectPod {
  namespace: string;
  name: string;
  workload: Workload | null;
  node: string | null;
  podIP: string | null;
  port: number;
  /** Why the agent is not asked at all (pod not running, no IP), else null. */
  skip: string | null;
}

export interface CollectEvents {
  podDone(pod: CollectPod, result: ManifestPod, fetched: number): void;
  bytes(n: number): void;
}

export interface CollectOptions {
  dir: string;
  pods: readonly CollectPod[];
  transport: AgentTransport;
  since: Date | null;
  parallel: number;
  cluster: Manifest["cluster"];
  events?: CollectEvents;
  now?: () => Date;
}

export interface CollectOutcome {
  manifest: Manifest;
  /** Bytes added to the copies in this run. */
  fetched: number;
  /** Pods with an unreachable agent or any error. */
  failed: number;
}

export async function collect(o: CollectOptions): Promise<CollectOutcome> {
  const now = o.now ?? (() => new Date());
  const collectedAt = now().toISOString();
  await mkdir(o.dir, { recursive: true });
  const limit = pLimit(o.parallel);
  let fetched = 0;
  const pods = await Promise.all(
    o.pods.map((pod) =>
      limit(async (): Promise<ManifestPod> => {
        const podDir = join(o.dir, pod.namespace, pod.name);
        let result: PodCollectResult;
        if (pod.skip) {
          result = await unreachable(podDir, pod.skip);
        } else {
          // Never throws: an error of its own is named as such, for this pod alone.
          result = await collectPod({ transport: o.transport, target: { namespace: pod.namespace, pod: pod.name, port: pod.port }, podDir, since: o.since, onBytes: (n) => o.events?.bytes(n) });
        }
        fetched += result.fetched;
        const entry: ManifestPod = {
          namespace: pod.namespace,
          name: pod.name,
          workload: pod.workload,
          node: pod.node,
          podIP: pod.podIP,
          agent: result.reachable ? { reachable: true } : { reachable: false, error: result.error ?? "unreachable" },
          ...(result.traceRequests ? { traceRequestsOverAgentLife: result.traceRequests } : {}),
          files: result.files,
          bytes: bytesOf(result.files),
          errors: result.errors,
          collectedAt,
        };
        o.events?.podDone(pod, entry, result.fetched);
        return entry;
      }),
    ),
  );
  const manifest: Manifest = {
    version: 1,
    cluster: o.cluster,
    collectedAt,
    since: o.since ? o.since.toISOString() : null,
    until: now().toISOString(),
    pods: [...pods, ...(await earlierPods(o.dir, pods))],
  };
  await writeManifest(o.dir, manifest);
  return { manifest, fetched, failed: pods.filter((p) => !p.agent.reachable || p.errors.length > 0).length };
}

/**
 * The pods of earlier runs into `dir` that this run did not ask (another selection, or gone
 * from the cluster since) and whose copies are still in their folders: their records stay in
 * the folder, so their owner, node and agent facts stay in the manifest, with the copies
 * described afresh. A pod asked again takes this run's facts.
 */
async function earlierPods(dir: string, asked: readonly ManifestPod[]): Promise<ManifestPod[]> {
  const text = await readFile(join(dir, MANIFEST_FILE), "utf8").catch(() => null);
  if (text === null) return [];
  const seen = new Set(asked.map(podKey));
  const out: ManifestPod[] = [];
  for (const pod of earlierManifestPods(text)) {
    const key = podKey(pod);
    if (seen.has(key)) continue;
    seen.add(key);
    // Copies that cannot be read are as good as gone: the report cannot read them either.
    const { files } = await describeCopies(join(dir, pod.namespace, pod.name));
    if (files.length > 0) out.push({ ...pod, files, bytes: bytesOf(files) });
  }
  return out;
}

/** Sum of the files' bytes (a manifest pod's `bytes`). */
function bytesOf(files: readonly { bytes: number }[]): number {
  return files.reduce((n, f) => n + f.bytes, 0);
}
