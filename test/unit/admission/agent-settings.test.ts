// The agent stops, before it starts the proxy, on a setting it refuses. Policy validation
// judges a profile's env with the profile's scripts; what only the pod decides (a scripts
// annotation, the container's own HOOKPOINT_* env) is judged at admission, on the mutated
// container's env and command, with the agent's own parsing: such a pod is left untraced,
// with a warning, rather than given a proxy that never starts.
import jsonpatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import { reviewPod } from "../../../src/admission/review.js";
import type { Container, Pod } from "../../../src/admission/pod.js";
import { semanticProblems } from "../../../src/policy/validate.js";
import { loadPod, policy, SCRIPTS, settings, snapshot } from "../../support/pods.js";

const NS = { bookinfo: { "hookpoint.dev/inject": "enabled" } };
const LEAN = policy("lean", { profiles: { default: { scripts: ["hookpoint-pairs"], env: [{ name: "HOOKPOINT_MAX_OUTPUT_BYTES", value: "40000" }] } } });

function withProxy(pod: Pod, change: (c: Container) => void): Pod {
  const copy = structuredClone(pod);
  change(copy.spec.containers.find((c) => c.name === "istio-proxy") as Container);
  return copy;
}

describe("the agent's settings at admission", () => {
  const pod = loadPod("classic-sidecar");

  it("a budget the policy's scripts fit is injected (and the policy was accepted with it)", () => {
    expect(semanticProblems(LEAN, SCRIPTS)).toEqual([]);
    const r = reviewPod(pod, "bookinfo", snapshot(NS, [LEAN]), settings);
    expect(r.decision).toMatchObject({ inject: true, reason: "namespace-enabled" });
    expect(r.status?.scripts).toEqual(["hookpoint-pairs"]);
  });

  it("a scripts annotation whose files that budget cannot hold: not injected, the warning in the agent's words", () => {
    const annotated = structuredClone(pod);
    annotated.metadata!.annotations!["hookpoint.dev/scripts"] = "envoy-event-loop,envoy-request-flow,envoy-socket-io";
    const r = reviewPod(annotated, "bookinfo", snapshot(NS, [LEAN]), settings);
    const message =
      "the agent would exit before it starts the proxy: HOOKPOINT_MAX_OUTPUT_BYTES: 40000 is too small: 3 output files with 3 rotated ones each need at least 49152 (12 files of 4096 bytes), with scripts envoy-event-loop, envoy-request-flow, envoy-socket-io";
    expect(r.decision).toMatchObject({ inject: false, decidedBy: "agent-settings", reason: "invalid-agent-settings", message, policy: "lean" });
    expect(r.patch).toEqual([]);
    expect(r.warnings).toEqual([`hookpoint: not injected: ${message}`]);
  });

  it("the proxy container's own HOOKPOINT_* env, which the webhook leaves in place, is judged too; a valueFrom is not", () => {
    const verbose = withProxy(pod, (c) => c.env?.push({ name: "HOOKPOINT_LOG_LEVEL", value: "verbose" }));
    const r = reviewPod(verbose, "bookinfo", snapshot(NS), settings);
    expect(r.decision).toMatchObject({
      inject: false,
      decidedBy: "agent-settings",
      reason: "invalid-agent-settings",
      message: 'the agent would exit before it starts the proxy: HOOKPOINT_LOG_LEVEL: expected fatal, error, warn, info, debug, trace or silent, got "verbose"',
    });
    // The last entry of a name is the one the agent gets.
    const fixed = withProxy(verbose, (c) => c.env?.push({ name: "HOOKPOINT_LOG_LEVEL", value: "debug" }));
    expect(reviewPod(fixed, "bookinfo", snapshot(NS), settings).decision.inject).toBe(true);
    const fromConfigMap = withProxy(verbose, (c) => c.env?.push({ name: "HOOKPOINT_LOG_LEVEL", valueFrom: { configMapKeyRef: { name: "tracing", key: "level" } } }));
    expect(reviewPod(fromConfigMap, "bookinfo", snapshot(NS), settings).decision.inject).toBe(true);
  });

  it("a profile without the agent leaves the entrypoint, and so the settings, alone", () => {
    const verbose = withProxy(pod, (c) => c.env?.push({ name: "HOOKPOINT_LOG_LEVEL", value: "verbose" }));
    const noAgent = policy("plain", { profiles: { default: { agent: false } } });
    expect(reviewPod(verbose, "bookinfo", snapshot(NS, [noAgent]), settings).decision.inject).toBe(true);
  });

  it("a terminationGracePeriodSeconds longer than the agent takes (Kubernetes sets no limit) is written as the agent's largest, a day, and the pod is traced", () => {
    const slow = structuredClone(pod);
    slow.spec.terminationGracePeriodSeconds = 172_800;
    const r = reviewPod(slow, "bookinfo", snapshot(NS), settings);
    expect(r.decision).toMatchObject({ inject: true, reason: "namespace-enabled" });
    const proxy = r.mutated?.spec.containers.find((c) => c.name === "istio-proxy");
    expect(proxy?.env?.find((e) => e.name === "HOOKPOINT_TERMINATION_GRACE_SECONDS")).toEqual({ name: "HOOKPOINT_TERMINATION_GRACE_SECONDS", value: "86400" });
    // Reinvocation on the stored pod changes nothing.
    const stored = jsonpatch.applyPatch(structuredClone(slow), r.patch, true, false).newDocument;
    expect(reviewPod(stored, "bookinfo", snapshot(NS), settings).patch).toEqual([]);
  });
});
