// `collect`'s work once the pods are known: every pod's agent in parallel (bounded), one
// failure reported for its pod without stopping the others, and the manifest.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import pLimit from "p-limit";
import type { Workload } from "../k8s/traced-pods.js";
import { writeManifest, type Manifest, type ManifestPod } from "./manifest.js";
import { collectPod, describeCopies, type PodCollectResult } from "./pod-collect.js";
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
          result = { reachable: false, error: pod.skip, files: await describeCopies(podDir), fetched: 0, errors: [pod.skip] };
        } else {
          try {
            result = await collectPod({ transport: o.transport, target: { namespace: pod.namespace, pod: pod.name, port: pod.port }, podDir, since: o.since, onBytes: (n) => o.events?.bytes(n) });
          } catch (err) {
            const message = (err as Error).message;
            result = { reachable: false, error: message, files: await describeCopies(podDir), fetched: 0, errors: [message] };
          }
        }
        fetched += result.fetched;
        const entry: ManifestPod = {
          namespace: pod.namespace,
          name: pod.name,
          workload: pod.workload,
          node: pod.node,
          podIP: pod.podIP,
          agent: result.reachable ? { reachable: true } : { reachable: false, error: result.error ?? "unreachable" },
          files: result.files,
          bytes: result.files.reduce((n, f) => n + f.bytes, 0),
          errors: result.errors,
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
    pods,
  };
  await writeManifest(o.dir, manifest);
  return { manifest, fetched, failed: pods.filter((p) => !p.agent.reachable || p.errors.length > 0).length };
}
