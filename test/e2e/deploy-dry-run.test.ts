// deploy/ is acceptable to a real API server: every object of `kustomize build`
// of the base and of each overlay is applied with server-side dry-run
// (`kubectl apply --server-side --dry-run=server`), so the API server validates
// it completely (schemas, defaulting, CEL rules, admission) and stores nothing.
// What a dry-run cannot do without is installed for real first: the namespace,
// the HookpointPolicy CRD (a dry-run custom object needs an Established CRD),
// and - standing in for cert-manager - minimal CRDs for cert-manager.io/v1
// Issuer and Certificate that accept any content (x-kubernetes-preserve-unknown-fields),
// so the overlay's other objects can be validated (the Issuer and Certificate
// bodies themselves are only checked for being well-formed objects).
import { afterAll, describe, expect, it } from "vitest";
import type { KubeConfig } from "@kubernetes/client-node";
import { applyCrd, applyServed, CRD_NAME, pick, renderOrSkip, TARGETS, WEBHOOK_NAMESPACE, type K8sObject } from "./support/deploy.js";
import { apply, kubeRequest, objectPath, ok, remove, statusOf } from "./support/kube-http.js";
import { useCluster } from "./support/e2e.js";

const e2e = useCluster();

/** cert-manager's kinds, for the API server to accept the overlay's Issuers and Certificates. */
function certManagerCrd(kind: "Issuer" | "Certificate"): K8sObject {
  const plural = `${kind.toLowerCase()}s`;
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.cert-manager.io`, labels: { "e2e.hookpoint.dev/stand-in": "cert-manager" } },
    spec: {
      group: "cert-manager.io",
      scope: "Namespaced",
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() },
      versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
    },
  };
}
const CERT_MANAGER_CRDS = [certManagerCrd("Issuer"), certManagerCrd("Certificate")];

let admin: KubeConfig | undefined;
afterAll(async () => {
  if (admin) for (const crd of CERT_MANAGER_CRDS) await remove(admin, crd);
});

const id = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;

describe("deploy/: every kustomize output applied to the API server with server-side dry-run", () => {
  it.for(TARGETS)("%s: every object is accepted, without warnings, and nothing new is stored", async (target, ctx) => {
    const cluster = e2e.require(ctx);
    admin = cluster.admin;
    const objs = renderOrSkip(ctx, target);
    // For real: what a dry-run needs to exist (kubectl users apply CRDs and namespaces first, too).
    ok(await apply(admin, pick(objs, "Namespace", WEBHOOK_NAMESPACE)), `apply Namespace ${WEBHOOK_NAMESPACE}`);
    await applyCrd(admin, pick(objs, "CustomResourceDefinition", CRD_NAME));
    if (target === "cert-manager") for (const crd of CERT_MANAGER_CRDS) await applyCrd(admin, crd);
    const existedBefore = new Map<string, boolean>();
    for (const o of objs) existedBefore.set(id(o), (await kubeRequest(admin, { method: "GET", path: await objectPath(admin, o) })).status === 200);

    const answers = new Map<string, K8sObject>();
    const results: Record<string, string> = {};
    const warnings: string[] = [];
    for (const o of objs) {
      const res = await applyServed(admin, o, { dryRun: true });
      const s = statusOf(res);
      results[id(o)] = res.status === 200 || res.status === 201 ? "accepted" : `HTTP ${s.code} ${s.reason}: ${s.message}`;
      warnings.push(...res.warnings.map((w) => `${id(o)}: ${w}`));
      answers.set(id(o), res.body);
    }

    expect(results).toEqual(Object.fromEntries(objs.map((o) => [id(o), "accepted"])));
    expect(warnings).toEqual([]);
    // The API server's answer is the object as it would be stored.
    const webhooks = answers.get("MutatingWebhookConfiguration/zz-hookpoint")?.webhooks as { name: string }[];
    expect(webhooks.map((w) => w.name)).toEqual(
      target.startsWith("cluster-wide") ? ["cluster.inject.hookpoint.dev"] : ["namespace.inject.hookpoint.dev", "pod.inject.hookpoint.dev"],
    );
    expect(answers.get("HookpointPolicy/default")?.spec.mode).toBe(target.startsWith("cluster-wide") ? "Enabled" : "OptIn");
    // Dry run: whatever did not exist before still does not.
    for (const o of objs) {
      if (existedBefore.get(id(o))) continue;
      expect((await kubeRequest(admin, { method: "GET", path: await objectPath(admin, o) })).status, `${id(o)} after the dry run`).toBe(404);
    }
  });

  it.for(["base", "self-managed"] as const)("%s: the webhook's pod template is admitted in hookpoint-system, which enforces Pod Security restricted", async (target, ctx) => {
    const cluster = e2e.require(ctx);
    const objs = renderOrSkip(ctx, target);
    const namespace = pick(objs, "Namespace", WEBHOOK_NAMESPACE);
    expect(namespace.metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    ok(await apply(cluster.admin, namespace), `apply Namespace ${WEBHOOK_NAMESPACE}`);
    // The pod's ServiceAccount must exist for the ServiceAccount admission plugin.
    ok(await apply(cluster.admin, pick(objs, "ServiceAccount", "hookpoint-webhook")), "apply ServiceAccount hookpoint-webhook");
    const template = pick(objs, "Deployment", "hookpoint-webhook").spec.template as { metadata: Record<string, unknown>; spec: unknown };
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { ...template.metadata, name: "hookpoint-webhook-template" }, spec: template.spec };

    const res = await kubeRequest(cluster.admin, { method: "POST", path: `/api/v1/namespaces/${WEBHOOK_NAMESPACE}/pods`, query: { dryRun: "All" }, body: pod });

    expect(statusOf(res).code).toBe(201);
    expect(res.warnings).toEqual([]);
  });
});
