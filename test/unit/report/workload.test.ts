import { describe, expect, it } from "vitest";
import { workloadFromPodName } from "../../../src/report/workload.js";

describe("workload from a pod name", () => {
  it("strips a Deployment's pod-template-hash and suffix", () => {
    expect(workloadFromPodName("cart-7d9f8b6c5d-x2x4z")).toEqual({ kind: "Deployment", name: "cart", derived: true });
    expect(workloadFromPodName("checkout-api-6c8d7f9b5-q9wzt")).toEqual({ kind: "Deployment", name: "checkout-api", derived: true });
  });

  it("strips a generated 5-character suffix (ReplicaSet, DaemonSet, Job)", () => {
    expect(workloadFromPodName("node-agent-x2x4z")).toEqual({ kind: "ReplicaSet/DaemonSet/Job", name: "node-agent", derived: true });
  });

  it("strips a StatefulSet ordinal", () => {
    expect(workloadFromPodName("frontend-0")).toEqual({ kind: "StatefulSet", name: "frontend", derived: true });
    expect(workloadFromPodName("db-12")).toEqual({ kind: "StatefulSet", name: "db", derived: true });
  });

  it("keeps a name that is no generated pattern as a pod of its own", () => {
    // "proxy" has vowels: never a generated suffix; "x-01" is no ordinal.
    expect(workloadFromPodName("istio-proxy")).toEqual({ kind: "Pod", name: "istio-proxy", derived: true });
    expect(workloadFromPodName("x-01")).toEqual({ kind: "Pod", name: "x-01", derived: true });
    expect(workloadFromPodName("standalone")).toEqual({ kind: "Pod", name: "standalone", derived: true });
  });
});
