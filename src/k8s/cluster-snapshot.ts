// One read of the cluster's decision inputs, for `hookpoint explain
// --kubeconfig`: a list of Namespaces and one of HookpointPolicies, judged
// like the webhook judges them (an invalid policy is replaced by its recorded
// accepted version, if any) but without writing any status.
import type { KubeConfig } from "@kubernetes/client-node";
import type { Settings } from "../policy/effective.js";
import { buildSnapshot, type Snapshot } from "../policy/snapshot.js";
import type { HookpointPolicy } from "../policy/types.js";
import { judgePolicy } from "./acceptance.js";
import { knownErrno } from "../errno-text.js";
import { errorText, httpStatus } from "./api-errors.js";
import { policyReports, type PolicyReport } from "./cluster-source.js";
import { createLister, namespaceInfo, type ListOptions } from "./lists.js";

export interface ClusterSnapshot {
  snapshot: Snapshot;
  server: string;
  namespaces: number;
  policies: PolicyReport[];
  /** False when the API server does not serve HookpointPolicies (the CRD is not installed): built-in defaults apply. */
  policyCrdInstalled: boolean;
}

export async function loadClusterSnapshot(kubeConfig: KubeConfig, settings: Settings, options: ListOptions = {}): Promise<ClusterSnapshot> {
  const server = kubeConfig.getCurrentCluster()?.server ?? "(no server in kubeconfig)";
  const lister = createLister(kubeConfig);
  // Both lists run at once; a failure of the namespaces list is reported first, whatever finished first.
  const [nsResult, policyResult] = await Promise.allSettled([lister.namespaces(options), lister.policies(options)]);
  if (nsResult.status === "rejected") throw clusterError("namespaces", server, nsResult.reason);
  let policies: Awaited<ReturnType<typeof lister.policies>> | undefined;
  if (policyResult.status === "fulfilled") policies = policyResult.value;
  else if (httpStatus(policyResult.reason) !== 404) throw clusterError("hookpointpolicies", server, policyResult.reason);
  const namespaces = nsResult.value;
  const verdicts = (policies?.items ?? []).map((item) => judgePolicy(item, settings.knownScripts));
  const inForce = verdicts.flatMap((v): HookpointPolicy[] => (v.policy ? [v.policy] : []));
  return {
    snapshot: buildSnapshot(namespaces.items.map(namespaceInfo), inForce, settings),
    server,
    namespaces: namespaces.items.length,
    policies: policyReports(verdicts),
    policyCrdInstalled: policies !== undefined,
  };
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
