// Gateways and waypoints from the real istiod. Their proxy is a container named
// istio-proxy whose entrypoint is pilot-agent (`proxy router`, `proxy waypoint`), so
// hookpoint traces them under the same opt-in rules as sidecars (README "Gateways and
// waypoints"); a gateway is left out like any pod, by hookpoint.dev/inject: "false" on
// its pod template (for Gateway API gateways: spec.infrastructure.annotations).
import { describe, expect, it } from "vitest";
import { useCluster } from "./support/e2e.js";
import { AGENT_COMMAND, BASE_POLICY_IMAGE, DEFAULT_SCRIPTS, statusAnnotation, withoutOriginal } from "./support/expected.js";
import { createDeployment, explainPod, ISTIO_INJECTION, replicaSetPod, useIstio, type Deployment } from "./support/istio-real.js";
import { kubeRequest, ok } from "./support/kube-http.js";
import { container, createPod, readPod, type Pod } from "./support/pods.js";
import { pollUntil } from "./support/poll.js";
import { INJECT, STATUS, useHookpoint, type Hookpoint } from "./support/webhook.js";

const e2e = useCluster();
const hp = useHookpoint(e2e);
const istio = useIstio(e2e);

const GATEWAY_API = "/apis/gateway.networking.k8s.io/v1";

/** An ingress gateway the way Istio's `gateway` Helm chart deploys it: Istio's gateway template fills in the proxy. */
function chartGateway(): Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "istio-ingressgateway", labels: { app: "istio-ingressgateway", istio: "ingressgateway" } },
    spec: {
      selector: { matchLabels: { app: "istio-ingressgateway", istio: "ingressgateway" } },
      template: {
        metadata: {
          annotations: { "inject.istio.io/templates": "gateway", "prometheus.io/port": "15020", "prometheus.io/scrape": "true", "prometheus.io/path": "/stats/prometheus" },
          labels: { app: "istio-ingressgateway", istio: "ingressgateway", "sidecar.istio.io/inject": "true" },
        },
        spec: {
          securityContext: { sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }] },
          containers: [
            {
              name: "istio-proxy",
              image: "auto",
              securityContext: { capabilities: { drop: ["ALL"] }, allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsUser: 1337, runAsGroup: 1337, runAsNonRoot: true },
              ports: [{ containerPort: 15090, protocol: "TCP", name: "http-envoy-prom" }],
            },
          ],
        },
      },
    },
  };
}

/** Creates a Gateway API Gateway and waits for the Deployment istiod renders for it. */
async function gatewayDeployment(h: Hookpoint, ns: string, gateway: Record<string, unknown>, deployment: string): Promise<Deployment> {
  ok(await kubeRequest(h.admin, { method: "POST", path: `${GATEWAY_API}/namespaces/${ns}/gateways`, body: gateway }), `create Gateway in ${ns}`);
  const polled = await pollUntil(
    () => kubeRequest<Deployment>(h.admin, { method: "GET", path: `/apis/apps/v1/namespaces/${ns}/deployments/${deployment}` }),
    (r) => r.status === 200,
    { what: `istiod creating Deployment ${ns}/${deployment}`, timeoutMs: 30_000, intervalMs: 100 },
  );
  return polled.value.body;
}

async function createFrom(h: Hookpoint, ns: string, d: Deployment): Promise<Pod> {
  const pod = replicaSetPod(d);
  const created = await createPod(h.admin, ns, pod);
  expect(created.warnings).toEqual([]);
  return (await readPod(h.admin, ns, pod.metadata?.name ?? "")) as Pod;
}

const traced = (location: "containers" | "initContainers") => statusAnnotation({ image: BASE_POLICY_IMAGE, profile: "default", scripts: DEFAULT_SCRIPTS, decidedBy: "namespace-label", location });

async function expectExplained(h: Hookpoint, pod: Pod, expected: { inject: boolean; decidedBy: string; reason: string }): Promise<void> {
  const row = await explainPod(h.cluster.kubeconfigPath, pod);
  expect({ inject: row.inject, decidedBy: row.decidedBy, reason: row.reason }).toEqual(expected);
}

describe("gateways and waypoints of the real istiod", () => {
  it("an ingress gateway injected from Istio's gateway template (proxy router) is traced", async (ctx) => {
    const h = hp.require(ctx);
    istio.require(ctx);
    const ns = await e2e.namespace("gw-chart", { labels: { [INJECT]: "enabled" } });
    const d = await createDeployment(h.admin, ns, { ...chartGateway(), metadata: { ...chartGateway().metadata, namespace: ns } });
    const pod = await createFrom(h, ns, d);
    const proxy = container(pod, "istio-proxy");
    expect(pod.spec.containers.map((c) => c.name)).toEqual(["istio-proxy"]);
    expect(pod.spec.initContainers ?? []).toEqual([]);
    expect(proxy.args?.slice(0, 2)).toEqual(["proxy", "router"]);
    expect(proxy.command).toEqual(AGENT_COMMAND);
    expect(proxy.image).toBe(BASE_POLICY_IMAGE);
    expect(withoutOriginal(pod.metadata?.annotations?.[STATUS])).toBe(traced("containers"));
    // The gateway's uid/gid reach the agent as flags (AGENT_COMMAND) from the webhook's record, never as pod-writable env.
    expect(JSON.parse(pod.metadata?.annotations?.[STATUS] ?? "{}")).toMatchObject({ proxyUid: 1337, proxyGid: 1337 });
    expect(proxy.env?.filter((e) => e.name.startsWith("HOOKPOINT_PROXY_"))).toEqual([]);
    await expectExplained(h, pod, { inject: true, decidedBy: "namespace-label", reason: "namespace-enabled" });
  });

  it("a Gateway API gateway (class istio) rendered by istiod (proxy router) is traced", async (ctx) => {
    const h = hp.require(ctx);
    istio.require(ctx);
    const ns = await e2e.namespace("gw-api", { labels: { [INJECT]: "enabled", [ISTIO_INJECTION]: "enabled" } });
    const gateway = { apiVersion: "gateway.networking.k8s.io/v1", kind: "Gateway", metadata: { name: "ingress", namespace: ns }, spec: { gatewayClassName: "istio", listeners: [{ name: "http", port: 80, protocol: "HTTP" }] } };
    const pod = await createFrom(h, ns, await gatewayDeployment(h, ns, gateway, "ingress-istio"));
    const proxy = container(pod, "istio-proxy");
    // istiod's own pod template opts out of Istio's injector; hookpoint still sees the proxy.
    expect(pod.metadata?.labels?.["sidecar.istio.io/inject"]).toBe("false");
    expect(proxy.args?.slice(0, 2)).toEqual(["proxy", "router"]);
    expect(proxy.command).toEqual(AGENT_COMMAND);
    expect(withoutOriginal(pod.metadata?.annotations?.[STATUS])).toBe(traced("containers"));
    await expectExplained(h, pod, { inject: true, decidedBy: "namespace-label", reason: "namespace-enabled" });
  });

  it("a waypoint (proxy waypoint) is traced, and one whose Gateway opts out is left alone", async (ctx) => {
    const h = hp.require(ctx);
    istio.require(ctx);
    const ns = await e2e.namespace("waypoint", { labels: { [INJECT]: "enabled" } });
    const waypoint = (name: string, annotations: Record<string, string>) => ({
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "Gateway",
      metadata: { name, namespace: ns, labels: { "istio.io/waypoint-for": "service" } },
      spec: { gatewayClassName: "istio-waypoint", listeners: [{ name: "mesh", port: 15008, protocol: "HBONE" }], infrastructure: { annotations } },
    });
    const pod = await createFrom(h, ns, await gatewayDeployment(h, ns, waypoint("waypoint", {}), "waypoint"));
    const proxy = container(pod, "istio-proxy");
    expect(proxy.args?.slice(0, 2)).toEqual(["proxy", "waypoint"]);
    expect(proxy.command).toEqual(AGENT_COMMAND);
    expect(withoutOriginal(pod.metadata?.annotations?.[STATUS])).toBe(traced("containers"));
    await expectExplained(h, pod, { inject: true, decidedBy: "namespace-label", reason: "namespace-enabled" });

    const optedOut = await createFrom(h, ns, await gatewayDeployment(h, ns, waypoint("quiet", { [INJECT]: "false" }), "quiet"));
    expect(optedOut.metadata?.annotations?.[INJECT]).toBe("false");
    expect(optedOut.metadata?.annotations?.[STATUS]).toBeUndefined();
    expect(container(optedOut, "istio-proxy").command).toBeUndefined();
    await expectExplained(h, optedOut, { inject: false, decidedBy: "pod-annotation", reason: "pod-opt-out" });
  });
});
