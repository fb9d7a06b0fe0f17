// hookpoint next to the real istio-sidecar-injector: istiod built from istio.io/istio
// (scripts/istio/build.sh), its webhook registered from Istio's own manifests, on the
// real API server. Every scenario creates the same pod twice, in a namespace labelled
// for Istio only and in one labelled for both, and checks that the second is exactly
// the first with hookpoint's changes (test/e2e/support/expected.ts), nothing else.
import jsonpatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import { delta, mountsSorted, requestsByOutcome } from "./support/compare.js";
import { useCluster } from "./support/e2e.js";
import { AGENT_COMMAND, BASE_POLICY_IMAGE, DEFAULT_SCRIPTS, tracedPod, type Injection } from "./support/expected.js";
import { createDeployment, explainManifests, explainPod, ISTIO_INJECTION, ISTIO_STATUS, replicaSetPod, useIstio, withHookpointNamed, type Deployment } from "./support/istio-real.js";
import { kubeRequest, ok } from "./support/kube-http.js";
import { container, createPod, readPod, withoutGeneratedNames, type Pod } from "./support/pods.js";
import { INJECT, STATUS, useHookpoint, type Hookpoint } from "./support/webhook.js";

const e2e = useCluster();
const hp = useHookpoint(e2e);
const istio = useIstio(e2e);

const BOTH = { [INJECT]: "enabled", [ISTIO_INJECTION]: "enabled" };
const ISTIO_ONLY = { [ISTIO_INJECTION]: "enabled" };

/** The bookinfo reviews workload as a user writes it (before any injector). */
function reviews(): Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "reviews-v1", labels: { app: "reviews", version: "v1" } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "reviews", version: "v1" } },
      template: {
        metadata: { labels: { app: "reviews", version: "v1" } },
        spec: {
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: "reviews",
              image: "docker.io/istio/examples-bookinfo-reviews-v1:1.20.2",
              ports: [{ containerPort: 9080 }],
              env: [{ name: "LOG_DIR", value: "/tmp/logs" }],
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
              securityContext: { runAsUser: 1000 },
            },
          ],
          volumes: [{ name: "tmp", emptyDir: {} }],
        },
      },
    },
  };
}

function barePod(name: string, annotations: Record<string, string> = {}): Pod {
  const t = reviews().spec.template;
  return { apiVersion: "v1", kind: "Pod", metadata: { name, labels: t.metadata?.labels, annotations }, spec: t.spec } as Pod;
}

/**
 * What to compare of two stored pods: labels, annotations, spec, with the token
 * volume's generated name, the mount order and the namespace's name (Istio writes it
 * into ISTIO_META_OWNER) normalised.
 */
function comparable(p: Pod): unknown {
  const { nodeName: _n, ...spec } = p.spec as Pod["spec"] & { nodeName?: string };
  const text = JSON.stringify({ labels: p.metadata?.labels, annotations: p.metadata?.annotations, spec: mountsSorted(spec) });
  return withoutGeneratedNames(JSON.parse(text.replaceAll(`/namespaces/${p.metadata?.namespace ?? ""}/`, "/namespaces/NAMESPACE/")) as unknown);
}

function expectedTraced(istioOnly: Pod, injection: Injection): unknown {
  const t = tracedPod(istioOnly, injection);
  return comparable({ ...istioOnly, metadata: { ...istioOnly.metadata, labels: t.labels, annotations: t.annotations }, spec: t.spec } as Pod);
}

/** Creates `pod` in a fresh namespace with `labels`; the pod as stored. */
async function stored(h: Hookpoint, prefix: string, labels: Record<string, string>, pod: Pod): Promise<{ ns: string; pod: Pod }> {
  const ns = await e2e.namespace(prefix, { labels });
  const created = await createPod(h.admin, ns, pod);
  expect(created.warnings).toEqual([]);
  return { ns, pod: (await readPod(h.admin, ns, pod.metadata?.name ?? "")) as Pod };
}

/** Istio-only and Istio + hookpoint versions of the same pod, and hookpoint's calls for the second. */
async function bothWays(h: Hookpoint, prefix: string, make: () => Pod) {
  const istioOnly = await stored(h, `${prefix}-istio`, ISTIO_ONLY, make());
  const before = await requestsByOutcome(h);
  const both = await stored(h, `${prefix}-both`, BOTH, make());
  return { istioOnly: istioOnly.pod, both: both.pod, ns: both.ns, calls: delta(before, await requestsByOutcome(h)) };
}

const injection = (location: Injection["location"]): Injection => ({ image: BASE_POLICY_IMAGE, profile: "default", scripts: DEFAULT_SCRIPTS, decidedBy: "namespace-label", location });

/**
 * Idempotence through the API server: the stored pod sent again (same name, a fresh
 * namespace labelled for both, dry-run) comes back as it was: Istio sees its status
 * annotation, hookpoint finds nothing to do.
 */
async function expectResubmittedUnchanged(h: Hookpoint, pod: Pod): Promise<void> {
  const ns = await e2e.namespace("again", { labels: BOTH });
  const before = await requestsByOutcome(h);
  const { name, generateName, labels, annotations, ownerReferences } = pod.metadata ?? {};
  const again = await createPod(h.admin, ns, { apiVersion: "v1", kind: "Pod", metadata: { name, generateName, labels, annotations, ownerReferences }, spec: pod.spec } as Pod, { dryRun: true });
  expect(comparable(again.pod)).toEqual(comparable(pod));
  const calls = delta(before, await requestsByOutcome(h));
  expect(Object.keys(calls).every((k) => k.startsWith("unchanged/"))).toBe(true);
}

describe("real Istio injector and hookpoint on the API server", () => {
  it("a Pod: Istio injects a native sidecar (no node below Kubernetes 1.33), hookpoint traces it, nothing else changes", async (ctx) => {
    const h = hp.require(ctx);
    istio.require(ctx);
    const r = await bothWays(h, "native", () => barePod("reviews-v1"));
    // Istio's native sidecar: an init container with restartPolicy Always after istio-init.
    expect(r.istioOnly.spec.initContainers?.map((c) => [c.name, c.restartPolicy ?? null])).toEqual([["istio-init", null], ["istio-proxy", "Always"]]);
    expect(r.istioOnly.spec.containers.map((c) => c.name)).toEqual(["reviews"]);
    expect(JSON.parse(r.istioOnly.metadata?.annotations?.[ISTIO_STATUS] ?? "{}")).toMatchObject({ initContainers: ["istio-init", "istio-proxy"], containers: null });
    expect(comparable(r.both)).toEqual(expectedTraced(r.istioOnly, injection("initContainers")));
    // Istio ran first (istio-sidecar-injector < zz-hookpoint), hookpoint traced; the
    // ServiceAccount plugin's token mount reinvoked hookpoint, which found its work done.
    expect(r.calls).toEqual({ "injected/namespace-enabled": 1, "unchanged/namespace-enabled": 1 });
    await expectResubmittedUnchanged(h, r.both);
    const explained = await explainPod(h.cluster.kubeconfigPath, r.both);
    expect({ inject: explained.inject, decidedBy: explained.decidedBy, reason: explained.reason, policy: explained.policy }).toEqual({ inject: true, decidedBy: "namespace-label", reason: "namespace-enabled", policy: "default" });
  });

  it("a Deployment's pod as its ReplicaSet creates it, with a classic sidecar on a node older than Kubernetes 1.33", async (ctx) => {
    const h = hp.require(ctx);
    istio.require(ctx);
    // ENABLE_NATIVE_SIDECARS=auto (the default) looks at the pod's node: kubelet 1.32 → classic.
    const node = { apiVersion: "v1", kind: "Node", metadata: { name: `e2e-node-132-${Date.now().toString(36)}` }, status: { nodeInfo: { kubeletVersion: "v1.32.4" } } };
    ok(await kubeRequest(h.admin, { method: "POST", path: "/api/v1/nodes", body: node }), "create Node");
    try {
      const make = () => {
        const p = replicaSetPod(reviews());
        (p.spec as Pod["spec"] & { nodeName?: string }).nodeName = node.metadata.name;
        return p;
      };
      const nsIstio = await e2e.namespace("deploy-istio", { labels: ISTIO_ONLY });
      const nsBoth = await e2e.namespace("deploy-both", { labels: BOTH });
      for (const ns of [nsIstio, nsBoth]) await createDeployment(h.admin, ns, { ...reviews(), metadata: { ...reviews().metadata, namespace: ns } });
      const podIstio = make();
      const podBoth = { ...make(), metadata: { ...podIstio.metadata } } as Pod;
      await createPod(h.admin, nsIstio, podIstio);
      await createPod(h.admin, nsBoth, podBoth);
      const istioOnly = (await readPod(h.admin, nsIstio, podIstio.metadata?.name ?? "")) as Pod;
      const both = (await readPod(h.admin, nsBoth, podBoth.metadata?.name ?? "")) as Pod;
      expect(istioOnly.spec.containers.map((c) => c.name)).toEqual(["reviews", "istio-proxy"]);
      expect(istioOnly.spec.initContainers?.map((c) => c.name)).toEqual(["istio-init"]);
      expect((both.metadata?.ownerReferences as { kind: string }[] | undefined)?.map((o) => o.kind)).toEqual(["ReplicaSet"]);
      expect(comparable(both)).toEqual(expectedTraced(istioOnly, injection("containers")));
      await expectResubmittedUnchanged(h, both);
      const explained = await explainPod(h.cluster.kubeconfigPath, both);
      expect([explained.inject, explained.decidedBy]).toEqual([true, "namespace-label"]);
    } finally {
      await kubeRequest(h.admin, { method: "DELETE", path: `/api/v1/nodes/${node.metadata.name}` });
    }
  });

  it("the same pod whichever configuration runs first: hookpoint's sorting before Istio's is reinvoked and traces", async (ctx) => {
    const h = hp.require(ctx);
    istio.require(ctx);
    const after = await bothWays(h, "order-after", () => barePod("reviews-v1", { "sidecar.istio.io/nativeSidecar": "false" }));
    // "hookpoint" < "istio-sidecar-injector": hookpoint first finds no proxy, Istio
    // injects (its webhook has reinvocationPolicy Never), hookpoint is reinvoked (IfNeeded).
    const before = await withHookpointNamed(h, "hookpoint", () => bothWays(h, "order-before", () => barePod("reviews-v1", { "sidecar.istio.io/nativeSidecar": "false" })));
    expect(after.calls).toEqual({ "injected/namespace-enabled": 1, "unchanged/namespace-enabled": 1 });
    expect(before.calls).toEqual({ "skipped/no-target-container": 1, "injected/namespace-enabled": 1 });
    for (const r of [after, before]) expect(comparable(r.both)).toEqual(expectedTraced(r.istioOnly, injection("containers")));
    expect(comparable(before.both)).toEqual(comparable(after.both));
    await expectResubmittedUnchanged(h, before.both);
  });

  it("Istio's own annotations (proxyImage, proxy.istio.io/config, userVolume/userVolumeMount) combined with hookpoint's", async (ctx) => {
    const h = hp.require(ctx);
    istio.require(ctx);
    const annotations = {
      "sidecar.istio.io/nativeSidecar": "false",
      "sidecar.istio.io/proxyImage": "registry.example.com/istio/proxyv2:custom",
      "proxy.istio.io/config": '{"concurrency":2,"terminationDrainDuration":"7s"}',
      "sidecar.istio.io/userVolume": '{"scratch":{"emptyDir":{}},"certs":{"secret":{"secretName":"extra-certs"}}}',
      "sidecar.istio.io/userVolumeMount": '{"scratch":{"mountPath":"/tmp"},"certs":{"mountPath":"/etc/extra-certs","readOnly":true}}',
      "hookpoint.dev/scripts": "envoy-request-flow,envoy-socket-io",
    };
    const r = await bothWays(h, "annotations", () => barePod("reviews-v1", annotations));
    const istioProxy = container(r.istioOnly, "istio-proxy");
    expect(istioProxy.image).toBe("registry.example.com/istio/proxyv2:custom");
    expect(istioProxy.env?.find((e) => e.name === "PROXY_CONFIG")?.value).toBe('{"concurrency":2,"terminationDrainDuration":"7s"}\n');
    // Istio adds the user's volumes in key order.
    expect(istioProxy.volumeMounts?.filter((m) => ["scratch", "certs"].includes(m.name))).toEqual([
      { name: "certs", mountPath: "/etc/extra-certs", readOnly: true },
      { name: "scratch", mountPath: "/tmp" },
    ]);
    const proxy = container(r.both, "istio-proxy");
    // hookpoint's image wins over Istio's proxyImage: the tracing image carries bpftrace.
    expect(proxy.image).toBe(BASE_POLICY_IMAGE);
    expect(proxy.command).toEqual(AGENT_COMMAND);
    expect(proxy.env?.filter((e) => e.name === "PROXY_CONFIG" || e.name === "HOOKPOINT_SCRIPTS").map((e) => e.value)).toEqual([
      '{"concurrency":2,"terminationDrainDuration":"7s"}\n',
      "envoy-request-flow,envoy-socket-io",
    ]);
    // The user's volume at /tmp is kept: hookpoint adds no second mount there and says so.
    expect(proxy.volumeMounts?.filter((m) => m.mountPath === "/tmp").map((m) => m.name)).toEqual(["scratch"]);
    expect(proxy.volumeMounts?.find((m) => m.name === "certs")).toEqual({ name: "certs", mountPath: "/etc/extra-certs", readOnly: true });
    const status = JSON.parse(r.both.metadata?.annotations?.[STATUS] ?? "{}") as { scripts: string[]; keptMounts?: unknown };
    expect(status.scripts).toEqual(["envoy-request-flow", "envoy-socket-io"]);
    expect(status.keptMounts).toEqual([{ path: "/tmp", volume: "scratch" }]);
    await expectResubmittedUnchanged(h, r.both);
    expect(jsonpatch.compare(comparable(r.istioOnly) as object, comparable(r.both) as object).every((op) => !op.path.includes("/containers/0/"))).toBe(true);
  });

  it("explain on a plain Deployment (no istio-proxy in its template) says what the pod its ReplicaSet creates gets", async (ctx) => {
    const h = hp.require(ctx);
    istio.require(ctx);
    const nsBoth = await e2e.namespace("explain-both", { labels: BOTH });
    const nsHookpoint = await e2e.namespace("explain-hookpoint", { labels: { [INJECT]: "enabled" } });
    const optedOut = (d: Deployment): Deployment => {
      const labels = { ...d.spec.template.metadata?.labels, "sidecar.istio.io/inject": "false" };
      return { ...d, metadata: { ...d.metadata, name: "reviews-out" }, spec: { ...d.spec, template: { ...d.spec.template, metadata: { ...d.spec.template.metadata, labels } } } };
    };
    const deployments = [
      { ...reviews(), metadata: { ...reviews().metadata, namespace: nsBoth } },
      { ...reviews(), metadata: { ...reviews().metadata, namespace: nsHookpoint } },
      optedOut({ ...reviews(), metadata: { ...reviews().metadata, namespace: nsBoth } }),
    ];
    const explained = await explainManifests(h.cluster.kubeconfigPath, deployments);
    expect(explained.stderr).toBe(
      `hookpoint explain: assumed: Istio's injector adds its istio-proxy container (Istio's default sidecar template) to the pods of Deployment ${nsBoth}/reviews-v1: namespace ${nsBoth} is labelled istio-injection=enabled ` +
        `(Istio's webhook namespace.sidecar-injector.istio.io of MutatingWebhookConfiguration istio-sidecar-injector selects it)\n` +
        `hookpoint explain: assumed: the tracing image where the profile names none: ${BASE_POLICY_IMAGE} (the built-in default; --image or the profile's image sets another)\n`,
    );
    expect(explained.rows.map((r) => [r.namespace, r.name, r.inject, r.decidedBy, r.reason, r.message])).toEqual([
      [nsBoth, "reviews-v1", true, "namespace-label", "namespace-enabled", `namespace ${nsBoth} is labelled hookpoint.dev/inject=enabled`],
      [nsHookpoint, "reviews-v1", false, "target-container", "no-target-container",
        `no container named istio-proxy, and Istio's injector would not add one: no installed Istio webhook selects the template: namespace ${nsHookpoint} has no label istio-injection or istio.io/rev, and the template has no label sidecar.istio.io/inject or istio.io/rev`],
      [nsBoth, "reviews-out", false, "target-container", "no-target-container", "no container named istio-proxy, and Istio's injector would not add one: the template is labelled sidecar.istio.io/inject=false"],
    ]);
    // The pods as the API server stores them, through both injectors (Istio's picks a native sidecar here: explain's answer does not depend on it).
    for (const [i, d] of deployments.entries()) {
      const ns = d.metadata.namespace as string;
      await createDeployment(h.admin, ns, d);
      const pod = replicaSetPod(d);
      await createPod(h.admin, ns, pod);
      const got = (await readPod(h.admin, ns, pod.metadata?.name ?? "")) as Pod;
      // explain assumed a classic sidecar; Istio chose a native one here (no node below Kubernetes 1.33).
      if (i === 0) expect(got.spec.initContainers?.find((c) => c.name === "istio-proxy")?.restartPolicy).toBe("Always");
      const row = explained.rows[i];
      const hasProxy = [...got.spec.containers, ...(got.spec.initContainers ?? [])].some((c) => c.name === "istio-proxy");
      expect([hasProxy, got.metadata?.annotations?.[STATUS] !== undefined]).toEqual([row?.reason !== "no-target-container", row?.inject]);
      if (!row?.inject) continue;
      const status = JSON.parse(got.metadata?.annotations?.[STATUS] ?? "{}") as { decidedBy: string; profile: string; image: string; scripts: string[] };
      expect([status.decidedBy, status.profile, status.image, status.scripts]).toEqual([row.decidedBy, row.profile, row.image, row.scripts]);
    }
  });

  it("explain's reading of Istio's rules agrees with the real injector, rule by rule", async (ctx) => {
    const h = hp.require(ctx);
    istio.require(ctx);
    const HP = { [INJECT]: "enabled" };
    // [case, namespace labels, template labels, template annotations, hostNetwork, Istio adds its proxy]
    const cases: [string, Record<string, string>, Record<string, string>, Record<string, string>, boolean, boolean][] = [
      ["pod-label-true", HP, { "sidecar.istio.io/inject": "true" }, {}, false, true],
      ["pod-rev", HP, { "istio.io/rev": "default" }, {}, false, true],
      ["annotation-true", HP, {}, { "sidecar.istio.io/inject": "true" }, false, false],
      ["ns-disabled", { ...HP, [ISTIO_INJECTION]: "disabled" }, { "sidecar.istio.io/inject": "true" }, {}, false, false],
      ["ns-rev", { ...HP, "istio.io/rev": "default" }, {}, {}, false, true],
      ["annotation-false", BOTH, {}, { "sidecar.istio.io/inject": "false" }, false, false],
      ["label-invalid", BOTH, { "sidecar.istio.io/inject": "True" }, {}, false, true],
      ["label-over-annotation", BOTH, { "sidecar.istio.io/inject": "" }, { "sidecar.istio.io/inject": "false" }, false, true],
      ["host-network", BOTH, {}, {}, true, false],
    ];
    const deployments: Deployment[] = [];
    for (const [name, nsLabels, labels, annotations, hostNetwork] of cases) {
      const ns = await e2e.namespace(`rule-${name}`, { labels: nsLabels });
      const d = reviews();
      const template = { metadata: { labels: { ...d.spec.template.metadata?.labels, ...labels }, annotations }, spec: { ...d.spec.template.spec, ...(hostNetwork ? { hostNetwork } : {}) } };
      deployments.push({ ...d, metadata: { ...d.metadata, namespace: ns }, spec: { ...d.spec, template } });
    }
    const { rows } = await explainManifests(h.cluster.kubeconfigPath, deployments);
    const got: [string, boolean, boolean][] = [];
    for (const [i, d] of deployments.entries()) {
      const ns = d.metadata.namespace as string;
      await createDeployment(h.admin, ns, d);
      const pod = replicaSetPod(d);
      await createPod(h.admin, ns, pod);
      const stored = (await readPod(h.admin, ns, pod.metadata?.name ?? "")) as Pod;
      const hasProxy = [...stored.spec.containers, ...(stored.spec.initContainers ?? [])].some((c) => c.name === "istio-proxy");
      got.push([cases[i]?.[0] ?? "", hasProxy, rows[i]?.reason !== "no-target-container"]);
    }
    expect(got).toEqual(cases.map(([name, , , , , adds]) => [name, adds, adds]));
  });
});
