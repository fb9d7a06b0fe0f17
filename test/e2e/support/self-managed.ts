// deploy/overlays/self-managed as the API server meets it, for the e2e files
// that run the webhook with that overlay's own arguments: the base installed
// for real (minus what needs nodes), the overlay's extra RBAC, no TLS Secret
// yet, zz-hookpoint registered without a caBundle (the webhook sets it) and
// pointing at a free port of 127.0.0.1, and the Deployment's arguments with
// only what a pod provides replaced (see localArgs).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, type TestContext } from "vitest";
import type { KubeConfig } from "@kubernetes/client-node";
import { serviceAccountKubeConfig } from "./cluster.js";
import { installBase, localArgs, pick, registerWebhookConfiguration, renderOrSkip, WEBHOOK_CONFIGURATION, WEBHOOK_NAMESPACE, WEBHOOK_SERVICE_ACCOUNT, type K8sObject } from "./deploy.js";
import type { E2E } from "./e2e.js";
import { apply, kubeRequest, ok, remove } from "./kube-http.js";
import { freePort, WebhookProcess } from "./webhook.js";

export const TLS_SECRET_PATH = `/api/v1/namespaces/${WEBHOOK_NAMESPACE}/secrets/hookpoint-webhook-tls`;

export interface SelfManagedInstall {
  port: number;
  /** `hookpoint webhook`'s arguments (after "webhook"). */
  args: string[];
  dir: string;
  certFile: string;
  keyFile: string;
  /** What was applied beyond the base, to remove afterwards (configuration last). */
  installed: K8sObject[];
  /** The CA in the Secret, once the webhook wrote it. */
  secretCa: () => Promise<string | undefined>;
}

/** Installs the self-managed overlay's parts for a local webhook; `objs` is its kustomize output. */
export async function installSelfManaged(admin: KubeConfig, objs: K8sObject[], dirPrefix: string): Promise<SelfManagedInstall> {
  await installBase(admin);
  const installed: K8sObject[] = [];
  for (const [kind, name] of [["Role", "hookpoint-webhook-certs"], ["RoleBinding", "hookpoint-webhook-certs"]] as const) {
    const o = pick(objs, kind, name);
    ok(await apply(admin, o), `apply ${kind} ${name}`);
    installed.push(o);
  }
  await kubeRequest(admin, { method: "DELETE", path: TLS_SECRET_PATH });
  // The Secret as the overlay creates it, empty: the webhook may fill it, never create it.
  const secret = pick(objs, "Secret", "hookpoint-webhook-tls");
  ok(await apply(admin, secret), "apply Secret hookpoint-webhook-tls");
  const configuration = pick(objs, "MutatingWebhookConfiguration", WEBHOOK_CONFIGURATION);
  const port = await freePort();
  for (const w of configuration.webhooks as { clientConfig: unknown }[]) w.clientConfig = { url: `https://127.0.0.1:${port}/mutate` };
  await registerWebhookConfiguration(admin, configuration);
  installed.push(configuration);

  const sa = await serviceAccountKubeConfig(WEBHOOK_NAMESPACE, WEBHOOK_SERVICE_ACCOUNT);
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  const certFile = join(dir, "tls.crt");
  const keyFile = join(dir, "tls.key");
  const args = localArgs(pick(objs, "Deployment", "hookpoint-webhook"), port, certFile, keyFile, sa.kubeconfigPath);
  const secretCa = async () => {
    const res = await kubeRequest<{ data?: Record<string, string> }>(admin, { method: "GET", path: TLS_SECRET_PATH });
    const ca = res.status === 200 ? res.body.data?.["ca.crt"] : undefined;
    return ca === undefined ? undefined : Buffer.from(ca, "base64").toString("utf8");
  };
  return { port, args, dir, certFile, keyFile, installed, secretCa };
}

export interface SelfManagedRun {
  admin: KubeConfig;
  setup: SelfManagedInstall;
  webhook: WebhookProcess;
}

/**
 * One self-managed webhook per test file: start(ctx) installs the overlay's
 * parts and starts `hookpoint webhook` with its arguments (once; later calls
 * return the same run; `extraArgs` go after the overlay's arguments); after the file's tests the webhook is stopped and the
 * overlay's parts, the Secret and its directory are removed, leaving the base.
 */
export function useSelfManaged(
  e2e: E2E,
  dirPrefix: string,
  opts: { extraArgs?: readonly string[] } = {},
): { start(ctx: TestContext): Promise<SelfManagedRun> } {
  let run: SelfManagedRun | undefined;
  let admin: KubeConfig | undefined;
  const installed: K8sObject[] = [];
  let dir: string | undefined;
  let webhook: WebhookProcess | undefined;
  afterAll(async () => {
    await webhook?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (!admin) return;
    // Leave the cluster with deploy/base's RBAC only, as the other files expect.
    for (const o of installed.reverse()) await remove(admin, o);
    await kubeRequest(admin, { method: "DELETE", path: TLS_SECRET_PATH });
  });
  return {
    async start(ctx) {
      if (run) return run;
      admin = e2e.require(ctx).admin;
      const setup = await installSelfManaged(admin, renderOrSkip(ctx, "self-managed"), dirPrefix);
      installed.push(...setup.installed);
      dir = setup.dir;
      const args = [...setup.args, ...(opts.extraArgs ?? [])];
      webhook = new WebhookProcess({ port: setup.port, args, ca: setup.secretCa });
      await webhook.start();
      run = { admin, setup, webhook };
      return run;
    },
  };
}
