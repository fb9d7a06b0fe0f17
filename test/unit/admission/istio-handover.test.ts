// A template without istio-proxy, reviewed as Istio's injector hands its pods over
// (explain and enable --workload): with Istio's proxy where Istio adds one, else why not.
import { describe, expect, it } from "vitest";
import { reviewHandedOver } from "../../../src/admission/istio-handover.js";
import { withIstioProxy } from "../../../src/admission/istio.js";
import type { Pod } from "../../../src/admission/pod.js";
import { policy, settings, snapshot } from "../../support/pods.js";

const template = (over: { labels?: Record<string, string>; annotations?: Record<string, string>; proxy?: boolean } = {}): Pod => ({
  metadata: { labels: over.labels ?? { app: "web" }, ...(over.annotations ? { annotations: over.annotations } : {}) },
  spec: { containers: [{ name: "app", image: "app:1" }, ...(over.proxy ? [{ name: "istio-proxy", image: "docker.io/istio/proxyv2:1.28.0" }] : [])] },
});
const MESH = { "istio-injection": "enabled", "hookpoint.dev/inject": "enabled" };
const OPTS = { namespaceKnown: true, workloadName: "web", subject: "the template" };

describe("withIstioProxy: the proxy as Istio's default template renders it", () => {
  it("classic: last of containers, uid/gid 1337, Istio's args, resources and labels", () => {
    const pod = withIstioProxy(template({ labels: { app: "web", version: "v2" } }), "web");
    expect(pod.metadata?.labels).toEqual({ app: "web", version: "v2", "security.istio.io/tlsMode": "istio", "service.istio.io/canonical-name": "web", "service.istio.io/canonical-revision": "v2" });
    expect(pod.spec.containers.map((c) => c.name)).toEqual(["app", "istio-proxy"]);
    expect(pod.spec.containers[1]).toEqual({
      name: "istio-proxy",
      ports: [{ containerPort: 15090, protocol: "TCP", name: "http-envoy-prom" }],
      args: ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local", "--proxyLogLevel=warning", "--proxyComponentLogLevel=misc:error", "--log_output_level=default:info"],
      resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "2000m", memory: "1024Mi" } },
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 1337, runAsGroup: 1337 },
    });
  });

  it("native: first of the init containers, restartPolicy Always; the pod's proxy annotations set its resources; the input is not modified", () => {
    const t = template({ labels: {}, annotations: { "sidecar.istio.io/proxyCPU": "50m", "sidecar.istio.io/proxyMemoryLimit": "256Mi" } });
    t.spec.initContainers = [{ name: "migrate", image: "m:1" }];
    const before = JSON.stringify(t);
    const pod = withIstioProxy(t, "web-api_", "native");
    expect(JSON.stringify(t)).toBe(before);
    expect(pod.spec.initContainers?.map((c) => [c.name, c.restartPolicy])).toEqual([["istio-proxy", "Always"], ["migrate", undefined]]);
    expect(pod.spec.initContainers?.[0]?.resources).toEqual({ requests: { cpu: "50m" }, limits: { memory: "256Mi" } });
    expect(pod.metadata?.labels?.["service.istio.io/canonical-name"]).toBe("web-api");
  });
});

describe("reviewHandedOver", () => {
  it("Istio adds the proxy: the webhook's decision on that pod, the same for a classic and a native sidecar", () => {
    const snap = snapshot({ shop: MESH });
    const classic = reviewHandedOver(template(), "shop", snap, settings, OPTS);
    const native = reviewHandedOver(template(), "shop", snap, settings, { ...OPTS, kind: "native" });
    expect(classic.istio).toEqual({ inject: "yes", reason: "namespace shop is labelled istio-injection=enabled", added: true });
    const d = classic.review.decision;
    expect([d.inject, d.decidedBy, d.reason, d.message, d.policy]).toEqual([true, "namespace-label", "namespace-enabled", "namespace shop is labelled hookpoint.dev/inject=enabled", null]);
    expect(native.review.decision).toEqual({ ...d, target: { name: "istio-proxy", location: "initContainers", index: 0 } });
    expect(d.target).toEqual({ name: "istio-proxy", location: "containers", index: 1 });
    expect({ ...native.review.status, location: "containers" }).toEqual(classic.review.status);
    expect(native.review.warnings).toEqual(classic.review.warnings);
    expect(classic.review.status).toMatchObject({ container: "istio-proxy", profile: "default", proxyUid: 1337, proxyGid: 1337 });
    expect(classic.review.mutated?.spec.containers[1]?.command).toEqual(["hookpoint", "agent", "--proxy-uid", "1337", "--proxy-gid", "1337", "--", "/usr/local/bin/pilot-agent"]);
  });

  it("Istio adds no proxy: no-target-container, saying why Istio would not add one", () => {
    const r = reviewHandedOver(template(), "shop", snapshot({ shop: { "hookpoint.dev/inject": "enabled" } }), settings, OPTS);
    expect(r.istio?.added).toBe(false);
    expect([r.review.decision.inject, r.review.decision.reason, r.review.decision.message]).toEqual([
      false,
      "no-target-container",
      "no container named istio-proxy, and Istio's injector would not add one: Istio's injection is not enabled for its pods: namespace shop has neither istio-injection=enabled nor istio.io/rev, and the template has no sidecar.istio.io/inject=true label",
    ]);
    const optedOut = reviewHandedOver(template({ labels: { app: "web", "sidecar.istio.io/inject": "false" } }), "shop", snapshot({ shop: MESH }), settings, OPTS);
    expect(optedOut.review.decision.message).toBe("no container named istio-proxy, and Istio's injector would not add one: the template is labelled sidecar.istio.io/inject=false");
  });

  it("namespace labels unknown: the proxy is assumed", () => {
    const r = reviewHandedOver(template(), "shop", snapshot({}), settings, { ...OPTS, namespaceKnown: false });
    expect(r.istio).toEqual({ inject: "unknown", reason: "Istio's decision needs namespace shop's labels (istio-injection, istio.io/rev), which are not known", added: true });
    expect(r.review.decision.reason).toBe("not-opted-in");
  });

  it("Istio's proxy resources count: a profile requesting more CPU than Istio's limit is skipped as invalid, as the webhook would", () => {
    const big = policy("big", { profiles: { default: { resources: { requests: { cpu: "3" } } } } });
    const r = reviewHandedOver(template(), "shop", snapshot({ shop: MESH }, [big]), settings, OPTS);
    expect([r.review.decision.reason, r.review.decision.message]).toEqual(["invalid-resources", "container istio-proxy: requests.cpu 3 exceeds limits.cpu 2000m after merging the profile's requests.cpu with the container's limits.cpu; set both in the profile"]);
  });

  it("leaves alone a template with the proxy, and a policy that does not target istio-proxy", () => {
    expect(reviewHandedOver(template({ proxy: true }), "shop", snapshot({ shop: MESH }), settings, OPTS).istio).toBeUndefined();
    const cilium = policy("cilium", { targetContainers: ["cilium-envoy"] });
    const r = reviewHandedOver(template(), "shop", snapshot({ shop: MESH }, [cilium]), settings, OPTS);
    expect([r.istio, r.review.decision.message]).toEqual([undefined, "no container named cilium-envoy"]);
  });
});
