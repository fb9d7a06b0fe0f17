// Every install routes what the rules could inject (DESIGN.md). For each
// rendered install, and for policy sets covering modes, allowPodOptIn, extra
// targetContainers and selectors, the whole decision table is run through
// decide(), and every pod it injects must be sent to the webhook by the
// rendered MutatingWebhookConfiguration - label selectors and CEL
// matchConditions evaluated for real (@bufbuild/cel) - unless the policy
// governing it reports Routed=False. With --manage-routing, the configuration
// the webhook writes (routingPatch) must send every such pod, and every policy
// is Routed=True. The shipped YAML is what the routing module generates.
import { describe, expect, it } from "vitest";
import jsonpatch from "fast-json-patch";
import { decide } from "../../../src/admission/decision.js";
import { entryRouting, requiredRoutes, routedCondition, routeOfEntry, routes, routeSends, type EntryRouting, type LiveRouting } from "../../../src/admission/routing.js";
import { WEBHOOK_CONFIGURATION_NAME, WEBHOOK_NAMESPACE } from "../../../src/k8s/install-names.js";
import { routingPatch, type WebhookConfiguration } from "../../../src/k8s/routing-patch.js";
import { governingPolicy, namespaceLabels } from "../../../src/policy/snapshot.js";
import type { HookpointPolicy } from "../../../src/policy/types.js";
import { buildPod, cases, nsLabelsOf, VARIANTS, type Case, type PolicyVariant } from "../../support/decision-table.js";
import { policy, snapshot } from "../../support/pods.js";
import { find, render, TARGETS, type Target } from "./render.js";
import { celBool, selectorMatches, type K8sObject } from "./support.js";

const ROUTING_VARIANTS: PolicyVariant[] = [
  ...VARIANTS,
  {
    label: "mode Enabled for namespaces labelled team=perf",
    policies: [policy("perf", { mode: "Enabled", namespaceSelector: { matchLabels: { team: "perf" } } })],
    governs: null,
    mode: "OptIn",
    allowsTeamPerf: false,
    excluded: [],
    targets: ["istio-proxy"],
  },
  {
    label: "mode Enabled for pods labelled app=reviews, cilium-envoy too, with a higher Disabled policy for team=perf",
    policies: [
      policy("reviews", { mode: "Enabled", podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["reviews"] }] }, targetContainers: ["istio-proxy", "cilium-envoy"] }),
      policy("perf-off", { mode: "Disabled", priority: 5, namespaceSelector: { matchLabels: { team: "perf" } } }),
    ],
    governs: null,
    mode: "OptIn",
    allowsTeamPerf: false,
    excluded: [],
    targets: ["istio-proxy"],
  },
];

type Mwc = K8sObject & WebhookConfiguration & { webhooks: (EntryRouting & Record<string, unknown>)[] };

function configuration(objs: K8sObject[]): Mwc {
  return find(objs, "MutatingWebhookConfiguration", WEBHOOK_CONFIGURATION_NAME) as Mwc;
}

function installedPolicies(objs: K8sObject[]): HookpointPolicy[] {
  return objs.filter((o) => o.kind === "HookpointPolicy") as unknown as HookpointPolicy[];
}

/** CEL results depend only on the pod's annotations here: evaluate each expression once per distinct value. */
const celCache = new Map<string, boolean>();
function celPasses(expression: string, annotations: Record<string, string> | undefined): boolean {
  const key = `${expression}\u0000${JSON.stringify(annotations ?? null)}`;
  let v = celCache.get(key);
  if (v === undefined) {
    v = celBool(expression, { object: { metadata: { name: "p", ...(annotations ? { annotations } : {}) } } });
    celCache.set(key, v);
  }
  return v;
}

/** The entries that send this pod: label selectors and CEL, as the API server evaluates them. */
function sendingEntries(entries: readonly EntryRouting[], nsLabels: Record<string, string>, pod: ReturnType<typeof buildPod>): string[] {
  const labels = pod.metadata?.labels ?? {};
  const annotations = pod.metadata?.annotations;
  return entries
    .filter((e) => selectorMatches(e.namespaceSelector, nsLabels) && selectorMatches(e.objectSelector, labels) && e.matchConditions.every((m) => celPasses(m.expression, annotations)))
    .map((e) => e.name);
}

interface Miss {
  c: Case;
  policy: string | null;
}

/** Every case decide() injects under these policies that no entry sends. */
function unrouted(entries: readonly EntryRouting[], policies: HookpointPolicy[]): { injected: number; misses: Miss[] } {
  let injected = 0;
  const misses: Miss[] = [];
  for (const c of cases()) {
    const snap = snapshot({ [c.namespace]: nsLabelsOf(c) }, policies);
    const pod = buildPod(c);
    const nsLabels = namespaceLabels(snap, c.namespace);
    const governing = governingPolicy(snap, nsLabels, pod.metadata?.labels ?? {});
    const d = decide({ pod, namespace: c.namespace, nsLabels, policy: governing, defaultPodSecurity: c.clusterPsa });
    if (!d.inject) continue;
    injected += 1;
    if (sendingEntries(entries, { ...nsLabels }, pod).length === 0) misses.push({ c, policy: governing.name });
  }
  return { injected, misses };
}

const live = (entries: readonly EntryRouting[]): LiveRouting => ({ ok: true, entries });

describe.each([...TARGETS])("install %s", (target: Target) => {
  it("ships the entries the routing module generates for its default policy", (ctx) => {
    const objs = render(ctx, target);
    const generated = routes(installedPolicies(objs), WEBHOOK_NAMESPACE).map(entryRouting);
    const shipped = configuration(objs).webhooks.map((w) => ({ name: w.name, namespaceSelector: w.namespaceSelector, objectSelector: w.objectSelector, matchConditions: w.matchConditions }));
    expect(shipped).toEqual(generated);
  });

  it.for(ROUTING_VARIANTS.map((v) => [v.label, v] as const))("%s: every pod decide() injects is routed, or its policy says Routed=False", ([, v], ctx) => {
    const objs = render(ctx, target);
    const policies = [...installedPolicies(objs), ...v.policies];
    const shipped = configuration(objs).webhooks;
    const { injected, misses } = unrouted(shipped, policies);
    expect(injected).toBeGreaterThan(0);
    // A pod may go unrouted only when the policy governing it says so.
    const conditions = new Map(policies.map((p) => [p.metadata.name, routedCondition(p, live(shipped), WEBHOOK_NAMESPACE, WEBHOOK_CONFIGURATION_NAME)]));
    const unexplained = misses.filter((m) => m.policy === null || conditions.get(m.policy)?.status !== "False");
    expect(unexplained.slice(0, 3)).toEqual([]);
    // Only an Enabled policy can lack routes in a shipped install: the opt-in routes are always there.
    for (const [name, c] of conditions) if (c.status !== "True") expect(policies.find((p) => p.metadata.name === name)?.spec.mode, name).toBe("Enabled");
  });

  it.for(ROUTING_VARIANTS.map((v) => [v.label, v] as const))("%s, with --manage-routing: the configuration the webhook writes routes every pod decide() injects", ([, v], ctx) => {
    const objs = render(ctx, target);
    const policies = [...installedPolicies(objs), ...v.policies];
    const mwc = configuration(objs);
    const patch = routingPatch(mwc, routes(policies, WEBHOOK_NAMESPACE));
    if (!patch.ok) throw new Error(patch.problem);
    const written = jsonpatch.applyPatch(structuredClone(mwc), patch.ops, true, false).newDocument as Mwc;
    const { injected, misses } = unrouted(written.webhooks, policies);
    expect(injected).toBeGreaterThan(0);
    expect(misses.slice(0, 3)).toEqual([]);
    for (const p of policies) expect(routedCondition(p, live(written.webhooks), WEBHOOK_NAMESPACE, WEBHOOK_CONFIGURATION_NAME).status, p.metadata.name).toBe("True");
    // Entries it adds call the same webhook as those it found.
    for (const w of written.webhooks) expect(w.clientConfig).toEqual(mwc.webhooks[0]?.clientConfig);
    // Written once, there is nothing left to change.
    expect(routingPatch(written, routes(policies, WEBHOOK_NAMESPACE))).toMatchObject({ ok: true, ops: [] });
  });
});

describe("the pure evaluation explain uses agrees with the CEL the API server runs", () => {
  it("for every route, namespace and pod of the decision table", () => {
    const policies = ROUTING_VARIANTS.flatMap((v) => v.policies);
    const every = new Map([...policies, policy("everything", { mode: "Enabled" })].flatMap((p) => requiredRoutes(p, WEBHOOK_NAMESPACE)).map((r) => [r.name, r]));
    expect([...every.keys()].sort()).toEqual([
      "cluster.inject.hookpoint.dev",
      "namespace.inject.hookpoint.dev",
      "perf.policy.inject.hookpoint.dev",
      "pod.inject.hookpoint.dev",
      "prod-only.policy.inject.hookpoint.dev",
      "reviews.policy.inject.hookpoint.dev",
    ]);
    let checked = 0;
    for (const route of every.values()) {
      const entry = entryRouting(route);
      expect(routeOfEntry(entry, policies, WEBHOOK_NAMESPACE)?.name).toBe(route.name);
      for (const c of cases()) {
        if (c.clusterPsa !== "privileged" || c.hostNetwork) continue;
        const pod = buildPod(c);
        const nsLabels = { ...nsLabelsOf(c), "kubernetes.io/metadata.name": c.namespace };
        const viaCel = sendingEntries([entry], nsLabels, pod).length === 1;
        expect(routeSends(route, nsLabels, pod.metadata?.labels ?? {}, pod.metadata?.annotations), `${route.name} ${JSON.stringify(c)}`).toBe(viaCel);
        checked += 1;
      }
    }
    expect(checked).toBe(6 * 3_200);
  });
});

describe("the Routed condition's contract (README: routing; hookpoint check reads it)", () => {
  const base = (ctx: { skip: (note: string) => void }) => live(configuration(render(ctx, "base")).webhooks);
  const withRoutes = (ps: HookpointPolicy[]) => live(routes(ps, WEBHOOK_NAMESPACE).map(entryRouting));
  const judge = (p: HookpointPolicy, l: LiveRouting) => routedCondition(p, l, WEBHOOK_NAMESPACE, WEBHOOK_CONFIGURATION_NAME);
  it("True, reason Routed: the entries that carry the policy's pods, in order", (ctx) => {
    expect(judge(policy("optin", {}), base(ctx))).toEqual({
      type: "Routed",
      status: "True",
      reason: "Routed",
      message: "every pod this policy can inject is sent to the webhook by MutatingWebhookConfiguration zz-hookpoint (entries namespace.inject.hookpoint.dev, pod.inject.hookpoint.dev).",
    });
    const everything = policy("everything", { mode: "Enabled" });
    expect(judge(everything, withRoutes([everything]))).toEqual({
      type: "Routed",
      status: "True",
      reason: "Routed",
      message: "every pod this policy can inject is sent to the webhook by MutatingWebhookConfiguration zz-hookpoint (entry cluster.inject.hookpoint.dev).",
    });
  });
  it("True for mode Disabled, which injects nothing", (ctx) => {
    expect(judge(policy("off", { mode: "Disabled" }), base(ctx))).toEqual({ type: "Routed", status: "True", reason: "Routed", message: "mode Disabled: the policy injects no pod." });
  });
  it("False, reason NotRouted, for a missing cluster-wide entry", (ctx) => {
    expect(judge(policy("everything", { mode: "Enabled" }), base(ctx))).toEqual({
      type: "Routed",
      status: "False",
      reason: "NotRouted",
      message:
        "MutatingWebhookConfiguration zz-hookpoint does not send the webhook the pods its mode Enabled selects, in every namespace (the policy has no selectors) (entry cluster.inject.hookpoint.dev): those pods are admitted untraced. Run the webhook with --manage-routing (every shipped install does) so it writes these entries, or apply deploy/components/cluster-wide.",
    });
  });
  it("False, reason NotRouted, for selectors no webhook configuration can hold", (ctx) => {
    expect(judge(policy("odd", { mode: "Enabled", namespaceSelector: { matchLabels: { "team/a/b": "x" } } }), base(ctx))).toEqual({
      type: "Routed",
      status: "False",
      reason: "NotRouted",
      message:
        'its selectors cannot be written into MutatingWebhookConfiguration zz-hookpoint (namespaceSelector: label key "team/a/b" has an invalid prefix), so the pods its mode Enabled selects in namespaces not labelled hookpoint.dev/inject=enabled are not sent to the webhook.',
    });
  });
});

describe("Routed=False names what is not routed", () => {
  it("an Enabled policy with a namespace selector against the base's two opt-in entries", (ctx) => {
    const objs = render(ctx, "base");
    const perf = policy("perf", { mode: "Enabled", namespaceSelector: { matchLabels: { team: "perf" } } });
    expect(routedCondition(perf, live(configuration(objs).webhooks), WEBHOOK_NAMESPACE, WEBHOOK_CONFIGURATION_NAME)).toEqual({
      type: "Routed",
      status: "False",
      reason: "NotRouted",
      message:
        "MutatingWebhookConfiguration zz-hookpoint does not send the webhook the pods its mode Enabled selects in namespaces not labelled hookpoint.dev/inject=enabled (entry perf.policy.inject.hookpoint.dev): those pods are admitted untraced. Run the webhook with --manage-routing (every shipped install does) so it writes these entries, or apply deploy/components/cluster-wide.",
    });
  });
  it("an unreadable configuration is Unknown, with the reason", () => {
    expect(routedCondition(policy("p", {}), { ok: false, problem: "cannot read MutatingWebhookConfiguration zz-hookpoint: HTTP 403" }, WEBHOOK_NAMESPACE, WEBHOOK_CONFIGURATION_NAME)).toEqual({
      type: "Routed",
      status: "Unknown",
      reason: "ConfigurationUnknown",
      message: "cannot read MutatingWebhookConfiguration zz-hookpoint: HTTP 403",
    });
  });
});
