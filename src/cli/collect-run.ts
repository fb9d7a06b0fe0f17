// `hookpoint collect`'s work: list the traced pods, pull each agent's records through the
// API server's pod proxy, write the manifest; exit code 1 when any pod failed.
import { join } from "node:path";
import { collect, type CollectPod } from "../collect/collect.js";
import { MANIFEST_FILE } from "../collect/manifest.js";
import { createProgress, formatBytes } from "../collect/progress.js";
import { podProxyTransport } from "../collect/pod-proxy.js";
import { agentPort, listTracedPods, podFacts, podWorkload, replicaSetOwners, tracedSelector } from "../k8s/traced-pods.js";
import { isoTimeMs } from "../records/times.js";
import { InputError } from "./errors.js";
import { parseDurationFlag, podsChoice, type PodsFlags } from "./pods-options.js";

export type CollectFlags = PodsFlags & { output: string; since?: string };

/**
 * --since: a duration back from `now`, an ISO 8601 time with its offset, or a date
 * (midnight UTC). A time without offset is refused: it would be read as this machine's
 * local time while every time hookpoint shows is UTC.
 */
export function parseSince(text: string, now: Date): Date {
  if (/^\d{4}-\d\d-\d\d/.test(text)) {
    const time = /^\d{4}-\d\d-\d\d$/.test(text) ? `${text}T00:00:00Z` : text.replace(" ", "T");
    if (/T[\d:.]+$/.test(time)) throw new InputError("--since", `"${text}" has no UTC offset: add Z (UTC) or one such as +01:00`);
    const ms = isoTimeMs(time);
    if (!Number.isFinite(ms)) throw new InputError("--since", `"${text}" is not a valid ISO 8601 time`);
    return new Date(ms);
  }
  return new Date(now.getTime() - parseDurationFlag("--since", text));
}

export async function runCollect(flags: CollectFlags): Promise<void> {
  const started = new Date();
  const since = flags.since === undefined ? null : parseSince(flags.since, started);
  podsChoice(flags, undefined); // bad flags are reported before the kubeconfig is read
  const { loadKubeConfig } = await import("../k8s/kubeconfig.js");
  const kc = loadKubeConfig({ file: flags.kubeconfig, context: flags.context });
  const choice = podsChoice(flags, kc.getContextObject(kc.getCurrentContext())?.namespace);
  const listed = await listTracedPods(kc, choice);
  const ownerOf = await replicaSetOwners(kc, listed);
  const pods: CollectPod[] = listed.map((pod) => {
    const facts = podFacts(pod);
    const running = facts.phase === "Running" && facts.podIP;
    return {
      namespace: facts.namespace,
      name: facts.name,
      workload: podWorkload(pod, ownerOf),
      node: facts.node,
      podIP: facts.podIP,
      port: agentPort(pod),
      skip: running ? null : `pod is ${facts.phase}${facts.podIP ? "" : " and has no pod IP"}: its agent cannot be reached`,
    };
  });
  if (pods.length === 0) {
    process.stderr.write(`hookpoint collect: no pods with ${tracedSelector(choice.selector)} in ${choice.namespace === null ? "any namespace" : `namespace ${choice.namespace}`}\n`);
  }
  const transport = podProxyTransport(kc, { maxSockets: choice.parallel, idleTimeoutMs: choice.timeoutMs });
  const progress = createProgress(process.stderr, pods.length, process.stderr.isTTY === true);
  try {
    const out = await collect({
      dir: flags.output,
      pods,
      transport,
      since,
      parallel: choice.parallel,
      cluster: { server: kc.getCurrentCluster()?.server ?? "", context: kc.getCurrentContext() },
      events: progress,
    });
    progress.stop();
    const seconds = (Date.now() - started.getTime()) / 1000;
    process.stderr.write(
      `hookpoint collect: ${pods.length} pods, ${out.failed} failed; ${formatBytes(out.fetched)} fetched in ${seconds.toFixed(1)} s; manifest ${join(flags.output, MANIFEST_FILE)}\n`,
    );
    if (out.failed > 0) process.exitCode = 1;
  } finally {
    progress.stop();
    transport.close();
  }
}
