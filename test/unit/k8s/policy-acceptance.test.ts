// Acceptance of HookpointPolicies read from a cluster and the Accepted
// condition written for them: pure functions, exact values.
import { describe, expect, it } from "vitest";
import { judgePolicy, statusUpdate, type ClusterPolicy, type PolicyStatus } from "../../../src/k8s/acceptance.js";
import type { HookpointPolicySpec, PolicyCondition } from "../../../src/policy/types.js";
import { SCRIPTS } from "../../support/pods.js";

const NOW = new Date("2025-03-01T10:00:00.123Z");
const VALID: HookpointPolicySpec = { mode: "Enabled", defaultProfile: "deep", profiles: { deep: { scripts: ["envoy-socket-io"] } } };
const INVALID: HookpointPolicySpec = { mode: "Enabled", defaultProfile: "fast" };
const INVALID_MESSAGE = 'spec.defaultProfile: names profile "fast", which is not defined (profiles: none)';

function obj(spec: HookpointPolicySpec, generation: number, status?: PolicyStatus): ClusterPolicy {
  const o: ClusterPolicy = { apiVersion: "hookpoint.dev/v1alpha1", kind: "HookpointPolicy", metadata: { name: "p", generation, resourceVersion: String(100 + generation) }, spec };
  if (status) o.status = status;
  return o;
}

const accepted = (generation: number, at: string): PolicyCondition => ({
  type: "Accepted",
  status: "True",
  reason: "Valid",
  message: "The policy is valid and in force.",
  observedGeneration: generation,
  lastTransitionTime: at,
});

describe("judgePolicy", () => {
  it("a valid policy governs as it is, without its status", () => {
    const v = judgePolicy(obj(VALID, 3, { conditions: [] }), SCRIPTS);
    expect(v).toEqual({
      name: "p",
      generation: 3,
      problems: [],
      inForce: "this",
      policy: { apiVersion: "hookpoint.dev/v1alpha1", kind: "HookpointPolicy", metadata: { name: "p", generation: 3, resourceVersion: "103" }, spec: VALID },
      condition: { type: "Accepted", status: "True", reason: "Valid", message: "The policy is valid and in force.", observedGeneration: 3 },
    });
  });

  it("an invalid policy falls back to the last accepted version", () => {
    const previous = judgePolicy(obj(VALID, 1), SCRIPTS).policy;
    const v = judgePolicy(obj(INVALID, 2), SCRIPTS, previous);
    expect(v.inForce).toBe("previous");
    expect(v.policy).toBe(previous);
    expect(v.condition).toEqual({ type: "Accepted", status: "False", reason: "Invalid", message: INVALID_MESSAGE, observedGeneration: 2 });
  });

  it("without one, to the accepted spec recorded in status, if it is still valid", () => {
    const v = judgePolicy(obj(INVALID, 5, { acceptedGeneration: 4, acceptedSpec: VALID }), SCRIPTS);
    expect(v.inForce).toBe("previous");
    expect(v.policy).toEqual({ apiVersion: "hookpoint.dev/v1alpha1", kind: "HookpointPolicy", metadata: { name: "p", generation: 4, resourceVersion: "105" }, spec: VALID });
    // A recorded spec naming a script this hookpoint does not ship is not used.
    const stale = judgePolicy(obj(INVALID, 5, { acceptedGeneration: 4, acceptedSpec: { profiles: { x: { scripts: ["gone"] } } } }), SCRIPTS);
    expect(stale.inForce).toBe("none");
    expect(stale.policy).toBeUndefined();
  });

  it("structural problems (unknown fields, bad enums) are reported like semantic ones", () => {
    const v = judgePolicy({ metadata: { name: "p", generation: 1 }, spec: { mode: "On", color: "red" } }, SCRIPTS);
    expect(v.inForce).toBe("none");
    expect(v.condition.message).toBe(
      'spec.color: unknown field (known: mode, priority, namespaceSelector, podSelector, excludedNamespaces, allowPodOptIn, targetContainers, allowedImages, defaultProfile, profiles); spec.mode: must be one of Disabled, OptIn, Enabled, got "On"',
    );
  });

  it("a very long list of problems is cut at a problem boundary and counted", () => {
    const allowedImages = Array.from({ length: 200 }, (_, i) => `Registry.example.com/Team${i}/*`);
    const v = judgePolicy(obj({ allowedImages }, 1), SCRIPTS);
    expect(v.problems).toHaveLength(200);
    expect(v.condition.message.length).toBeLessThanOrEqual(4_096);
    expect(v.condition.message).toMatch(/^spec\.allowedImages\[0\]: pattern "Registry\.example\.com\/Team0\/\*" can never match: .*; and 1\d\d more$/);
  });

  it("an object without apiVersion, kind or spec is a valid, empty policy", () => {
    const v = judgePolicy({ metadata: { name: "bare" } }, SCRIPTS);
    expect(v.inForce).toBe("this");
    expect(v.policy).toEqual({ apiVersion: "hookpoint.dev/v1alpha1", kind: "HookpointPolicy", metadata: { name: "bare" }, spec: {} });
    expect(v.condition).toEqual({ type: "Accepted", status: "True", reason: "Valid", message: "The policy is valid and in force." });
  });
});

describe("statusUpdate", () => {
  it("first condition: now, in whole seconds, plus the accepted spec", () => {
    const o = obj(VALID, 1);
    expect(statusUpdate(o, judgePolicy(o, SCRIPTS), NOW)).toEqual({ conditions: [accepted(1, "2025-03-01T10:00:00Z")], acceptedGeneration: 1, acceptedSpec: VALID });
  });

  it("nothing to write when status, reason, message and observedGeneration already match", () => {
    const o = obj(VALID, 1, { conditions: [accepted(1, "2024-01-01T00:00:00Z")] });
    expect(statusUpdate(o, judgePolicy(o, SCRIPTS), NOW)).toBeUndefined();
  });

  it("a new generation, still valid: observedGeneration moves, lastTransitionTime does not", () => {
    const o = obj(VALID, 2, { conditions: [accepted(1, "2024-01-01T00:00:00Z")], acceptedGeneration: 1, acceptedSpec: { mode: "OptIn" } });
    expect(statusUpdate(o, judgePolicy(o, SCRIPTS), NOW)).toEqual({ conditions: [accepted(2, "2024-01-01T00:00:00Z")], acceptedGeneration: 2, acceptedSpec: VALID });
  });

  it("a flip to invalid: new lastTransitionTime, the accepted spec kept, other conditions and fields untouched", () => {
    const other = { type: "Reviewed", status: "True", reason: "Human", message: "ok", lastTransitionTime: "2023-05-05T00:00:00Z" } as const;
    const o = obj(INVALID, 2, { conditions: [other, accepted(1, "2024-01-01T00:00:00Z")], acceptedGeneration: 1, acceptedSpec: VALID, note: "kept" });
    expect(statusUpdate(o, judgePolicy(o, SCRIPTS), NOW)).toEqual({
      conditions: [other, { type: "Accepted", status: "False", reason: "Invalid", message: INVALID_MESSAGE, observedGeneration: 2, lastTransitionTime: "2025-03-01T10:00:00Z" }],
      acceptedGeneration: 1,
      acceptedSpec: VALID,
      note: "kept",
    });
  });

  it("still invalid with another message: the message changes, lastTransitionTime does not", () => {
    const before = { type: "Accepted", status: "False", reason: "Invalid", message: "old problem", observedGeneration: 2, lastTransitionTime: "2024-02-02T00:00:00Z" } as const;
    const o = obj(INVALID, 3, { conditions: [before] });
    expect(statusUpdate(o, judgePolicy(o, SCRIPTS), NOW)?.conditions).toEqual([{ ...before, message: INVALID_MESSAGE, observedGeneration: 3 }]);
  });
});
