// When a terminating pod's tracing stops, and how long bpftrace may take over its final
// dump (SIGINT to SIGKILL). Pure.

/** The longest a terminating pod's final dump may take when --stop-grace-ms is shorter. */
export const FINAL_DUMP_MAX_MS = 60_000;

/**
 * The least time the kubelet gives a container from SIGTERM to SIGKILL, whatever the pod's
 * terminationGracePeriodSeconds (0 or 1) or a delete's grace period (kubectl sends
 * --grace-period=0 as 1 unless --force; the kubelet's pod worker makes any at least 1):
 * killContainer's minimumGracePeriodInSeconds (pkg/kubelet/kuberuntime/kuberuntime_container.go),
 * applied last, after a preStop hook's time is taken off.
 */
export const KUBELET_MIN_GRACE_SECONDS = 2;

/** The final dump is planned to be on disk this long before the kubelet's SIGKILL. */
export const SIGKILL_MARGIN_MS = 1000;

export interface DrainPlan {
  /** From SIGTERM to the kubelet's SIGKILL, less the margin. */
  killInMs: number;
  /** From SIGTERM to stopping tracing while the proxy still drains: --stop-grace-ms before killInMs, or at once. */
  tracingStopsInMs: number;
}

/** What a SIGTERM leaves: the pod's grace period as the kubelet really gives it. */
export function drainPlan(terminationGraceSeconds: number, stopGraceMs: number): DrainPlan {
  const killInMs = Math.max(terminationGraceSeconds, KUBELET_MIN_GRACE_SECONDS) * 1000 - SIGKILL_MARGIN_MS;
  return { killInMs, tracingStopsInMs: Math.max(0, killInMs - stopGraceMs) };
}

/**
 * --stop-grace-ms, or, once the pod is terminating, what is left before the kubelet's
 * SIGKILL (`leftMs`, already less the margin; null when no SIGTERM came) up to a minute,
 * when that is longer. A loaded node can make bpftrace take seconds to detach and print,
 * while the container waits for nothing else; the minute keeps a hung bpftrace from
 * holding a pod with a long grace period.
 */
export function finalDumpGraceMs(stopGraceMs: number, leftMs: number | null): number {
  return Math.max(stopGraceMs, Math.min(Math.floor(leftMs ?? 0), FINAL_DUMP_MAX_MS));
}
