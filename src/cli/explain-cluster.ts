// `hookpoint explain --kubeconfig/--context`: decide with the live cluster's
// HookpointPolicies and namespace labels instead of local files. One list of
// each, judged like the webhook judges them; nothing is written to the cluster.
// The Kubernetes client loads only when a cluster is read.
import type { Command } from "commander";
import type { KubeConfig } from "@kubernetes/client-node";
import { routeOfEntry, routeSends, type RoutedCondition } from "../admission/routing.js";
import type { Pod } from "../admission/pod.js";
import { WEBHOOK_NAMESPACE } from "../defaults.js";
import { namespaceLabels } from "../policy/snapshot.js";
import type { Settings } from "../policy/effective.js";
import type { Snapshot } from "../policy/snapshot.js";
import type { IstioWebhook } from "../admission/istio-injection.js";
import type { IstioWebhooksRead } from "../k8s/istio-webhooks.js";
import { UsageError } from "./errors.js";

export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
  policy?: string;
  namespaces?: string;
}

export function addClusterOptions(cmd: Command): Command {
  return cmd
    .option("--kubeconfig <file>", "decide with the HookpointPolicies, namespace labels and Istio injector webhooks of this cluster (read once; nothing is written)")
    .option("--context <name>", "kubeconfig context to read (implies reading a cluster; default kubeconfig unless --kubeconfig)");
}

export interface LiveInputs {
  snapshot: Snapshot;
  /** The Routed condition of the policy governing a pod (null: the built-in defaults), when known. */
  routed(policy: string | null): RoutedCondition | undefined;
  /** Whether the webhook configuration's entries send this pod of this namespace; undefined when they are unknown. */
  sends(namespace: string, pod: Pod): boolean | undefined;
  /** Istio's injector webhooks in the cluster, or why they could not be listed (Istio's default install is then assumed). */
  istioWebhooks: IstioWebhooksRead;
}

/** The cluster's Istio injector webhooks where they could be listed; undefined (Istio's default install assumed) offline or where they could not. */
export function knownIstioWebhooks(live: LiveInputs | undefined): readonly IstioWebhook[] | undefined {
  return live?.istioWebhooks.ok ? live.istioWebhooks.webhooks : undefined;
}

/** The cluster's snapshot when --kubeconfig or --context is given, else undefined. Notes go to `note`, one line each. */
export async function clusterSnapshotFromFlags(flags: ClusterFlags, settings: Settings, note: (line: string) => void): Promise<LiveInputs | undefined> {
  if (flags.kubeconfig === undefined && flags.context === undefined) return undefined;
  const flag = flags.kubeconfig !== undefined ? "--kubeconfig" : "--context";
  if (flags.policy !== undefined || flags.namespaces !== undefined) {
    throw new UsageError(`${flag} cannot be combined with --policy or --namespaces: the cluster's policies and namespaces are used`);
  }
  const { loadKubeConfig } = await import("../k8s/kubeconfig.js");
  return liveInputs(loadKubeConfig({ file: flags.kubeconfig, context: flags.context }), settings, note);
}

/** The cluster's decision inputs, read once and judged as the webhook judges them (explain, and enable's check before it changes anything). */
export async function liveInputs(kubeConfig: KubeConfig, settings: Settings, note: (line: string) => void): Promise<LiveInputs> {
  const [{ loadClusterSnapshot }, { listIstioWebhooks }] = await Promise.all([import("../k8s/cluster-snapshot.js"), import("../k8s/istio-webhooks.js")]);
  const istioWebhooks = listIstioWebhooks(kubeConfig);
  const live = await loadClusterSnapshot(kubeConfig, settings);
  if (!live.policyCrdInstalled) note(`the HookpointPolicy CRD is not installed in ${live.server}; the built-in default policy applies`);
  for (const p of live.policies) {
    if (p.accepted) continue;
    const fallback =
      p.inForce === "previous"
        ? `its last accepted version (generation ${p.inForceGeneration ?? "?"}, recorded in its status) is used instead`
        : "it governs no pods";
    note(`HookpointPolicy ${p.name} (generation ${p.generation ?? "?"}) is not accepted: ${p.message}; ${fallback}`);
  }
  // What the webhook reports as each policy's Routed condition, read the same way.
  if (!live.routing.ok) note(`which pods reach the webhook is unknown: ${live.routing.problem}`);
  else {
    if (live.defaultsRouted.status === "False") note(`pods under the built-in defaults are not all routed: ${live.defaultsRouted.message}`);
    for (const p of live.policies) if (p.routed?.status === "False") note(`HookpointPolicy ${p.name} is not routed: ${p.routed.message}`);
  }
  const routed = new Map(live.policies.flatMap((p) => (p.routed ? [[p.name, p.routed] as const] : [])));
  const routing = live.routing;
  const policies = live.snapshot.policies.map((p) => p.policy);
  const webhookNamespace = settings.webhookNamespace ?? WEBHOOK_NAMESPACE;
  return {
    snapshot: live.snapshot,
    istioWebhooks: await istioWebhooks,
    routed: (policy) => (policy === null ? live.defaultsRouted : routed.get(policy)),
    sends: (namespace, pod) => {
      if (!routing.ok) return undefined;
      const nsLabels = namespaceLabels(live.snapshot, namespace);
      return routing.entries.some((e) => {
        const route = routeOfEntry(e, policies, webhookNamespace);
        return route !== undefined && routeSends(route, nsLabels, pod.metadata?.labels ?? {}, pod.metadata?.annotations);
      });
    },
  };
}
