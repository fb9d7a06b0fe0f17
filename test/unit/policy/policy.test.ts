import { describe, expect, it } from "vitest";
import { imageAllowed, imagePatternProblem } from "../../../src/policy/images.js";
import { selectorMatches } from "../../../src/policy/selector.js";
import { semanticProblems, structuralProblems } from "../../../src/policy/validate.js";
import { policy, SCRIPTS } from "../../support/pods.js";

describe("label selectors", () => {
  const labels = { team: "perf", env: "dev" };
  it.each([
    [{}, true],
    [{ matchLabels: { team: "perf" } }, true],
    [{ matchLabels: { team: "web" } }, false],
    [{ matchExpressions: [{ key: "env", operator: "In" as const, values: ["dev", "qa"] }] }, true],
    [{ matchExpressions: [{ key: "env", operator: "NotIn" as const, values: ["dev"] }] }, false],
    [{ matchExpressions: [{ key: "tier", operator: "NotIn" as const, values: ["db"] }] }, true],
    [{ matchExpressions: [{ key: "team", operator: "Exists" as const }] }, true],
    [{ matchExpressions: [{ key: "team", operator: "DoesNotExist" as const }] }, false],
    [{ matchLabels: { team: "perf" }, matchExpressions: [{ key: "env", operator: "In" as const, values: ["prod"] }] }, false],
  ])("%j → %s", (sel, expected) => {
    expect(selectorMatches(sel, labels)).toBe(expected);
  });
});

describe("allowedImages patterns", () => {
  it.each([
    ["registry.example.com/tracing/proxy:1.24", ["registry.example.com/tracing/*"], true],
    ["registry.example.com/tracing/proxy:1.24", ["registry.example.com/other/*"], false],
    ["registry.example.com/tracing/proxy:1.24", ["*"], true],
    ["docker.io/istio/proxyv2:1.24.2", ["docker.io/istio/proxyv2:1.24.2"], true],
    ["docker.io/istio/proxyv2:1.24.20", ["docker.io/istio/proxyv2:1.24.2"], false],
    ["registryXexample.com/a", ["registry.example.com/*"], false],
  ])("%s with %j → %s", (image, patterns, expected) => {
    expect(imageAllowed(image, patterns)).toBe(expected);
  });
  it("names patterns that can never match", () => {
    expect(imagePatternProblem("registry.example.com/Tracing/*")).toBe("has upper-case letters in the repository path, which no image reference has");
    expect(imagePatternProblem("a b")).toBe("contains white space, which no image reference has");
    expect(imagePatternProblem("")).toBe("is empty");
    expect(imagePatternProblem("registry.example.com//x")).toBe("has an empty path component");
    expect(imagePatternProblem("registry.example.com/x:V1-*")).toBeUndefined();
  });
});

describe("policy validation", () => {
  it("structure: unknown fields, enums and types are named by path", () => {
    const doc = {
      apiVersion: "hookpoint.dev/v1alpha1",
      kind: "HookpointPolicy",
      metadata: { name: "p" },
      spec: { mode: "On", priorty: 3, targetContainers: ["Istio_Proxy"], namespaceSelector: { matchExpressions: [{ key: "a", operator: "Has" }] }, profiles: { x: { image: "", privileged: "yes", color: 1 } } },
    };
    expect(structuralProblems(doc)).toEqual([
      { path: "spec.priorty", message: "unknown field (known: mode, priority, namespaceSelector, podSelector, excludedNamespaces, allowPodOptIn, targetContainers, allowedImages, defaultProfile, profiles)" },
      { path: "spec.mode", message: 'must be one of Disabled, OptIn, Enabled, got "On"' },
      { path: "spec.namespaceSelector.matchExpressions[0].operator", message: 'must be one of In, NotIn, Exists, DoesNotExist, got "Has"' },
      { path: "spec.targetContainers[0]", message: 'must be a container name (DNS-1123 label), got "Istio_Proxy"' },
      { path: "spec.profiles.x.color", message: "unknown field (known: image, scripts, env, resources, privileged, capabilities, agent)" },
      { path: "spec.profiles.x.image", message: "must be a non-empty string" },
      { path: "spec.profiles.x.privileged", message: "must be true or false" },
    ]);
  });
  it("a valid policy has no problems", () => {
    const p = policy("ok", { mode: "Enabled", priority: 10, defaultProfile: "deep", profiles: { deep: { scripts: ["envoy-socket-io"] } }, allowedImages: ["registry.example.com/*"] });
    expect(structuralProblems(p)).toEqual([]);
    expect(semanticProblems(p, SCRIPTS)).toEqual([]);
  });
  it("semantics: a defaultProfile naming no profile, a pattern that cannot match, an unknown script", () => {
    const p = policy("bad", { defaultProfile: "fast", profiles: { slow: { scripts: ["envoy-tcp"] } }, allowedImages: ["Registry.example.com/X/*"] });
    expect(semanticProblems(p, SCRIPTS)).toEqual([
      { path: "spec.defaultProfile", message: 'names profile "fast", which is not defined (profiles: slow)' },
      { path: "spec.allowedImages[0]", message: 'pattern "Registry.example.com/X/*" can never match: it has upper-case letters in the repository path, which no image reference has' },
      { path: "spec.profiles.slow.scripts[0]", message: 'unknown script "envoy-tcp"; available: envoy-event-loop, envoy-filter-chain, envoy-request-flow, envoy-socket-io, hookpoint-pairs' },
    ]);
  });
});
