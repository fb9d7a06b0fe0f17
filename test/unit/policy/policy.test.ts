import { describe, expect, it } from "vitest";
import { imageAllowed, imagePatternProblem } from "../../../src/policy/images.js";
import { selectorMatches } from "../../../src/policy/selector.js";
import { semanticProblems, structuralProblems } from "../../../src/policy/validate.js";
import { parseNamespaces, parsePolicies } from "../../../src/policy/files.js";
import { InputError } from "../../../src/input-error.js";
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

describe("Namespace files", () => {
  it("refuse a Namespace named twice, naming the file, the document and the field, as a policy named twice is", () => {
    const ns = (name: string, value: string) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}, labels: {hookpoint.dev/inject: ${value}}}\n`;
    expect(() => parseNamespaces([ns("web", "enabled"), ns("perf", "enabled"), ns("web", "disabled")].join("---\n"), "namespaces.yaml")).toThrow(
      new InputError("namespaces.yaml", 'duplicate Namespace "web"', 2, "metadata.name"),
    );
    expect(() => parseNamespaces("apiVersion: v1\nkind: List\nitems:\n- {kind: Namespace, metadata: {name: web}}\n- {kind: Namespace, metadata: {name: web}}\n", "ns.yaml")).toThrow(/^ns\.yaml: document 1: items\[1\]\.metadata\.name: duplicate Namespace "web"$/);
    expect(parseNamespaces([ns("web", "enabled"), ns("perf", "disabled")].join("---\n"), "namespaces.yaml")).toEqual([
      { name: "web", labels: { "hookpoint.dev/inject": "enabled" } },
      { name: "perf", labels: { "hookpoint.dev/inject": "disabled" } },
    ]);
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
      { path: "spec.profiles.x.color", message: "unknown field (known: image, scripts, env, resources, privileged, capabilities, kernels, agent)" },
      { path: "spec.profiles.x.image", message: "must be a non-empty string" },
      { path: "spec.profiles.x.privileged", message: "must be true or false" },
    ]);
  });
  it("a profile image no runtime could pull (upper case in its path) is refused, as --image refuses it and `hookpoint check` fails it", () => {
    const doc = (image: string) => ({ apiVersion: "hookpoint.dev/v1alpha1", kind: "HookpointPolicy", metadata: { name: "p" }, spec: { profiles: { x: { image } } } });
    expect(structuralProblems(doc("registry.example.com/Hookpoint/proxy:1"))).toEqual([
      { path: "spec.profiles.x.image", message: 'must be an image reference such as registry.example.com/hookpoint/proxy-istio:TAG, got "registry.example.com/Hookpoint/proxy:1"' },
    ]);
    for (const good of ["registry.example.com:5000/hookpoint/proxy-istio:0.1.0-istio1.28.0", "proxy@sha256:" + "a".repeat(64), "Registry.Example.com/proxy:v1"]) expect(structuralProblems(doc(good))).toEqual([]);
  });
  it("a profile resource no container may have (a bare gpu) is refused: the API server would refuse every injected pod", () => {
    const doc = (limits: Record<string, string>) => ({ apiVersion: "hookpoint.dev/v1alpha1", kind: "HookpointPolicy", metadata: { name: "p" }, spec: { profiles: { x: { resources: { limits } } } } });
    expect(structuralProblems(doc({ gpu: "1", cpu: "1" }))).toEqual([
      { path: "spec.profiles.x.resources.limits.gpu", message: "is not a resource a container can have: the API server refuses all but cpu, memory, ephemeral-storage, hugepages-<size> and extended resources with a domain, such as example.com/gpu" },
    ]);
    expect(structuralProblems(doc({ cpu: "1", memory: "1Gi", "ephemeral-storage": "1Gi", "hugepages-2Mi": "2Mi", "example.com/gpu": "1" }))).toEqual([]);
  });
  it("structure: env values and resource quantities must be strings, as the CRD types them (YAML reads 5 and 1 as numbers), and an image has no white space", () => {
    const doc = {
      apiVersion: "hookpoint.dev/v1alpha1",
      kind: "HookpointPolicy",
      metadata: { name: "p" },
      spec: {
        profiles: {
          x: {
            env: [{ name: "HOOKPOINT_TRACE_SAMPLE", value: 5 }, { name: "A", valueFrom: "secret" }, { name: "B", vaule: "1" }, "C=1"],
            resources: { limits: { cpu: 1, memory: "1Gi" }, requests: "1", claims: [] },
          },
          y: { image: "registry.example.com/proxy:1 " },
        },
      },
    };
    expect(structuralProblems(doc)).toEqual([
      { path: "spec.profiles.x.env[0].value", message: "must be a string (quote it), got 5" },
      { path: "spec.profiles.x.env[1].valueFrom", message: "must be an object (a core/v1 EnvVarSource)" },
      { path: "spec.profiles.x.env[2].vaule", message: "unknown field (known: name, value, valueFrom)" },
      { path: "spec.profiles.x.env[3]", message: "must be an object with a name" },
      { path: "spec.profiles.x.resources.claims", message: "unknown field (known: limits, requests)" },
      { path: "spec.profiles.x.resources.limits.cpu", message: 'must be a quantity string like "500m" or "1" (quote it), got 1' },
      { path: "spec.profiles.x.resources.requests", message: "must be a map of resource name to quantity" },
      { path: "spec.profiles.y.image", message: 'must be an image reference without white space, got "registry.example.com/proxy:1 "' },
    ]);
  });
  it("a policy file with a number for a quantity is refused naming the field, not a crash", () => {
    const text = "apiVersion: hookpoint.dev/v1alpha1\nkind: HookpointPolicy\nmetadata: {name: perf}\nspec:\n  profiles:\n    deep: {resources: {limits: {cpu: 1}}}\n";
    expect(() => parsePolicies(text, "policy.yaml")).toThrow(new InputError("policy.yaml", 'must be a quantity string like "500m" or "1" (quote it), got 1', 0, "spec.profiles.deep.resources.limits.cpu"));
    expect(() => parsePolicies(text, "policy.yaml")).toThrow('policy.yaml: document 1: spec.profiles.deep.resources.limits.cpu: must be a quantity string like "500m" or "1" (quote it), got 1');
  });
  it("semantics: env vars the API server would refuse in every injected pod (its ValidateEnv), named by path", () => {
    const p = policy("env", {
      profiles: {
        x: {
          env: [
            { name: "A=B", value: "1" },
            { name: "POD", valueFrom: {} },
            { name: "NODE", value: "n", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
            { name: "TWO", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" }, secretKeyRef: { name: "s", key: "k" } } },
            { name: "OK", value: "", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            { name: "my var.1", value: "relaxed names are fine" },
          ],
        },
      },
    });
    expect(semanticProblems(p, SCRIPTS)).toEqual([
      { path: "spec.profiles.x.env[0].name", message: '"A=B" is not an environment variable name: printable ASCII characters other than "=" only' },
      { path: "spec.profiles.x.env[1].valueFrom", message: "must specify one of: fieldRef, resourceFieldRef, configMapKeyRef or secretKeyRef" },
      { path: "spec.profiles.x.env[2].valueFrom", message: "may not be specified when value is not empty" },
      { path: "spec.profiles.x.env[3].valueFrom", message: "may not have more than one field specified at a time (has fieldRef, secretKeyRef)" },
    ]);
  });
  it("semantics: a fileKeyRef is refused, named at its entry: without the EnvFiles gate (off by default) the API server refuses every injected pod", () => {
    const fileKeyRef = { volumeName: "hookpoint-tmp", path: "vars.env", key: "A", optional: true };
    const p = policy("files", {
      profiles: {
        x: { env: [{ name: "OK", value: "1" }, { name: "FROM_FILE", valueFrom: { fileKeyRef } }] },
        y: { env: [{ name: "BOTH", valueFrom: { fieldRef: { fieldPath: "metadata.name" }, fileKeyRef } }] },
      },
    });
    const why = "needs the EnvFiles feature gate (alpha in Kubernetes 1.34, off by default), which the webhook cannot check: an API server without it drops fileKeyRef and refuses every pod the profile injects, as its valueFrom is left with no source";
    expect(semanticProblems(p, SCRIPTS)).toEqual([
      { path: "spec.profiles.y.env[0].valueFrom", message: "may not have more than one field specified at a time (has fieldRef, fileKeyRef)" },
      { path: "spec.profiles.x.env[1].valueFrom.fileKeyRef", message: why },
      { path: "spec.profiles.y.env[0].valueFrom.fileKeyRef", message: why },
    ]);
    // A kill switch injects nothing: its env reaches no pod, and refusing it would let other rules inject its pods.
    expect(semanticProblems({ ...p, spec: { ...p.spec, mode: "Disabled" } }, SCRIPTS)).toEqual([]);
    const text = "apiVersion: hookpoint.dev/v1alpha1\nkind: HookpointPolicy\nmetadata: {name: files}\nspec:\n  profiles:\n    deep:\n      env: [{name: FROM_FILE, valueFrom: {fileKeyRef: {volumeName: hookpoint-tmp, path: vars.env, key: A}}}]\n";
    expect(() => parsePolicies(text, "policy.yaml")).toThrow(`policy.yaml: document 1: spec.profiles.deep.env[0].valueFrom.fileKeyRef: ${why}`);
  });
  it("semantics: of an env name given twice only the last entry reaches the pod, so only it is judged", () => {
    const fileKeyRef = { volumeName: "hookpoint-tmp", path: "vars.env", key: "A" };
    const p = policy("twice", {
      profiles: {
        x: {
          env: [
            { name: "A", valueFrom: { fileKeyRef } },
            { name: "A", value: "1" },
            { name: "B", valueFrom: {} },
            { name: "B", value: "2" },
            { name: "C", value: "3" },
            { name: "C", valueFrom: { fileKeyRef } },
          ],
        },
      },
    });
    expect(semanticProblems(p, SCRIPTS)).toEqual([
      {
        path: "spec.profiles.x.env[5].valueFrom.fileKeyRef",
        message: "needs the EnvFiles feature gate (alpha in Kubernetes 1.34, off by default), which the webhook cannot check: an API server without it drops fileKeyRef and refuses every pod the profile injects, as its valueFrom is left with no source",
      },
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

  it("semantics: a script named twice in a profile is no problem (the CRD accepts it; a policy in force must stay so)", () => {
    const p = policy("twice", { profiles: { deep: { scripts: ["envoy-socket-io", "hookpoint-pairs", "envoy-socket-io"] } } });
    expect(semanticProblems(p, SCRIPTS)).toEqual([]);
  });

  describe("least-privilege profiles against their kernels", () => {
    const lp = (capabilities: string[] | undefined, kernels?: { min?: string; max?: string }) =>
      semanticProblems(policy("lp", { profiles: { lean: { privileged: false, ...(capabilities ? { capabilities } : {}), ...(kernels ? { kernels } : {}) } } }), SCRIPTS);
    const BASE = ["SETUID", "SETGID", "KILL", "SYS_PTRACE"];
    const FIX = "5.10.240+, 5.15.189+, 6.1.146+, 6.6.99+, 6.12.39+ and 6.16+";
    it("accepts the default set, and BPF+PERFMON where no kernel of the range needs SYS_ADMIN", () => {
      expect(lp(undefined)).toEqual([]);
      expect(lp([...BASE, "BPF", "PERFMON"], { min: "6.1", max: "6.1.145" })).toEqual([]);
      expect(lp([...BASE, "BPF", "PERFMON"], { min: "6.13", max: "6.15.11" })).toEqual([]);
    });
    it("refuses BPF+PERFMON where a kernel of the range carries the CVE-2025-38466 fix or predates 5.8, with the reason", () => {
      expect(lp([...BASE, "BPF", "PERFMON"])).toEqual([
        { path: "spec.profiles.lean.capabilities", message: `cannot trace on kernels 5.11.0 to any: add SYS_ADMIN (uprobes need it on kernels with the CVE-2025-38466 fix, ${FIX}, and before 5.8; declare a kernel range without them to use BPF and PERFMON instead)` },
      ]);
      expect(lp([...BASE, "BPF", "PERFMON"], { min: "5.11", max: "6.1.146" })[0]?.message).toMatch(/^cannot trace on kernels 5\.11\.0 to 6\.1\.146: add SYS_ADMIN /);
      expect(lp([...BASE, "BPF", "PERFMON", "SYS_RESOURCE"], { min: "5.4", max: "5.9" })[0]?.message).toMatch(/^cannot trace on kernels 5\.4\.0 to 5\.9\.0: add SYS_ADMIN /);
      // Before 5.11 bpftrace raises RLIMIT_MEMLOCK for its maps.
      expect(lp(undefined, { min: "5.10" })).toEqual([
        { path: "spec.profiles.lean.capabilities", message: "cannot trace on kernels 5.10.0 to any: add SYS_RESOURCE (to raise RLIMIT_MEMLOCK for BPF maps (kernels before 5.11); declare kernels from 5.11 to leave it out)" },
      ]);
    });
    it("names each capability the proxy and Envoy's binary need", () => {
      expect(lp(["SETUID", "SETGID", "SYS_ADMIN"], { min: "6.1" })).toEqual([
        { path: "spec.profiles.lean.capabilities", message: "cannot trace on kernels 6.1.0 to any: add KILL (to forward SIGTERM and other signals to the proxy, which runs as another uid), SYS_PTRACE (to read /proc/<pid>/exe and maps of Envoy, which runs as another uid)" },
      ]);
      expect(lp([...BASE, "BPF"], { min: "6.2", max: "6.5" })[0]?.message).toBe("cannot trace on kernels 6.2.0 to 6.5.0: add PERFMON (without SYS_ADMIN, uprobes need BPF and PERFMON)");
    });
    it("refuses a range whose min is above its max, and malformed versions", () => {
      expect(lp(undefined, { min: "6.6", max: "6.1" })).toEqual([{ path: "spec.profiles.lean.kernels", message: "min 6.6 is above max 6.1" }]);
      const bad = structuralProblems({ apiVersion: "hookpoint.dev/v1alpha1", kind: "HookpointPolicy", metadata: { name: "x" }, spec: { profiles: { p: { kernels: { min: "six", lts: "6.1" } } } } });
      expect(bad).toEqual([
        { path: "spec.profiles.p.kernels.lts", message: "unknown field (known: min, max)" },
        { path: "spec.profiles.p.kernels.min", message: 'must be a kernel version like "6.1" or "6.1.146", got "six"' },
      ]);
    });
    it("leaves privileged profiles and profiles without the agent alone", () => {
      expect(semanticProblems(policy("p", { profiles: { a: { capabilities: ["BPF"] }, b: { privileged: false, agent: false, capabilities: [] } } }), SCRIPTS)).toEqual([]);
    });
  });

  it("semantics: resources the API server would refuse (a quantity it cannot read, a negative one, requests above limits)", () => {
    const p = policy("res", {
      profiles: {
        a: { resources: { limits: { cpu: "1e3m" }, requests: { memory: "-1Gi" } } },
        b: { resources: { limits: { cpu: "500m", "hugepages-2Mi": "4Mi" }, requests: { cpu: "0.75", "hugepages-2Mi": "2Mi", memory: "1Gi" } } },
        c: { resources: { limits: { cpu: "1" }, requests: { cpu: "1000m" } } },
      },
    });
    expect(semanticProblems(p, SCRIPTS)).toEqual([
      { path: "spec.profiles.a.resources.limits.cpu", message: `"1e3m" is not a quantity: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'` },
      { path: "spec.profiles.a.resources.requests.memory", message: '"-1Gi" is negative' },
      { path: "spec.profiles.b.resources.requests.cpu", message: "requests.cpu 0.75 exceeds limits.cpu 500m" },
      { path: "spec.profiles.b.resources.requests.hugepages-2Mi", message: "requests.hugepages-2Mi 2Mi must equal limits.hugepages-2Mi 4Mi (hugepages-2Mi cannot be overcommitted)" },
    ]);
  });
});
