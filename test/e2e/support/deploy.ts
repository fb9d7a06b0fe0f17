// deploy/ as the e2e tests use it: the kustomize output (rendered by the same
// helper as test/unit/deploy), the parts of the base installed for real, and the
// webhook configuration re-pointed at a local process.
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { DEPLOY, KUSTOMIZE_MISSING, kustomizeBinary, kustomizeBuild, type K8sObject } from "../../unit/deploy/support.js";
import { apply, kubeRequest, ok, remove, type KubeResponse } from "./kube-http.js";
import { pollUntil } from "./poll.js";

export type { K8sObject } from "../../unit/deploy/support.js";

export const TARGETS = ["base", "cert-manager", "self-managed", "cluster-wide"] as const;
export type Target = (typeof TARGETS)[number];

export const WEBHOOK_NAMESPACE = "hookpoint-system";
export const WEBHOOK_SERVICE_ACCOUNT = "hookpoint-webhook";
export const WEBHOOK_CONFIGURATION = "zz-hookpoint";
export const CRD_NAME = "hookpointpolicies.hookpoint.dev";

/** Thrown when kustomize was not built on this machine (outside CI: the tests are skipped with this reason). */
export class KustomizeMissingError extends Error {}

const rendered = new Map<Target, K8sObject[]>();

/** `kustomize build` of the base or an overlay (cached per process). */
export function render(target: Target): K8sObject[] {
  let objs = rendered.get(target);
  if (!objs) {
    const bin = kustomizeBinary();
    if (!bin) {
      if (process.env.CI === "true") throw new Error(KUSTOMIZE_MISSING);
      throw new KustomizeMissingError(KUSTOMIZE_MISSING);
    }
    objs = kustomizeBuild(bin, target === "base" ? join(DEPLOY, "base") : join(DEPLOY, "overlays", target));
    rendered.set(target, objs);
  }
  return structuredClone(objs);
}

/** `render(target)`, or ctx.skip(reason) where kustomize was not built (outside CI). */
export function renderOrSkip(ctx: { skip: (note: string) => never }, target: Target): K8sObject[] {
  try {
    return render(target);
  } catch (e) {
    if (e instanceof KustomizeMissingError) ctx.skip(e.message);
    throw e;
  }
}

export function pick(objs: K8sObject[], kind: string, name: string): K8sObject {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in the kustomize output (${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(", ")})`);
  return o;
}

/**
 * Server-side apply that waits out a custom resource type the API server does
 * not serve yet (404 for a few moments after its CRD became Established).
 * An apply never answers 404 otherwise: it creates what is missing.
 */
export async function applyServed(kc: KubeConfig, obj: K8sObject, opts: { dryRun?: boolean } = {}): Promise<KubeResponse<K8sObject>> {
  const polled = await pollUntil(() => apply<K8sObject>(kc, obj, opts), (r) => r.status !== 404, {
    what: `the API server serving ${obj.apiVersion} ${obj.kind}`,
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  return polled.value;
}

/** Applies a CustomResourceDefinition for real and waits until the API server serves it. */
export async function applyCrd(admin: KubeConfig, crd: K8sObject): Promise<void> {
  ok(await apply(admin, crd), `apply CustomResourceDefinition ${crd.metadata.name}`);
  await pollUntil(
    async () => {
      const res = await kubeRequest<{ status?: { conditions?: { type: string; status: string }[] } }>(admin, {
        method: "GET",
        path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
      });
      return res.body.status?.conditions?.find((c) => c.type === "Established")?.status;
    },
    (s) => s === "True",
    { what: `CustomResourceDefinition ${crd.metadata.name} Established`, timeoutMs: 30_000 },
  );
}

/**
 * What a `kubectl apply -k deploy/base` would install, minus what cannot run
 * without nodes (Deployment, Service, PodDisruptionBudget) and the webhook
 * configuration (registered once the local webhook is ready): the namespace,
 * the CRD, the ServiceAccount, its ClusterRole and binding, the default policy.
 */
export async function installBase(admin: KubeConfig): Promise<K8sObject[]> {
  const objs = render("base");
  const crd = pick(objs, "CustomResourceDefinition", CRD_NAME);
  for (const o of [pick(objs, "Namespace", WEBHOOK_NAMESPACE)]) ok(await apply(admin, o), `apply ${o.kind} ${o.metadata.name}`);
  await applyCrd(admin, crd);
  for (const o of [
    pick(objs, "ServiceAccount", WEBHOOK_SERVICE_ACCOUNT),
    pick(objs, "ClusterRole", "hookpoint-webhook"),
    pick(objs, "ClusterRoleBinding", "hookpoint-webhook"),
    pick(objs, "HookpointPolicy", "default"),
  ]) {
    ok(await applyServed(admin, o), `apply ${o.kind} ${o.metadata.name}`);
  }
  return objs;
}

/** The base's MutatingWebhookConfiguration with every entry calling `url` (a Service has no endpoints here). */
export function localWebhookConfiguration(url: string, caBundle: string): K8sObject {
  const mwc = pick(render("base"), "MutatingWebhookConfiguration", WEBHOOK_CONFIGURATION);
  for (const w of mwc.webhooks as { clientConfig: unknown }[]) w.clientConfig = { url, caBundle };
  return mwc;
}

export async function registerWebhookConfiguration(admin: KubeConfig, mwc: K8sObject): Promise<void> {
  // Replace rather than merge: a previous registration may hold clientConfig fields this one does not set.
  await remove(admin, mwc);
  ok(await apply(admin, mwc), `apply MutatingWebhookConfiguration ${mwc.metadata.name}`);
}
