// One read of the cluster's decision inputs, for `hookpoint explain
// --kubeconfig`: a list of Namespaces and one of HookpointPolicies, judged
// like the webhook judges them (an invalid policy is replaced by its recorded
// accepted version, if any) but without writing any status.
import { AdmissionregistrationV1Api, type KubeConfig, type V1MutatingWebhookConfiguration } from "@kubernetes/client-node";
import { routedCondition, type LiveRouting, type RoutedCondition } from "../admission/routing.js";
import { BUILTIN_POLICY_NAME } from "../policy/effective.js";
import type { Settings } from "../policy/effective.js";
import { buildSnapshot, type Snapshot } from "../policy/snapshot.js";
import type { HookpointPolicy } from "../policy/types.js";
import { judgePolicy } from "./acceptance.js";
import { knownErrno } from "../errno-text.js";
import { errorText, httpStatus } from "./api-errors.js";
import { policyReports, type PolicyReport } from "./cluster-source.js";
import { WEBHOOK_CONFIGURATION_NAME, WEBHOOK_NAMESPACE } from "./install-names.js";
import { createLister, namespaceInfo, type ListOptions } from "./lists.js";
import { configurationReadProblem, entriesOf, plainConfiguration } from "./routing-patch.js";

export interface ClusterSnapshot {
  snapshot: Snapshot;
  server: string;
  namespaces: number;
  policies: PolicyReport[];
  /** False when the API server does not serve HookpointPolicies (the CRD is not installed): built-in defaults apply. */
  policyCrdInstalled: boolean;
  /** The webhook configuration's entries (read once), or why they are unknown. */
  routing: LiveRouting;
  /** Whether the built-in defaults' pods (no policy governs them) are routed. */
  defaultsRouted: RoutedCondition;
}

/**
 * `configuration`: the webhook configuration when the caller reads it anyway
 * (`hookpoint check`), so it is read once; otherwise it is read here.
 */
export async function loadClusterSnapshot(
  kubeConfig: KubeConfig,
  settings: Settings,
  options: ListOptions = {},
  configuration: Promise<ConfigurationRead> = readWebhookConfiguration(kubeConfig),
): Promise<ClusterSnapshot> {
  const server = kubeConfig.getCurrentCluster()?.server ?? "(no server in kubeconfig)";
  const lister = createLister(kubeConfig);
  // Both lists run at once; a failure of the namespaces list is reported first, whatever finished first.
  const [nsResult, policyResult, routing] = await Promise.allSettled([lister.namespaces(options), lister.policies(options), configuration.then(routingOf)]);
  if (nsResult.status === "rejected") throw clusterError("namespaces", server, nsResult.reason);
  let policies: Awaited<ReturnType<typeof lister.policies>> | undefined;
  if (policyResult.status === "fulfilled") policies = policyResult.value;
  else if (httpStatus(policyResult.reason) !== 404) throw clusterError("hookpointpolicies", server, policyResult.reason);
  const namespaces = nsResult.value;
  const verdicts = (policies?.items ?? []).map((item) => judgePolicy(item, settings.knownScripts));
  const inForce = verdicts.flatMap((v): HookpointPolicy[] => (v.policy ? [v.policy] : []));
  const live: LiveRouting = routing.status === "fulfilled" ? routing.value : { ok: false, problem: String(routing.reason) };
  const webhookNamespace = settings.webhookNamespace ?? WEBHOOK_NAMESPACE;
  const routed = (p: Pick<HookpointPolicy, "metadata" | "spec">) => routedCondition(p, live, webhookNamespace, WEBHOOK_CONFIGURATION_NAME);
  const byName = new Map(inForce.map((p) => [p.metadata.name, routed(p)]));
  return {
    // The webhook never injects in its own namespace: decide as it does, not only route as it does.
    snapshot: buildSnapshot(namespaces.items.map(namespaceInfo), inForce, { ...settings, webhookNamespace }),
    server,
    namespaces: namespaces.items.length,
    policies: policyReports(verdicts).map((r) => {
      const c = byName.get(r.name);
      return c ? { ...r, routed: c } : r;
    }),
    policyCrdInstalled: policies !== undefined,
    routing: live,
    defaultsRouted: routed({ metadata: { name: BUILTIN_POLICY_NAME }, spec: { mode: "OptIn" } }),
  };
}

/** The webhook's configuration, or why it cannot be had (needs get on it; a refusal is reported, not thrown). */
export type ConfigurationRead = { ok: true; config: V1MutatingWebhookConfiguration } | { ok: false; problem: string };

export async function readWebhookConfiguration(kubeConfig: KubeConfig): Promise<ConfigurationRead> {
  try {
    return { ok: true, config: await kubeConfig.makeApiClient(AdmissionregistrationV1Api).readMutatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME }) };
  } catch (err) {
    return { ok: false, problem: configurationReadProblem(WEBHOOK_CONFIGURATION_NAME, err) };
  }
}

/** The entries of the webhook's configuration, as the routing checks read them. */
function routingOf(read: ConfigurationRead): LiveRouting {
  return read.ok ? { ok: true, entries: entriesOf(plainConfiguration(read.config)) } : read;
}

/** "cannot list <resource> from <server>: HTTP 403: <API server's message>", or the network error. */
function clusterError(resource: string, server: string, err: unknown): Error {
  const code = httpStatus(err);
  if (code === undefined) {
    const cause = (err as { cause?: unknown } | null)?.cause;
    const detail = knownErrno(err) ?? (err instanceof Error ? err.message : String(err));
    return new Error(`cannot list ${resource} from ${server}: ${detail}${cause instanceof Error && !detail.includes(cause.message) ? ` (${cause.message})` : ""}`);
  }
  const hint = code === 401 ? " (the kubeconfig's credentials were refused)" : code === 403 ? ` (the user lacks permission to list ${resource})` : "";
  return new Error(`cannot list ${resource} from ${server}: ${errorText(err)}${hint}`);
}
