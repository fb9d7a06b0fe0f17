// Ordering with Istio's injector (scenario d): mutating webhook configurations run
// in name order, so Istio's injector may run before hookpoint ("istio-sidecar-injector"
// < "zz-hookpoint") or after it (a revisioned "zzz-..." name). With
// reinvocationPolicy IfNeeded on both and an idempotent handler, the pod the API
// server stores is the same either way.
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { loadPod } from "../support/pods.js";
import { agentEnv, BASE_POLICY_IMAGE, DEFAULT_SCRIPTS, HOOKPOINT_VOLUMES, statusAnnotation, tracedProxy, withoutOriginal } from "./support/expected.js";
import { FakeIstioInjector } from "./support/istio-fake-injector.js";
import { apply, ok, remove } from "./support/kube-http.js";
import { delta, mountsSorted, requestsByOutcome } from "./support/compare.js";
import { container, createPod, readPod, TOKEN_VOLUME_NAME, withoutGeneratedNames, type Pod } from "./support/pods.js";
import { pollUntil } from "./support/poll.js";
import { useCluster } from "./support/e2e.js";
import { INJECT, STATUS, useHookpoint, type Hookpoint } from "./support/webhook.js";

const e2e = useCluster();
const hp = useHookpoint(e2e);
let injector: FakeIstioInjector | undefined;
afterAll(async () => injector?.stop());

const ISTIO_STATUS = "sidecar.istio.io/status";
const RUN_LABEL = "e2e.hookpoint.dev/run";

/** The bookinfo reviews pod before Istio: the classic-sidecar fixture without what Istio added. */
function appPod(name: string): Pod {
  const t = loadPod("classic-sidecar");
  const istioVolumes = (JSON.parse(t.metadata?.annotations?.[ISTIO_STATUS] ?? "{}") as { volumes: string[] }).volumes;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app: "reviews", version: "v1" } },
    spec: {
      terminationGracePeriodSeconds: 30,
      containers: t.spec.containers.filter((c) => c.name !== "istio-proxy"),
      volumes: (t.spec.volumes ?? []).filter((v) => !istioVolumes.includes(v.name)),
    },
  } as Pod;
}

const ISTIO_MOUNTS = ["workload-socket", "credential-socket", "workload-certs", "istiod-ca-cert", "istio-ca-crl", "istio-data", "istio-envoy", "istio-token", "istio-podinfo"];
const HOOKPOINT_MOUNT_NAMES = ["hookpoint-lib-modules", "hookpoint-usr-src", "hookpoint-tracefs", "hookpoint-tmp"];

const proxyMountNames = (pod: Pod) => withoutGeneratedNames((container(pod, "istio-proxy").volumeMounts ?? []).map((m) => m.name));

interface Run {
  stored: Pod;
  hookpointCalls: Record<string, number>;
  injectorCalls: boolean[];
}

/** Registers the fake injector under `configName`, creates the app pod in a fresh namespace, returns it as stored. */
async function runWith(h: Hookpoint, fake: FakeIstioInjector, port: number, caBundle: string, configName: string): Promise<Run> {
  const run = randomBytes(3).toString("hex");
  const ns = await e2e.namespace(`d-${configName}`, { labels: { [INJECT]: "enabled", "istio-injection": "enabled", [RUN_LABEL]: run } });
  const path = `/${configName}`;
  const config = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingWebhookConfiguration",
    metadata: { name: configName },
    webhooks: [
      {
        name: "rev.namespace.sidecar-injector.istio.io",
        admissionReviewVersions: ["v1"],
        sideEffects: "None",
        failurePolicy: "Fail",
        reinvocationPolicy: "IfNeeded",
        clientConfig: { url: `https://127.0.0.1:${port}${path}`, caBundle },
        rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }],
        namespaceSelector: { matchLabels: { "istio-injection": "enabled", [RUN_LABEL]: run } },
      },
    ],
  };
  fake.activePath = path;
  ok(await apply(h.admin, config), `apply MutatingWebhookConfiguration ${configName}`);
  try {
    await h.settle();
    // Both webhooks in force for this namespace: the dry-run answer has both sidecars' marks.
    await pollUntil(
      () => createPod(h.admin, ns, appPod("probe"), { dryRun: true }),
      (r) => r.pod.metadata?.annotations?.[ISTIO_STATUS] !== undefined && r.pod.metadata.annotations[STATUS] !== undefined,
      { what: `${configName} and zz-hookpoint both called for namespace ${ns}` },
    );
    const before = await requestsByOutcome(h);
    const calls = fake.calls.length;
    const created = await createPod(h.admin, ns, appPod("reviews-v1"));
    expect(created.warnings).toEqual([]);
    return {
      stored: (await readPod(h.admin, ns, "reviews-v1")) as Pod,
      hookpointCalls: delta(before, await requestsByOutcome(h)),
      injectorCalls: fake.calls.slice(calls).filter((c) => c.pod === "reviews-v1").map((c) => c.injected),
    };
  } finally {
    await remove(h.admin, config);
  }
}

describe("d. with Istio's injector before or after hookpoint", () => {
  it("the stored pod is the same both ways, and hookpoint's parts are exactly as designed", async (ctx) => {
    const h = hp.require(ctx);
    injector = new FakeIstioInjector(h.certs);
    const port = await injector.start();

    const before = await runWith(h, injector, port, h.certs.caBundle, "istio-sidecar-injector");
    const after = await runWith(h, injector, port, h.certs.caBundle, "zzz-fake-istio");

    // Istio first: it injects, hookpoint traces; the ServiceAccount plugin then mounts the
    // token into the new containers, so both are reinvoked: Istio skips (its status is there),
    // hookpoint finds its work done.
    expect(before.injectorCalls).toEqual([true, false]);
    expect(before.hookpointCalls).toEqual({ "injected/namespace-enabled": 1, "unchanged/namespace-enabled": 1 });
    // hookpoint first: no istio-proxy yet; Istio injects; hookpoint is reinvoked and traces.
    expect(after.injectorCalls).toEqual([true, false]);
    expect(after.hookpointCalls).toEqual({ "skipped/no-target-container": 1, "injected/namespace-enabled": 1 });

    for (const { stored } of [before, after]) {
      const injection = { image: BASE_POLICY_IMAGE, profile: "default", scripts: DEFAULT_SCRIPTS, decidedBy: "namespace-label", location: "containers" } as const;
      expect(withoutOriginal(stored.metadata?.annotations?.[STATUS])).toBe(statusAnnotation(injection));
      expect(stored.metadata?.labels?.["hookpoint.dev/injected"]).toBe("true");
      const proxy = container(stored, "istio-proxy");
      const istioProxy = loadPod("classic-sidecar").spec.containers.find((c) => c.name === "istio-proxy");
      expect(proxy.image).toBe(BASE_POLICY_IMAGE);
      expect(proxy.command).toEqual(tracedProxy(proxy, injection).command);
      expect(proxy.args).toEqual(istioProxy?.args);
      expect(proxy.securityContext).toEqual(tracedProxy(proxy, injection).securityContext);
      // Istio's env as stored (fieldRef.apiVersion defaulted), then the agent's.
      expect(proxy.env?.map((e) => e.name)).toEqual([...(istioProxy?.env ?? []), ...agentEnv("default", DEFAULT_SCRIPTS)].map((e) => e.name));
      expect(proxy.env?.slice(-agentEnv("default", DEFAULT_SCRIPTS).length)).toEqual(agentEnv("default", DEFAULT_SCRIPTS));
      expect(stored.spec.volumes?.slice(-4)).toEqual(HOOKPOINT_VOLUMES);
      expect(stored.spec.containers.map((c) => c.name)).toEqual(["reviews", "istio-proxy"]);
      expect(stored.spec.initContainers?.map((c) => c.name)).toEqual(["istio-init"]);
    }
    // The one difference is not hookpoint's: the ServiceAccount admission plugin appends its
    // token mount to the containers Istio added whenever it runs, which is after hookpoint's
    // mounts when Istio runs first (reinvocation) and before them when Istio runs last.
    // No two of these mounts nest, so their order means nothing; compare them as sets.
    expect(proxyMountNames(before.stored)).toEqual([...ISTIO_MOUNTS, ...HOOKPOINT_MOUNT_NAMES, TOKEN_VOLUME_NAME]);
    expect(proxyMountNames(after.stored)).toEqual([...ISTIO_MOUNTS, TOKEN_VOLUME_NAME, ...HOOKPOINT_MOUNT_NAMES]);
    expect(withoutGeneratedNames(mountsSorted(after.stored.spec))).toEqual(withoutGeneratedNames(mountsSorted(before.stored.spec)));
    expect(after.stored.metadata?.labels).toEqual(before.stored.metadata?.labels);
    expect(after.stored.metadata?.annotations).toEqual(before.stored.metadata?.annotations);
  });
});
