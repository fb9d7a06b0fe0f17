// The MutatingWebhookConfiguration: the fields issue 7 requires, in every
// overlay, and which pods reach the webhook through which entry - its
// namespaceSelector, objectSelector and matchConditions (CEL, evaluated for real
// with @bufbuild/cel) applied to annotated and unannotated pods.
import { describe, expect, it } from "vitest";
import { TLS_SECRET_NAME, WEBHOOK_CONFIGURATION_NAME, WEBHOOK_NAMESPACE, WEBHOOK_PATH, WEBHOOK_SERVICE } from "../../../src/k8s/install-names.js";
import { find, render, TARGETS, type Target } from "./render.js";
import { celBool, selectorMatches, type K8sObject, type Selector } from "./support.js";

interface Entry {
  name: string;
  admissionReviewVersions: string[];
  sideEffects: string;
  failurePolicy: string;
  timeoutSeconds: number;
  reinvocationPolicy: string;
  matchPolicy: string;
  clientConfig: { service: { name: string; namespace: string; path: string; port: number }; caBundle?: string };
  rules: unknown[];
  namespaceSelector: Selector;
  objectSelector: Selector;
  matchConditions: { name: string; expression: string }[];
}

const SYSTEM = ["kube-system", "kube-public", "kube-node-lease", "hookpoint-system"];

function entries(objs: K8sObject[]): Entry[] {
  return find(objs, "MutatingWebhookConfiguration", WEBHOOK_CONFIGURATION_NAME).webhooks as Entry[];
}

function namespace(name: string, label?: "enabled" | "disabled"): Record<string, string> {
  return { "kubernetes.io/metadata.name": name, ...(label ? { "hookpoint.dev/inject": label } : {}) };
}

function pod(annotations?: Record<string, string>, labels: Record<string, string> = { app: "shop" }) {
  return { apiVersion: "v1", kind: "Pod", metadata: { name: "shop-1", labels, ...(annotations ? { annotations } : {}) }, spec: { containers: [{ name: "app" }] } };
}

/** Names of the entries that send this pod (in this namespace) to the webhook. */
function reaching(es: Entry[], ns: Record<string, string>, p: ReturnType<typeof pod>): string[] {
  return es
    .filter(
      (e) =>
        selectorMatches(e.namespaceSelector, ns) &&
        selectorMatches(e.objectSelector, p.metadata.labels) &&
        e.matchConditions.every((c) => celBool(c.expression, { object: p })),
    )
    .map((e) => e.name);
}

describe.each(TARGETS)("webhook configuration of %s", (target: Target) => {
  it("has the fields issue 7 lists on every entry", (ctx) => {
    const objs = render(ctx, target);
    const mwc = find(objs, "MutatingWebhookConfiguration", WEBHOOK_CONFIGURATION_NAME);
    expect(mwc.metadata.name).toBe("zz-hookpoint");
    const es = entries(objs);
    expect(es.map((e) => e.name)).toEqual(
      target.startsWith("cluster-wide") ? ["cluster.inject.hookpoint.dev"] : ["namespace.inject.hookpoint.dev", "pod.inject.hookpoint.dev"],
    );
    for (const e of es) {
      expect(e.admissionReviewVersions).toEqual(["v1"]);
      expect(e.sideEffects).toBe("None");
      expect(e.failurePolicy).toBe("Ignore");
      expect(e.timeoutSeconds).toBe(5);
      expect(e.reinvocationPolicy).toBe("IfNeeded");
      expect(e.matchPolicy).toBe("Equivalent");
      expect(e.rules).toEqual([{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"], scope: "Namespaced" }]);
      expect(e.clientConfig).toEqual({ service: { name: WEBHOOK_SERVICE, namespace: WEBHOOK_NAMESPACE, path: WEBHOOK_PATH, port: 443 } });
      expect(e.objectSelector).toEqual({ matchExpressions: [{ key: "app.kubernetes.io/name", operator: "NotIn", values: ["hookpoint-webhook"] }] });
      // Entry names must be fully qualified (at least three DNS labels).
      expect(e.name).toMatch(/^[a-z0-9-]+\.[a-z0-9-]+\.[a-z0-9.-]+$/);
    }
  });

  it("never matches kube-system, kube-public, kube-node-lease or hookpoint-system, whatever their labels", (ctx) => {
    for (const e of entries(render(ctx, target))) {
      for (const name of SYSTEM) {
        for (const label of [undefined, "enabled", "disabled"] as const) {
          expect(selectorMatches(e.namespaceSelector, namespace(name, label)), `${e.name} on ${name} (${label ?? "unlabelled"})`).toBe(false);
        }
      }
    }
  });

  it("never sends the webhook's own pods", (ctx) => {
    const objs = render(ctx, target);
    const podLabels = find(objs, "Deployment", "hookpoint-webhook").spec.template.metadata.labels as Record<string, string>;
    for (const e of entries(objs)) expect(selectorMatches(e.objectSelector, podLabels)).toBe(false);
  });

  it("sorts after istio-sidecar-injector and its revisioned variants (Kubernetes calls configurations in name order)", (ctx) => {
    const name = find(render(ctx, target), "MutatingWebhookConfiguration", WEBHOOK_CONFIGURATION_NAME).metadata.name;
    const istio = ["istio-sidecar-injector", "istio-sidecar-injector-1-28", "istio-revision-tag-default", "istiod-default-validator"];
    expect([...istio, name].sort().at(-1)).toBe(name);
  });
});

describe("opt-in routes (base and both certificate overlays)", () => {
  const cases: [string, Record<string, string>, ReturnType<typeof pod>, string[]][] = [
    ["labelled namespace, plain pod", namespace("shop", "enabled"), pod(), ["namespace.inject.hookpoint.dev"]],
    ["labelled namespace, pod annotated true", namespace("shop", "enabled"), pod({ "hookpoint.dev/inject": "true" }), ["namespace.inject.hookpoint.dev"]],
    ["labelled namespace, pod annotated false (opted out)", namespace("shop", "enabled"), pod({ "hookpoint.dev/inject": "false" }), []],
    ["labelled namespace, pod with other annotations", namespace("shop", "enabled"), pod({ "sidecar.istio.io/status": "{}" }), ["namespace.inject.hookpoint.dev"]],
    ["unlabelled namespace, plain pod", namespace("shop"), pod(), []],
    ["unlabelled namespace, pod with other annotations", namespace("shop"), pod({ "sidecar.istio.io/status": "{}" }), []],
    ["unlabelled namespace, pod annotated true", namespace("shop"), pod({ "hookpoint.dev/inject": "true" }), ["pod.inject.hookpoint.dev"]],
    ["unlabelled namespace, pod annotated True (not the exact value)", namespace("shop"), pod({ "hookpoint.dev/inject": "True" }), []],
    ["unlabelled namespace, pod annotated false", namespace("shop"), pod({ "hookpoint.dev/inject": "false" }), []],
    ["unlabelled namespace, pod labelled (not annotated) true", namespace("shop"), pod(undefined, { "hookpoint.dev/inject": "true" }), []],
    ["vetoing namespace, pod annotated true", namespace("shop", "disabled"), pod({ "hookpoint.dev/inject": "true" }), []],
    ["kube-system labelled enabled, pod annotated true", namespace("kube-system", "enabled"), pod({ "hookpoint.dev/inject": "true" }), []],
  ];

  for (const target of ["base", "cert-manager", "self-managed"] as const) {
    it.for(cases)(`${target}: %s`, ([, ns, p, expected], ctx) => {
      expect(reaching(entries(render(ctx, target)), ns, p)).toEqual(expected);
    });
  }
});

describe("cluster-wide route", () => {
  const cases: [string, Record<string, string>, ReturnType<typeof pod>, string[]][] = [
    ["unlabelled namespace, plain pod", namespace("shop"), pod(), ["cluster.inject.hookpoint.dev"]],
    ["labelled namespace, plain pod", namespace("shop", "enabled"), pod(), ["cluster.inject.hookpoint.dev"]],
    ["unlabelled namespace, pod annotated true", namespace("shop"), pod({ "hookpoint.dev/inject": "true" }), ["cluster.inject.hookpoint.dev"]],
    ["unlabelled namespace, pod annotated false", namespace("shop"), pod({ "hookpoint.dev/inject": "false" }), []],
    ["vetoing namespace, plain pod", namespace("shop", "disabled"), pod(), []],
    ["kube-system, plain pod", namespace("kube-system"), pod(), []],
  ];
  it.for(cases)("%s", ([, ns, p, expected], ctx) => {
    expect(reaching(entries(render(ctx, "cluster-wide")), ns, p)).toEqual(expected);
  });
});

describe("matchConditions CEL", () => {
  const optedIn =
    "has(object.metadata.annotations) && 'hookpoint.dev/inject' in object.metadata.annotations && object.metadata.annotations['hookpoint.dev/inject'] == 'true'";

  it("is exactly the annotation test, with map index syntax for the key", (ctx) => {
    const es = entries(render(ctx, "base"));
    expect(es[1]?.matchConditions).toEqual([{ name: "pod-opted-in", expression: optedIn }]);
    expect(es[0]?.matchConditions).toEqual([
      {
        name: "not-opted-out",
        expression:
          "!(has(object.metadata.annotations) && 'hookpoint.dev/inject' in object.metadata.annotations && object.metadata.annotations['hookpoint.dev/inject'] == 'false')",
      },
    ]);
  });

  it("yields a boolean, never an evaluation error, for pods without annotations or without the key", () => {
    expect(celBool(optedIn, { object: pod() })).toBe(false);
    expect(celBool(optedIn, { object: pod({}) })).toBe(false);
    expect(celBool(optedIn, { object: pod({ other: "x" }) })).toBe(false);
    expect(celBool(optedIn, { object: pod({ "hookpoint.dev/inject": "true" }) })).toBe(true);
  });

  it("would raise an error on a pod without the key if the `in` guard were missing (why the guard is there)", () => {
    const unguarded = "has(object.metadata.annotations) && object.metadata.annotations['hookpoint.dev/inject'] == 'true'";
    expect(() => celBool(unguarded, { object: pod({ other: "x" }) })).toThrow(/did not yield a boolean/);
  });
});

describe("the Secret the Deployment mounts", () => {
  it("is the one cert-manager writes and the self-managed module manages", (ctx) => {
    const deployment = find(render(ctx, "base"), "Deployment", "hookpoint-webhook");
    expect(deployment.spec.template.spec.volumes[0].secret.secretName).toBe(TLS_SECRET_NAME);
  });
});
