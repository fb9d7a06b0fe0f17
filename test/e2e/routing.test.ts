// Every install routes what the rules could inject, on the real kube-apiserver:
// deploy/base with the self-managed certificates (overlays/self-managed), the
// webhook started with the overlay's own arguments (--manage-routing,
// --self-managed-certs) and only its RBAC. A HookpointPolicy with mode Enabled
// selecting a namespace nobody labelled, and one with allowPodOptIn, each get a
// newly created pod injected within 2 s of the policy's creation: the webhook
// sees the policy, writes the entry that sends those pods, and the API server
// calls it. The pod creation is retried until then (bounded by those 2 s; the
// time taken is printed, never asserted beyond the bound). Each policy's
// status says Routed=True, and a deleted policy's entry goes away.
import { randomBytes } from "node:crypto";
import { describe, expect, it, type TestContext } from "vitest";
import type { KubeConfig } from "@kubernetes/client-node";
import { WEBHOOK_CONFIGURATION, type K8sObject } from "./support/deploy.js";
import { useCluster } from "./support/e2e.js";
import { apply, kubeRequest, ok, remove } from "./support/kube-http.js";
import { useSelfManaged } from "./support/self-managed.js";
import { createPod, probePod, readPod } from "./support/pods.js";
import { pollUntil, sleep } from "./support/poll.js";
import { INJECT, STATUS } from "./support/webhook.js";

const e2e = useCluster();

const CONFIG_PATH = `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${WEBHOOK_CONFIGURATION}`;
/** The bound the issue sets: policy created → a new pod injected. */
const DEADLINE_MS = 2_000;

const selfManaged = useSelfManaged(e2e, "hookpoint-e2e-routing-");

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** The base + self-managed overlay, with the webhook running as a local process; resolves once the API server calls it. */
async function startSelfManaged(ctx: TestContext): Promise<KubeConfig> {
  const { admin, setup } = await selfManaged.start(ctx);
  expect(setup.args).toEqual(expect.arrayContaining(["--manage-routing", "--self-managed-certs"]));
  const ns = await e2e.namespace("routing-settle", { labels: { [INJECT]: "enabled" } });
  await pollUntil(
    () => createPod(admin, ns, probePod("probe"), { dryRun: true }),
    (r) => r.pod.metadata?.annotations?.[STATUS] !== undefined,
    { what: "the API server calling the self-managed webhook", timeoutMs: 30_000 },
  );
  return admin;
}

async function entryNames(kc: KubeConfig): Promise<string[]> {
  const res = ok(await kubeRequest<{ webhooks: { name: string }[] }>(kc, { method: "GET", path: CONFIG_PATH }), "get zz-hookpoint");
  return res.body.webhooks.map((w) => w.name);
}

async function routedCondition(kc: KubeConfig, name: string): Promise<Condition | undefined> {
  const res = await kubeRequest<{ status?: { conditions?: Condition[] } }>(kc, { method: "GET", path: `/apis/hookpoint.dev/v1alpha1/hookpointpolicies/${name}` });
  return res.body.status?.conditions?.find((c) => c.type === "Routed");
}

/**
 * Creates `policy`, then tries to create a pod (dry run: the full admission,
 * nothing stored) until the API server returns it traced, for at most 2 s after
 * the policy's creation. Prints the time it took and returns the traced pod.
 */
async function injectedWithin2s(kc: KubeConfig, policy: K8sObject, namespace: string, pod: ReturnType<typeof probePod>, what: string) {
  const start = performance.now();
  ok(await apply(kc, policy), `apply HookpointPolicy ${policy.metadata.name}`);
  let attempts = 0;
  for (;;) {
    attempts += 1;
    const r = await createPod(kc, namespace, pod, { dryRun: true });
    const elapsed = performance.now() - start;
    if (r.pod.metadata?.annotations?.[STATUS] !== undefined) {
      console.log(`${what}: pod injected ${elapsed.toFixed(0)} ms after the policy was created (${attempts} dry-run creations)`);
      return r;
    }
    if (elapsed > DEADLINE_MS) throw new Error(`${what}: no pod injected within ${DEADLINE_MS} ms of the policy's creation (${attempts} attempts)`);
    await sleep(25);
  }
}

describe("deploy/base with self-managed certificates: policies are routed as soon as they exist", () => {
  it("mode Enabled selecting an unlabelled namespace: a new pod there is injected within 2 s; Routed=True; the entry goes with the policy", async (ctx) => {
    const kc = await startSelfManaged(ctx);
    const run = randomBytes(3).toString("hex");
    const ns = await e2e.namespace("routing-enabled", { labels: { "e2e.hookpoint.dev/run": run } });
    const name = `e2e-enabled-${run}`;
    const policy: K8sObject = {
      apiVersion: "hookpoint.dev/v1alpha1",
      kind: "HookpointPolicy",
      metadata: { name },
      spec: { mode: "Enabled", priority: 20, namespaceSelector: { matchLabels: { "e2e.hookpoint.dev/run": run } } },
    };
    expect(await entryNames(kc)).toEqual(["namespace.inject.hookpoint.dev", "pod.inject.hookpoint.dev"]);
    try {
      await injectedWithin2s(kc, policy, ns, probePod("shop-1"), "mode Enabled");
      const created = await createPod(kc, ns, probePod("shop-1"));
      const stored = await readPod(kc, ns, "shop-1");
      expect(JSON.parse(stored?.metadata?.annotations?.[STATUS] ?? "{}")).toMatchObject({ decidedBy: "policy", container: "istio-proxy" });
      expect(created.pod.metadata?.labels?.["hookpoint.dev/injected"]).toBe("true");
      expect(await entryNames(kc)).toEqual(["namespace.inject.hookpoint.dev", "pod.inject.hookpoint.dev", `${name}.policy.inject.hookpoint.dev`]);
      const routed = await pollUntil(() => routedCondition(kc, name), (c) => c !== undefined, { what: `Routed condition of ${name}`, timeoutMs: 10_000 });
      expect(routed.value).toMatchObject({
        status: "True",
        reason: "Routed",
        message: `every pod this policy can inject is sent to the webhook by MutatingWebhookConfiguration zz-hookpoint (entries namespace.inject.hookpoint.dev, pod.inject.hookpoint.dev, ${name}.policy.inject.hookpoint.dev).`,
      });
    } finally {
      await remove(kc, policy);
    }
    await pollUntil(() => entryNames(kc), (names) => names.length === 2, { what: `entry of deleted ${name} removed`, timeoutMs: 10_000 });
    expect(await entryNames(kc)).toEqual(["namespace.inject.hookpoint.dev", "pod.inject.hookpoint.dev"]);
  });

  it("allowPodOptIn selecting an unlabelled namespace: a new pod annotated \"true\" there is injected within 2 s", async (ctx) => {
    const kc = await startSelfManaged(ctx);
    const run = randomBytes(3).toString("hex");
    const ns = await e2e.namespace("routing-opt-in", { labels: { "e2e.hookpoint.dev/run": run } });
    const name = `e2e-opt-in-${run}`;
    const selector = { matchLabels: { "e2e.hookpoint.dev/run": run } };
    const policy: K8sObject = { apiVersion: "hookpoint.dev/v1alpha1", kind: "HookpointPolicy", metadata: { name }, spec: { priority: 20, namespaceSelector: selector, allowPodOptIn: selector } };
    try {
      const r = await injectedWithin2s(kc, policy, ns, probePod("opted-in", { [INJECT]: "true" }), "allowPodOptIn");
      expect(JSON.parse(r.pod.metadata?.annotations?.[STATUS] ?? "{}")).toMatchObject({ decidedBy: "pod-annotation" });
      const routed = await pollUntil(() => routedCondition(kc, name), (c) => c !== undefined, { what: `Routed condition of ${name}`, timeoutMs: 10_000 });
      expect(routed.value).toMatchObject({ status: "True", reason: "Routed" });
      // An OptIn policy needs no entry of its own.
      expect(await entryNames(kc)).toEqual(["namespace.inject.hookpoint.dev", "pod.inject.hookpoint.dev"]);
    } finally {
      await remove(kc, policy);
    }
  });
});
