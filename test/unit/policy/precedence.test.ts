// Precedence and selection, exhaustively. Every combination of the decision
// inputs (target container, namespace, hostNetwork, governing policy, pod
// annotation, namespace label, allowPodOptIn match, Pod Security level) is
// checked against a model written straight from DESIGN.md's ordered rule
// list; and policy selection (highest priority whose selectors match, ties by
// name) is checked against a brute-force search over random policy sets.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decide, type Reason } from "../../../src/admission/decision.js";
import { selectorMatches } from "../../../src/policy/selector.js";
import { buildSnapshot, comparePolicies, governingPolicy, namespaceLabels } from "../../../src/policy/snapshot.js";
import type { HookpointPolicy, LabelSelector, PolicyMode } from "../../../src/policy/types.js";
import { buildPod, cases, DECIDED_BY, model, nsLabelsOf, VARIANTS, type Case, type Outcome, type PolicyVariant } from "../../support/decision-table.js";
import { policy, settings, snapshot } from "../../support/pods.js";

function actual(c: Case, v: PolicyVariant): Outcome {
  const snap = snapshot({ [c.namespace]: nsLabelsOf(c) }, v.policies);
  const pod = buildPod(c);
  const nsLabels = namespaceLabels(snap, c.namespace);
  const d = decide({ pod, namespace: c.namespace, nsLabels, policy: governingPolicy(snap, nsLabels, pod.metadata?.labels ?? {}), defaultPodSecurity: c.clusterPsa });
  expect(d.warnings.every((w) => w.startsWith("hookpoint: "))).toBe(true);
  return { inject: d.inject, decidedBy: d.decidedBy, reason: d.reason, policy: d.policy, warnings: d.warnings.length };
}

describe("the decision rules, every combination", () => {
  for (const v of VARIANTS) {
    it(`${v.label}: 12,800 combinations agree with DESIGN.md's rule order`, () => {
      let count = 0;
      const mismatches: string[] = [];
      for (const c of cases()) {
        count += 1;
        const want = model(c, v);
        const got = actual(c, v);
        if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push(`${JSON.stringify(c)}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
      }
      expect(count).toBe(12_800);
      expect(mismatches.slice(0, 5)).toEqual([]);
    });
  }

  it("the model reaches every reason but --force", () => {
    const reasons = new Set<Reason>();
    for (const v of VARIANTS) for (const c of cases()) reasons.add(model(c, v).reason);
    // --force is the CLI's; invalid resources and agent settings come after the decision (test/unit/admission/resources.test.ts, agent-settings.test.ts).
    expect([...reasons].sort()).toEqual(Object.keys(DECIDED_BY).filter((r) => r !== "forced" && r !== "invalid-resources" && r !== "invalid-agent-settings").sort());
  });
});

// --- policy selection ---------------------------------------------------------

const SELECTORS: (LabelSelector | undefined)[] = [
  undefined,
  {},
  { matchLabels: { team: "perf" } },
  { matchLabels: { team: "web", env: "prod" } },
  { matchExpressions: [{ key: "env", operator: "In", values: ["prod", "staging"] }] },
  { matchExpressions: [{ key: "env", operator: "DoesNotExist" }] },
  { matchExpressions: [{ key: "team", operator: "NotIn", values: ["perf"] }] },
  { matchExpressions: [{ key: "team", operator: "Exists" }] },
];
const POD_SELECTORS: (LabelSelector | undefined)[] = [undefined, {}, { matchLabels: { app: "reviews" } }, { matchExpressions: [{ key: "app", operator: "NotIn", values: ["reviews"] }] }];
const NAMES = ["a", "b", "aa", "b-1", "z", "m.x", "a0"];

const arbPolicy = fc.record({
  name: fc.constantFrom(...NAMES),
  priority: fc.option(fc.constantFrom(-5, -1, 0, 1, 7, 1000), { nil: undefined }),
  ns: fc.nat({ max: SELECTORS.length - 1 }),
  pod: fc.nat({ max: POD_SELECTORS.length - 1 }),
  mode: fc.constantFrom<PolicyMode>("Disabled", "OptIn", "Enabled"),
});
const arbPolicies = fc.uniqueArray(arbPolicy, { selector: (p) => p.name, maxLength: NAMES.length }).map((ps) =>
  ps.map((p) => {
    const spec: HookpointPolicy["spec"] = { mode: p.mode };
    if (p.priority !== undefined) spec.priority = p.priority;
    const ns = SELECTORS[p.ns];
    const pod = POD_SELECTORS[p.pod];
    if (ns) spec.namespaceSelector = ns;
    if (pod) spec.podSelector = pod;
    return policy(p.name, spec);
  }),
);
const arbLabels = (key: string, values: string[]) => fc.option(fc.constantFrom(...values), { nil: undefined }).map((v): Record<string, string> => (v === undefined ? {} : { [key]: v }));
const arbNsLabels = fc.tuple(arbLabels("team", ["perf", "web"]), arbLabels("env", ["prod", "dev", "staging"])).map(([a, b]) => ({ ...a, ...b }));
const arbPodLabels = arbLabels("app", ["reviews", "ratings"]);

/** Brute force: of the policies whose selectors match, the highest priority; ties go to the name that sorts first. */
function bruteForce(policies: HookpointPolicy[], nsLabels: Record<string, string>, podLabels: Record<string, string>): string | null {
  let best: HookpointPolicy | undefined;
  for (const p of policies) {
    const nsOk = p.spec.namespaceSelector === undefined || selectorMatches(p.spec.namespaceSelector, nsLabels);
    const podOk = p.spec.podSelector === undefined || selectorMatches(p.spec.podSelector, podLabels);
    if (!nsOk || !podOk) continue;
    const pr = p.spec.priority ?? 0;
    const bp = best?.spec.priority ?? 0;
    if (!best || pr > bp || (pr === bp && p.metadata.name < best.metadata.name)) best = p;
  }
  return best ? best.metadata.name : null;
}

describe("which policy governs", () => {
  it("is the highest-priority matching policy, ties by name, for any set of policies and labels", () => {
    fc.assert(
      fc.property(arbPolicies, arbNsLabels, arbPodLabels, (policies, nsLabels, podLabels) => {
        const snap = buildSnapshot([{ name: "ns", labels: nsLabels }], policies, settings);
        const governing = governingPolicy(snap, namespaceLabels(snap, "ns"), podLabels);
        expect(governing.name).toBe(bruteForce(policies, { ...nsLabels, "kubernetes.io/metadata.name": "ns" }, podLabels));
      }),
      { numRuns: 3_000, seed: 20_250_301 },
    );
  });

  it("does not depend on the order policies arrive in", () => {
    fc.assert(
      fc.property(arbPolicies.chain((ps) => fc.tuple(fc.constant(ps), fc.shuffledSubarray(ps, { minLength: ps.length, maxLength: ps.length }))), arbNsLabels, arbPodLabels, ([ps, shuffled], ns, pod) => {
        const a = buildSnapshot([{ name: "ns", labels: ns }], ps, settings);
        const b = buildSnapshot([{ name: "ns", labels: ns }], shuffled, settings);
        expect(governingPolicy(b, namespaceLabels(b, "ns"), pod).name).toBe(governingPolicy(a, namespaceLabels(a, "ns"), pod).name);
        expect(b.policies.map((p) => p.policy.metadata.name)).toEqual(a.policies.map((p) => p.policy.metadata.name));
      }),
      { numRuns: 1_000, seed: 7 },
    );
  });

  it.each([
    ["priority beats name", [policy("a", { priority: 1 }), policy("b", { priority: 2 })], "b"],
    ["equal priority: name order", [policy("b", { priority: 3 }), policy("a", { priority: 3 })], "a"],
    ["absent priority is 0", [policy("b", {}), policy("a", { priority: 0 })], "a"],
    ["negative priority loses to the default 0", [policy("a", { priority: -1 }), policy("b", {})], "b"],
    ["name order is by code unit: upper case sorts first", [policy("b", {}), policy("B", {})], "B"],
    ["a better policy whose podSelector does not match is passed over", [policy("high", { priority: 9, podSelector: { matchLabels: { app: "ratings" } } }), policy("low", {})], "low"],
    ["an empty selector matches everything", [policy("any", { namespaceSelector: {}, podSelector: {} })], "any"],
    ["nothing matches: the built-in defaults", [policy("prod", { namespaceSelector: { matchLabels: { env: "prod" } } })], null],
  ])("%s", (_what, policies, want) => {
    const snap = snapshot({ web: { team: "perf" } }, policies);
    expect(governingPolicy(snap, namespaceLabels(snap, "web"), { app: "reviews" }).name).toBe(want);
  });

  it("orders policies totally: comparePolicies is antisymmetric and transitive on the snapshot order", () => {
    fc.assert(
      fc.property(arbPolicies, (ps) => {
        const sorted = buildSnapshot([], ps, settings).policies.map((p) => p.policy);
        for (let i = 1; i < sorted.length; i++) {
          expect(comparePolicies(sorted[i - 1]!, sorted[i]!)).toBeLessThan(0);
          expect(comparePolicies(sorted[i]!, sorted[i - 1]!)).toBeGreaterThan(0);
        }
      }),
      { numRuns: 500, seed: 3 },
    );
  });

  it("every namespace carries kubernetes.io/metadata.name, known to the snapshot or not", () => {
    const snap = snapshot({ web: { team: "perf" } });
    expect(namespaceLabels(snap, "web")).toEqual({ team: "perf", "kubernetes.io/metadata.name": "web" });
    expect(namespaceLabels(snap, "fresh")).toEqual({ "kubernetes.io/metadata.name": "fresh" });
  });
});
