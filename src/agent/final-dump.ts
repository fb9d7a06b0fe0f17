// How long bpftrace may take over its final dump (SIGINT to SIGKILL). Pure.

/** The longest a terminating pod's final dump may take when --stop-grace-ms is shorter. */
export const FINAL_DUMP_MAX_MS = 60_000;

/**
 * --stop-grace-ms, or, once the pod is terminating, what is left before the kubelet's
 * SIGKILL (`leftMs`, already less a second; null when no SIGTERM came) up to a minute, when
 * that is longer. A loaded node can make bpftrace take seconds to detach and print, while
 * the container waits for nothing else; the minute keeps a hung bpftrace from holding a pod
 * with a long grace period.
 */
export function finalDumpGraceMs(stopGraceMs: number, leftMs: number | null): number {
  return Math.max(stopGraceMs, Math.min(Math.floor(leftMs ?? 0), FINAL_DUMP_MAX_MS));
}
