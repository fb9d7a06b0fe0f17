// judgePods: when a restarted workload's new pods count as traced and healthy,
// failed (a crash loop), or still coming.
import { describe, expect, it } from "vitest";
import { judgePods, type PodView } from "../../../src/k8s/rollout-health.js";

const since = new Date("2026-01-01T10:00:00.500Z");
const pod = (name: string, created: string, traced: boolean, statuses: PodView["status"]): PodView => ({
  metadata: { name, creationTimestamp: created, labels: traced ? { "hookpoint.dev/injected": "true" } : {}, ...(traced ? { annotations: { "hookpoint.dev/status": '{"container":"cilium-envoy"}' } } : {}) },
  status: statuses,
});
const ready = (name: string, r = true) => ({ name, ready: r });

describe("judgePods", () => {
  it("healthy once enough new traced pods have a ready proxy (the container the status annotation names)", () => {
    const pods = [pod("a", "2026-01-01T10:00:00Z", true, { containerStatuses: [ready("app"), ready("cilium-envoy")] }), pod("old", "2026-01-01T09:00:00Z", true, { containerStatuses: [ready("cilium-envoy")] })];
    expect(judgePods(pods, since, 1, true)).toEqual({ state: "healthy", detail: "1 new pod traced, proxy ready" });
    expect(judgePods(pods, since, 2, true)).toEqual({ state: "waiting", detail: "1/2 new pods traced with a ready proxy (1 new)" });
  });
  it("a crash loop in any new pod fails at once, naming pod and container", () => {
    const pods = [pod("a", "2026-01-01T10:00:01Z", true, { initContainerStatuses: [{ name: "istio-init", ready: false, state: { waiting: { reason: "CrashLoopBackOff" } } }] })];
    expect(judgePods(pods, since, 1, true)).toEqual({ state: "failed", detail: "pod a: container istio-init is in CrashLoopBackOff" });
  });
  it("a workload that wants no pods (scaled to zero) is healthy at once, traced or not", () => {
    expect(judgePods([], since, 0, true)).toEqual({ state: "healthy", detail: "no replicas wanted: no new pods to wait for" });
    expect(judgePods([], since, 0, false)).toEqual({ state: "healthy", detail: "no replicas wanted: no new pods to wait for" });
  });
  it("new pods that are not traced are named as such", () => {
    const pods = [pod("a", "2026-01-01T10:00:02Z", false, { containerStatuses: [ready("istio-proxy")] })];
    expect(judgePods(pods, since, 1, true)).toEqual({ state: "waiting", detail: "0/1 new pods traced with a ready proxy (1 new, 1 not traced: is the webhook routing this namespace? see hookpoint explain)" });
    expect(judgePods(pods, since, 1, false)).toEqual({ state: "healthy", detail: "1 new pod untraced and ready" });
  });
});
