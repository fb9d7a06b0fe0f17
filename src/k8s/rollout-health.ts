// Whether a restarted workload's new pods came up traced and healthy. Pure: the
// pods (as the API server returns them) and the workload in, a verdict out.
import { INJECTED_LABEL, STATUS_ANNOTATION } from "../names.js";
import { counted } from "../counted.js";

export interface PodView {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string>; creationTimestamp?: Date | string; deletionTimestamp?: Date | string };
  status?: {
    containerStatuses?: ContainerStatusView[];
    initContainerStatuses?: ContainerStatusView[];
  };
}

export interface ContainerStatusView {
  name: string;
  ready: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string; message?: string } };
}

export type Verdict = { state: "healthy"; detail: string } | { state: "waiting"; detail: string } | { state: "failed"; detail: string };

/** The proxy container the webhook rewrote (named in the status annotation), istio-proxy by default. */
function proxyName(pod: PodView): string {
  try {
    const status = JSON.parse(pod.metadata?.annotations?.[STATUS_ANNOTATION] ?? "{}") as { container?: unknown };
    return typeof status.container === "string" ? status.container : "istio-proxy";
  } catch {
    return "istio-proxy";
  }
}

/** The pod-template annotation a restart sets (as `kubectl rollout restart` does); the new pods carry it. */
export const RESTARTED_AT = "kubectl.kubernetes.io/restartedAt";

/**
 * The new pods of a workload (those made from the template the restart wrote: they carry
 * its `restartedAt` value; no clock is compared, so the user's may differ from the API
 * server's): failed when one of their containers is in CrashLoopBackOff, healthy when
 * `want` of them are traced with a ready proxy, waiting otherwise.
 */
export function judgePods(pods: readonly PodView[], restartedAt: string, want: number, expectTraced: boolean): Verdict {
  // Scaled to zero (or a DaemonSet on no node): a restart makes no pod, so there is nothing to wait for.
  if (want === 0) return { state: "healthy", detail: "no replicas wanted: no new pods to wait for" };
  const fresh = pods.filter((p) => !p.metadata?.deletionTimestamp && p.metadata?.annotations?.[RESTARTED_AT] === restartedAt);
  for (const p of fresh) {
    for (const c of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) {
      if (c.state?.waiting?.reason === "CrashLoopBackOff") {
        return { state: "failed", detail: `pod ${p.metadata?.name ?? "?"}: container ${c.name} is in CrashLoopBackOff${c.state.waiting.message ? ` (${c.state.waiting.message})` : ""}` };
      }
    }
  }
  const traced = fresh.filter((p) => p.metadata?.labels?.[INJECTED_LABEL] === "true");
  if (!expectTraced) {
    const untracedReady = fresh.filter((p) => p.metadata?.labels?.[INJECTED_LABEL] !== "true" && (p.status?.containerStatuses ?? []).every((c) => c.ready));
    return untracedReady.length >= want
      ? { state: "healthy", detail: `${counted(untracedReady.length, "new pod")} untraced and ready` }
      : { state: "waiting", detail: `${untracedReady.length}/${want} new pods untraced and ready (${traced.length} still traced)` };
  }
  const ready = traced.filter((p) => [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])].some((c) => c.name === proxyName(p) && c.ready));
  if (ready.length >= want) return { state: "healthy", detail: `${counted(ready.length, "new pod")} traced, proxy ready` };
  const untraced = fresh.length - traced.length;
  return {
    state: "waiting",
    detail: `${ready.length}/${want} new pods traced with a ready proxy (${fresh.length} new${untraced > 0 ? `, ${untraced} not traced: is the webhook routing this namespace? see hookpoint explain` : ""})`,
  };
}
