// The real-Istio e2e files: `const istio = useIstio(e2e)` brings istiod up (shared by
// every file, see istiod.ts) and gives what the scenarios have in common: the pod a
// ReplicaSet would create from a Deployment, hookpoint's configuration under another
// name, and `hookpoint explain` on a stored pod.
import { randomBytes } from "node:crypto";
import { beforeAll, type TestContext } from "vitest";
import { runCliAsync } from "../../support/cli.js";
import type { ExplainRow } from "../../../src/cli/explain-run.js";
import { localWebhookConfiguration, registerWebhookConfiguration, WEBHOOK_CONFIGURATION, type K8sObject } from "./deploy.js";
import type { E2E } from "./e2e.js";
import { IstioUnavailableError } from "./istio-binaries.js";
import { ensureIstiod, type Istiod } from "./istiod.js";
import { kubeRequest, ok, remove } from "./kube-http.js";
import type { Pod } from "./pods.js";
import type { Hookpoint } from "./webhook.js";

export const ISTIO_STATUS = "sidecar.istio.io/status";
export const ISTIO_INJECTION = "istio-injection";

export interface IstioHarness {
  require(ctx: TestContext): Istiod;
}

export function useIstio(e2e: E2E): IstioHarness {
  let istiod: Istiod | undefined;
  let unavailable = "istiod was not set up (beforeAll did not run)";
  beforeAll(async () => {
    try {
      istiod = await ensureIstiod();
    } catch (e) {
      if (!(e instanceof IstioUnavailableError)) throw e;
      unavailable = `Istio cannot be built on this machine: ${e.message}`;
    }
  }, 30 * 60_000);
  return {
    require(ctx) {
      e2e.require(ctx);
      if (!istiod) return ctx.skip(unavailable);
      return istiod;
    },
  };
}

export interface Deployment extends K8sObject {
  spec: { replicas?: number; selector: { matchLabels: Record<string, string> }; template: { metadata?: Pod["metadata"]; spec: Pod["spec"] } };
}

/** Creates a Deployment (no webhook sees it: they select pods) and returns it as stored. */
export async function createDeployment(kc: Hookpoint["admin"], namespace: string, d: Deployment): Promise<Deployment> {
  const res = await kubeRequest<Deployment>(kc, { method: "POST", path: `/apis/apps/v1/namespaces/${namespace}/deployments`, body: d });
  return ok(res, `create Deployment ${namespace}/${d.metadata.name}`).body;
}

/**
 * The pod the Deployment's ReplicaSet would create (there is no controller-manager
 * here): the template's metadata and spec, the pod-template-hash label, the
 * ReplicaSet's generated name and its ownerReference.
 */
export function replicaSetPod(d: Deployment): Pod {
  const hash = randomBytes(5).toString("hex").slice(0, 10);
  const rs = `${d.metadata.name}-${hash}`;
  const t = d.spec.template;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      ...(t.metadata ?? {}),
      name: `${rs}-${randomBytes(3).toString("hex").slice(0, 5)}`,
      generateName: `${rs}-`,
      labels: { ...(t.metadata?.labels ?? {}), "pod-template-hash": hash },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: rs, uid: crypto.randomUUID(), controller: true, blockOwnerDeletion: true }],
    },
    spec: structuredClone(t.spec),
  } as Pod;
}

/**
 * Runs `body` with hookpoint's MutatingWebhookConfiguration registered under `name`
 * instead of zz-hookpoint (configurations run in name order), and puts it back after.
 */
export async function withHookpointNamed<T>(h: Hookpoint, name: string, body: () => Promise<T>): Promise<T> {
  const url = `${h.webhook.url}/mutate`;
  const renamed = localWebhookConfiguration(url, h.certs.caBundle);
  renamed.metadata.name = name;
  await remove(h.admin, h.configuration);
  await registerWebhookConfiguration(h.admin, renamed);
  try {
    return await body();
  } finally {
    await remove(h.admin, renamed);
    await registerWebhookConfiguration(h.admin, localWebhookConfiguration(url, h.certs.caBundle));
  }
}

export { WEBHOOK_CONFIGURATION };

/** `hookpoint explain --kubeconfig ... -o json` on one stored pod. */
export async function explainPod(kubeconfigPath: string, pod: Pod): Promise<ExplainRow> {
  const r = await runCliAsync(["explain", "-f", "-", "--kubeconfig", kubeconfigPath, "-o", "json"], { input: JSON.stringify(pod) });
  if (r.code !== 0) throw new Error(`hookpoint explain exited ${r.code}: ${r.stderr}`);
  const rows = JSON.parse(r.stdout) as ExplainRow[];
  if (rows.length !== 1 || !rows[0]) throw new Error(`hookpoint explain printed ${rows.length} rows: ${r.stdout}`);
  return rows[0];
}

/** `hookpoint explain --kubeconfig ... -o json` on manifests as a user writes them: the rows and what it said on stderr. */
export async function explainManifests(kubeconfigPath: string, objects: readonly object[]): Promise<{ rows: ExplainRow[]; stderr: string }> {
  const r = await runCliAsync(["explain", "-f", "-", "--kubeconfig", kubeconfigPath, "-o", "json"], { input: objects.map((o) => JSON.stringify(o)).join("\n") });
  if (r.code !== 0) throw new Error(`hookpoint explain exited ${r.code}: ${r.stderr}`);
  return { rows: JSON.parse(r.stdout) as ExplainRow[], stderr: r.stderr };
}
