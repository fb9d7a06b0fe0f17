// judgePods: when a restarted workload's new pods count as traced and healthy,
// failed (a crash loop), or still coming. New pods are those made from the
// restarted template (they carry its restartedAt value), whatever the clocks say.
import { describe, expect, it } from "vitest";
import { judgePods, RESTARTED_AT, type PodView } from "../../../src/k8s/rollout-health.js";

const restart = "2026-01-01T10:00:00.500Z";
const before = "2025-12-31T08:00:00.000Z";
const pod = (name: string, restartedAt: string | undefined, traced: boolean, statuses: PodView["status"], created = "2026-01-01T10:00:01Z"): PodView => ({
  metadata: {
    name,
    creationTimestamp: created,
    labels: traced ? { "hookpoint.dev/injected": "true" } : {},
    annotations: { ...(restartedAt ? { [RESTARTED_AT]: restartedAt } : {}), ...(traced ? { "hookpoint.dev/status": '{"container":"cilium-envoy"}' } : {}) },
  },
  status: statuses,
});
const ready = (name: string, r = true) => ({ name, ready: r });

describe("judgePods", () => {
  it("healthy once enough new traced pods have a ready proxy (the container the status annotation names)", () => {
    const pods = [pod("a", restart, true, { containerStatuses: [ready("app"), ready("cilium-envoy")] }), pod("old", before, true, { containerStatuses: [ready("cilium-envoy")] })];
    expect(judgePods(pods, restart, 1, true)).toEqual({ state: "healthy", detail: "1 new pod traced, proxy ready" });
    expect(judgePods(pods, restart, 2, true)).toEqual({ state: "waiting", detail: "1/2 new pods traced with a ready proxy (1 new)" });
  });
  it("a pod from the restarted template is new whatever its creation time (the user's clock ahead of the API server's), one from before is not", () => {
    const skewed = [pod("a", restart, true, { containerStatuses: [ready("cilium-envoy")] }, "2026-01-01T09:59:55Z")];
    expect(judgePods(skewed, restart, 1, true)).toEqual({ state: "healthy", detail: "1 new pod traced, proxy ready" });
    const older = [pod("b", undefined, true, { containerStatuses: [ready("cilium-envoy")] }, "2026-01-01T10:00:05Z")];
    expect(judgePods(older, restart, 1, true)).toEqual({ state: "waiting", detail: "0/1 new pods traced with a ready proxy (0 new)" });
  });
  it("a crash loop in any new pod fails at once, naming pod and container", () => {
    const pods = [pod("a", restart, true, { initContainerStatuses: [{ name: "istio-init", ready: false, state: { waiting: { reason: "CrashLoopBackOff" } } }] })];
    expect(judgePods(pods, restart, 1, true)).toEqual({ state: "failed", detail: "pod a: container istio-init is in CrashLoopBackOff" });
  });
  it("a workload that wants no pods (scaled to zero) is healthy at once, traced or not", () => {
    expect(judgePods([], restart, 0, true)).toEqual({ state: "healthy", detail: "no replicas wanted: no new pods to wait for" });
    expect(judgePods([], restart, 0, false)).toEqual({ state: "healthy", detail: "no replicas wanted: no new pods to wait for" });
  });
  it("new pods that are not traced are named as such", () => {
    const pods = [pod("a", restart, false, { containerStatuses: [ready("istio-proxy")] })];
    expect(judgePods(pods, restart, 1, true)).toEqual({ state: "waiting", detail: "0/1 new pods traced with a ready proxy (1 new, 1 not traced: is the webhook routing this namespace? see hookpoint explain)" });
    expect(judgePods(pods, restart, 1, false)).toEqual({ state: "healthy", detail: "1 new pod untraced and ready" });
  });
});
