// The decision table of DESIGN.md: one test per rule and per precedence conflict.
import { describe, expect, it } from "vitest";
import type { Pod } from "../../../src/admission/pod.js";
import { reviewPod } from "../../../src/admission/review.js";
import type { HookpointPolicy } from "../../../src/policy/types.js";
import { policy, settings, snapshot } from "../../support/pods.js";

function pod(opts: { annotations?: Record<string, string>; labels?: Record<string, string>; hostNetwork?: boolean; proxy?: string | null; init?: boolean } = {}): Pod {
  const proxy = opts.proxy === undefined ? "istio-proxy" : opts.proxy;
  const containers = [{ name: "app", image: "app:1" }];
  const p: Pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers } };
  if (proxy && !opts.init) containers.push({ name: proxy, image: "docker.io/istio/proxyv2:1.24.2" });
  if (proxy && opts.init) p.spec.initContainers = [{ name: proxy, image: "docker.io/istio/proxyv2:1.28.0", restartPolicy: "Always" }];
  if (opts.annotations) p.metadata!.annotations = opts.annotations;
  if (opts.labels) p.metadata!.labels = opts.labels;
  if (opts.hostNetwork) p.spec.hostNetwork = true;
  return p;
}

const OPT_IN = { "hookpoint.dev/inject": "true" };
const OPT_OUT = { "hookpoint.dev/inject": "false" };
const NS_ON = { "hookpoint.dev/inject": "enabled" };
const NS_OFF = { "hookpoint.dev/inject": "disabled" };

function decide(p: Pod, ns: string, nsLabels: Record<string, string>, policies: HookpointPolicy[] = []) {
  const r = reviewPod(p, ns, snapshot({ [ns]: nsLabels }, policies), settings);
  return { inject: r.decision.inject, decidedBy: r.decision.decidedBy, reason: r.decision.reason, policy: r.decision.policy, warnings: r.warnings, denied: r.denied, patched: r.patch.length > 0 };
}

describe("rule 1: a target container must exist", () => {
  it("skips a pod without istio-proxy, whatever opted in", () => {
    expect(decide(pod({ proxy: null, annotations: OPT_IN }), "web", NS_ON)).toMatchObject({ inject: false, decidedBy: "target-container", reason: "no-target-container" });
  });
  it("finds istio-proxy in initContainers (native sidecar)", () => {
    expect(decide(pod({ init: true }), "web", NS_ON)).toMatchObject({ inject: true, decidedBy: "namespace-label", reason: "namespace-enabled" });
  });
  it("a policy's targetContainers adds cilium-envoy", () => {
    const pol = policy("cilium", { targetContainers: ["istio-proxy", "cilium-envoy"] });
    expect(decide(pod({ proxy: "cilium-envoy" }), "web", NS_ON, [pol])).toMatchObject({ inject: true, policy: "cilium" });
    expect(decide(pod({ proxy: "cilium-envoy" }), "web", NS_ON)).toMatchObject({ inject: false, reason: "no-target-container" });
  });
});

describe("rule 2: exclusions", () => {
  for (const ns of ["kube-system", "kube-public", "kube-node-lease", "hookpoint-system"]) {
    it(`never injects in ${ns}, even labelled enabled`, () => {
      expect(decide(pod({ annotations: OPT_IN }), ns, NS_ON)).toMatchObject({ inject: false, decidedBy: "excluded-namespace", reason: "namespace-excluded" });
    });
  }
  it("says why: the webhook's own namespace is named as such, the others as the policy's exclusion", () => {
    const message = (ns: string, policies: HookpointPolicy[] = []) => reviewPod(pod(), ns, snapshot({ [ns]: NS_ON }, policies), settings).decision.message;
    expect(message("hookpoint-system")).toBe("namespace hookpoint-system is the webhook's own namespace, where it never injects");
    expect(message("kube-system")).toBe("namespace kube-system is excluded by the built-in default policy");
    expect(message("payments", [policy("p", { mode: "Enabled", excludedNamespaces: ["payments"] })])).toBe("namespace payments is excluded by HookpointPolicy p");
  });
  it("a policy's excludedNamespaces add to the defaults", () => {
    const pol = policy("p", { mode: "Enabled", excludedNamespaces: ["payments"] });
    expect(decide(pod(), "payments", NS_ON, [pol])).toMatchObject({ inject: false, reason: "namespace-excluded", policy: "p" });
  });
  it("hostNetwork pods are skipped, even opted in", () => {
    expect(decide(pod({ hostNetwork: true }), "web", NS_ON)).toMatchObject({ inject: false, decidedBy: "host-network", reason: "host-network" });
  });
});

describe("rule 3: policy kill switch", () => {
  it("mode Disabled beats a namespace label and a pod opt-in", () => {
    const pol = policy("off", { mode: "Disabled" });
    expect(decide(pod({ annotations: OPT_IN }), "web", NS_ON, [pol])).toMatchObject({ inject: false, decidedBy: "policy", reason: "policy-disabled", policy: "off" });
  });
});

describe("rule 4: pod opt-out", () => {
  it('annotation "false" beats a namespace labelled enabled', () => {
    expect(decide(pod({ annotations: OPT_OUT }), "web", NS_ON)).toMatchObject({ inject: false, decidedBy: "pod-annotation", reason: "pod-opt-out" });
  });
  it('annotation "false" beats a policy in mode Enabled', () => {
    expect(decide(pod({ annotations: OPT_OUT }), "web", {}, [policy("all", { mode: "Enabled" })])).toMatchObject({ inject: false, reason: "pod-opt-out" });
  });
});

describe("rule 5: namespace veto", () => {
  it("label disabled beats a pod opt-in allowed by policy", () => {
    const pol = policy("optin", { allowPodOptIn: {} });
    expect(decide(pod({ annotations: OPT_IN }), "web", NS_OFF, [pol])).toMatchObject({ inject: false, decidedBy: "namespace-label", reason: "namespace-disabled" });
  });
  it("label disabled beats a policy in mode Enabled", () => {
    expect(decide(pod(), "web", NS_OFF, [policy("all", { mode: "Enabled" })])).toMatchObject({ inject: false, reason: "namespace-disabled" });
  });
});

describe("rule 6: pod opt-in only where allowed", () => {
  it("allowed in a namespace labelled enabled", () => {
    expect(decide(pod({ annotations: OPT_IN }), "web", NS_ON)).toMatchObject({ inject: true, decidedBy: "pod-annotation", reason: "pod-opt-in" });
  });
  it("allowed where allowPodOptIn selects the namespace", () => {
    const pol = policy("teams", { allowPodOptIn: { matchLabels: { team: "perf" } } });
    expect(decide(pod({ annotations: OPT_IN }), "web", { team: "perf" }, [pol])).toMatchObject({ inject: true, decidedBy: "pod-annotation", reason: "pod-opt-in", policy: "teams" });
  });
  it("refused with a warning where nothing allows it", () => {
    const d = decide(pod({ annotations: OPT_IN }), "web", { team: "web" }, [policy("teams", { allowPodOptIn: { matchLabels: { team: "perf" } } })]);
    expect(d).toMatchObject({ inject: false, decidedBy: "pod-annotation", reason: "pod-opt-in-not-allowed", patched: false });
    expect(d.warnings).toEqual([
      'hookpoint: annotation hookpoint.dev/inject="true" ignored: namespace web is not labelled hookpoint.dev/inject=enabled and HookpointPolicy teams has no allowPodOptIn selecting it',
    ]);
  });
  it("refused without any policy: a bare annotation never hands out a privileged container", () => {
    expect(decide(pod({ annotations: OPT_IN }), "web", {})).toMatchObject({ inject: false, reason: "pod-opt-in-not-allowed", policy: null });
  });
  it("a refused opt-in still follows a policy that enables the namespace anyway", () => {
    const d = decide(pod({ annotations: OPT_IN }), "web", {}, [policy("all", { mode: "Enabled" })]);
    expect(d).toMatchObject({ inject: true, decidedBy: "policy", reason: "policy-enabled" });
    expect(d.warnings).toHaveLength(1);
  });
});

describe("rule 7: namespace opt-in", () => {
  it("label enabled injects a pod without annotation", () => {
    expect(decide(pod(), "web", NS_ON)).toMatchObject({ inject: true, decidedBy: "namespace-label", reason: "namespace-enabled" });
  });
  it("label enabled wins over a policy in mode OptIn that does not enable", () => {
    expect(decide(pod(), "web", NS_ON, [policy("p", { mode: "OptIn" })])).toMatchObject({ inject: true, decidedBy: "namespace-label", policy: "p" });
  });
});

describe("rule 8: policy mode Enabled", () => {
  it("injects where its selectors match", () => {
    const pol = policy("perf", { mode: "Enabled", namespaceSelector: { matchLabels: { env: "perf" } }, podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["reviews"] }] } });
    expect(decide(pod({ labels: { app: "reviews" } }), "web", { env: "perf" }, [pol])).toMatchObject({ inject: true, decidedBy: "policy", reason: "policy-enabled", policy: "perf" });
    expect(decide(pod({ labels: { app: "ratings" } }), "web", { env: "perf" }, [pol])).toMatchObject({ inject: false, reason: "not-opted-in", policy: null });
    expect(decide(pod({ labels: { app: "reviews" } }), "web", { env: "prod" }, [pol])).toMatchObject({ inject: false, reason: "not-opted-in", policy: null });
  });
});

describe("rule 9: default", () => {
  it("nobody opted in: skip", () => {
    expect(decide(pod(), "web", {})).toMatchObject({ inject: false, decidedBy: "default", reason: "not-opted-in", warnings: [] });
  });
});

describe("precedence between policies", () => {
  it("the highest priority matching policy governs", () => {
    const low = policy("a-low", { mode: "Enabled", priority: 1 });
    const high = policy("z-high", { mode: "Disabled", priority: 10 });
    expect(decide(pod(), "web", NS_ON, [low, high])).toMatchObject({ inject: false, reason: "policy-disabled", policy: "z-high" });
  });
  it("ties are broken by name order", () => {
    const a = policy("a", { mode: "Enabled", priority: 5 });
    const b = policy("b", { mode: "Disabled", priority: 5 });
    expect(decide(pod(), "web", {}, [b, a])).toMatchObject({ inject: true, policy: "a" });
  });
  it("a higher-priority policy whose selector does not match does not govern", () => {
    const high = policy("high", { mode: "Disabled", priority: 100, namespaceSelector: { matchLabels: { env: "prod" } } });
    const low = policy("low", { mode: "Enabled" });
    expect(decide(pod(), "web", { env: "dev" }, [high, low])).toMatchObject({ inject: true, policy: "low" });
  });
  it("namespaceSelector sees kubernetes.io/metadata.name even for an unknown namespace", () => {
    const pol = policy("by-name", { mode: "Enabled", namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "fresh" } } });
    const r = reviewPod(pod(), "fresh", snapshot({}, [pol]), settings);
    expect(r.decision).toMatchObject({ inject: true, policy: "by-name" });
  });
});

describe("after inject: Pod Security and images", () => {
  for (const level of ["baseline", "restricted"]) {
    it(`a namespace enforcing ${level} is skipped with a warning`, () => {
      const d = decide(pod(), "web", { ...NS_ON, "pod-security.kubernetes.io/enforce": level });
      expect(d).toMatchObject({ inject: false, decidedBy: "pod-security", reason: "pod-security-enforced", patched: false });
      expect(d.warnings).toEqual([
        `hookpoint: not injected: namespace web enforces Pod Security "${level}" (label pod-security.kubernetes.io/enforce), which would reject the privileged tracing container; use a namespace with pod-security.kubernetes.io/enforce=privileged`,
      ]);
    });
  }
  it("enforce=privileged is fine", () => {
    expect(decide(pod(), "web", { ...NS_ON, "pod-security.kubernetes.io/enforce": "privileged" })).toMatchObject({ inject: true });
  });
  it("an image annotation not in allowedImages is denied, naming image and policy", () => {
    const pol = policy("imgs", { allowedImages: ["registry.example.com/tracing/*"] });
    const d = decide(pod({ annotations: { "hookpoint.dev/image": "evil.example.com/root:1" } }), "web", NS_ON, [pol]);
    expect(d.denied).toBe('hookpoint: image "evil.example.com/root:1" from annotation hookpoint.dev/image is not allowed by HookpointPolicy imgs: allowedImages is registry.example.com/tracing/*');
    expect(d.patched).toBe(false);
  });
  it("without a policy no image annotation is allowed", () => {
    const d = decide(pod({ annotations: { "hookpoint.dev/image": "registry.example.com/tracing/proxy:1" } }), "web", NS_ON);
    expect(d.denied).toBe('hookpoint: image "registry.example.com/tracing/proxy:1" from annotation hookpoint.dev/image is not allowed by the built-in default policy: it allows no image by annotation (allowedImages is empty)');
  });
  it("an allowed image annotation sets the image", () => {
    const pol = policy("imgs", { allowedImages: ["registry.example.com/tracing/*"] });
    const r = reviewPod(pod({ annotations: { "hookpoint.dev/image": "registry.example.com/tracing/proxy:1" } }), "web", snapshot({ web: NS_ON }, [pol]), settings);
    expect(r.patch).toContainEqual({ op: "replace", path: "/spec/containers/1/image", value: "registry.example.com/tracing/proxy:1" });
  });
});

describe("values that are neither on nor off", () => {
  it("are warned about and ignored", () => {
    const d = decide(pod({ annotations: { "hookpoint.dev/inject": "yes" } }), "web", { "hookpoint.dev/inject": "on" });
    expect(d).toMatchObject({ inject: false, reason: "not-opted-in" });
    expect(d.warnings).toEqual([
      'hookpoint: pod annotation hookpoint.dev/inject has value "yes", expected "true" or "false"; ignored',
      'hookpoint: namespace web label hookpoint.dev/inject has value "on", expected "enabled" or "disabled"; ignored',
    ]);
  });
});

describe("--force", () => {
  it("injects without opt-in but keeps exclusions", () => {
    const s = snapshot({ web: {} });
    expect(reviewPod(pod(), "web", s, settings, { force: true }).decision).toMatchObject({ inject: true, decidedBy: "force", reason: "forced" });
    expect(reviewPod(pod(), "kube-system", s, settings, { force: true }).decision).toMatchObject({ inject: false, reason: "namespace-excluded" });
  });
});
