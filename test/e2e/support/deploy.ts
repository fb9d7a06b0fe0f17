// deploy/ as the e2e tests use it: the kustomize output (rendered by the same
// helper as test/unit/deploy), the parts of the base installed for real, and the
// webhook configuration re-pointed at a local process.
import type { KubeConfig } from "@kubernetes/client-node";
import type { K8sObject } from "../../unit/deploy/support.js";
import { build, find, render } from "../../unit/deploy/render.js";
import { apply, kubeRequest, ok, remove, type KubeResponse } from "./kube-http.js";
import { pollUntil } from "./poll.js";

export type { K8sObject } from "../../unit/deploy/support.js";
export { KustomizeMissingError, TARGETS, type Target } from "../../unit/deploy/render.js";

export const WEBHOOK_NAMESPACE = "hookpoint-system";
export const WEBHOOK_SERVICE_ACCOUNT = "hookpoint-webhook";
export const WEBHOOK_CONFIGURATION = "zz-hookpoint";
export const CRD_NAME = "hookpointpolicies.hookpoint.dev";

/** The kustomize output of a target, or ctx.skip(reason) where kustomize was not built (outside CI). */
export const renderOrSkip = render;
export const pick = find;

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
  const objs = build("base");
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
  const mwc = pick(build("base"), "MutatingWebhookConfiguration", WEBHOOK_CONFIGURATION);
  for (const w of mwc.webhooks as { clientConfig: unknown }[]) w.clientConfig = { url, caBundle };
  return mwc;
}

export async function registerWebhookConfiguration(admin: KubeConfig, mwc: K8sObject): Promise<void> {
  // Replace rather than merge: a previous registration may hold clientConfig fields this one does not set.
  await remove(admin, mwc);
  ok(await apply(admin, mwc), `apply MutatingWebhookConfiguration ${mwc.metadata.name}`);
}

/** The Deployment's container arguments with what only a pod has replaced. */
export function localArgs(deployment: K8sObject, port: number, certFile: string, keyFile: string, kubeconfigPath: string): string[] {
  const args = [...((deployment.spec.template.spec.containers as { args: string[] }[])[0]?.args ?? [])];
  if (args[0] !== "webhook") throw new Error(`the Deployment does not run "hookpoint webhook": ${args.join(" ")}`);
  const replace = (flag: string, value: string) => {
    const i = args.indexOf(flag);
    if (i < 0) throw new Error(`the Deployment's arguments have no ${flag}: ${args.join(" ")}`);
    args[i + 1] = value;
  };
  replace("--port", String(port));
  replace("--cert", certFile);
  replace("--key", keyFile);
  return [...args.slice(1), "--host", "127.0.0.1", "--kubeconfig", kubeconfigPath, "--namespace", WEBHOOK_NAMESPACE, "--log-level", "info", "--shutdown-delay", "0"];
}
