// deploy/overlays/self-managed as the API server meets it: the webhook started
// with the overlay's Deployment arguments (--self-managed-certs), with the
// overlay's extra RBAC and nothing more, issues its own CA and serving
// certificate into the Secret hookpoint-webhook-tls, writes them where
// --cert/--key point, sets the caBundle of zz-hookpoint, and the API server then
// calls it over TLS it trusts. Only what a pod provides is replaced: the port (a
// free one), the certificate paths (a temporary directory instead of the
// emptyDir), and loopback, kubeconfig and namespace instead of the pod network,
// the in-cluster credentials and POD_NAMESPACE.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { KubeConfig } from "@kubernetes/client-node";
import { serviceAccountKubeConfig } from "./support/cluster.js";
import { installBase, localArgs, pick, registerWebhookConfiguration, renderOrSkip, WEBHOOK_CONFIGURATION, WEBHOOK_NAMESPACE, WEBHOOK_SERVICE_ACCOUNT, type K8sObject } from "./support/deploy.js";
import { apply, kubeRequest, ok, remove } from "./support/kube-http.js";
import { createPod, probePod } from "./support/pods.js";
import { pollUntil } from "./support/poll.js";
import { useCluster } from "./support/e2e.js";
import { freePort, INJECT, STATUS, WebhookProcess } from "./support/webhook.js";

const e2e = useCluster();

const SECRET = "hookpoint-webhook-tls";
const SECRET_PATH = `/api/v1/namespaces/${WEBHOOK_NAMESPACE}/secrets/${SECRET}`;

let admin: KubeConfig | undefined;
let webhook: WebhookProcess | undefined;
let dir: string | undefined;
const installed: K8sObject[] = [];
afterAll(async () => {
  await webhook?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (!admin) return;
  // Leave the cluster with deploy/base's RBAC only, as the other files expect.
  for (const o of installed.reverse()) await remove(admin, o);
  await kubeRequest(admin, { method: "DELETE", path: SECRET_PATH });
});

interface Secret {
  type?: string;
  data?: Record<string, string>;
}

describe("deploy/overlays/self-managed: certificates managed by the webhook itself", () => {
  it("started with the overlay's arguments, it issues its certificate into the Secret, sets zz-hookpoint's caBundle, and the API server calls it", async (ctx) => {
    const cluster = e2e.require(ctx);
    admin = cluster.admin;
    const objs = renderOrSkip(ctx, "self-managed");
    await installBase(admin);
    for (const [kind, name] of [["Role", "hookpoint-webhook-certs"], ["RoleBinding", "hookpoint-webhook-certs"]] as const) {
      const o = pick(objs, kind, name);
      ok(await apply(admin, o), `apply ${kind} ${name}`);
      installed.push(o);
    }
    await kubeRequest(admin, { method: "DELETE", path: SECRET_PATH });
    // Registered without a caBundle: the webhook is to set it.
    const configuration = pick(objs, "MutatingWebhookConfiguration", WEBHOOK_CONFIGURATION);
    const port = await freePort();
    for (const w of configuration.webhooks as { clientConfig: unknown }[]) w.clientConfig = { url: `https://127.0.0.1:${port}/mutate` };
    await registerWebhookConfiguration(admin, configuration);
    installed.push(configuration);

    const sa = await serviceAccountKubeConfig(WEBHOOK_NAMESPACE, WEBHOOK_SERVICE_ACCOUNT);
    dir = mkdtempSync(join(tmpdir(), "hookpoint-e2e-self-managed-"));
    const certFile = join(dir, "tls.crt");
    const keyFile = join(dir, "tls.key");
    const args = localArgs(pick(objs, "Deployment", "hookpoint-webhook"), port, certFile, keyFile, sa.kubeconfigPath);
    expect(args).toContain("--self-managed-certs");
    const kc = admin;
    const secretCa = async () => {
      const res = await kubeRequest<Secret>(kc, { method: "GET", path: SECRET_PATH });
      const ca = res.status === 200 ? res.body.data?.["ca.crt"] : undefined;
      return ca === undefined ? undefined : Buffer.from(ca, "base64").toString("utf8");
    };
    webhook = new WebhookProcess({ port, args, ca: secretCa });

    await webhook.start();

    const secret = ok(await kubeRequest<Secret>(admin, { method: "GET", path: SECRET_PATH }), `get Secret ${SECRET}`).body;
    expect(Object.keys(secret.data ?? {}).sort()).toEqual(["ca.crt", "ca.key", "tls.crt", "tls.key"]);
    const decoded = (k: string) => Buffer.from(secret.data?.[k] ?? "", "base64").toString("utf8");
    expect(readFileSync(certFile, "utf8")).toBe(decoded("tls.crt"));
    expect(readFileSync(keyFile, "utf8")).toBe(decoded("tls.key"));
    const registered = ok(
      await kubeRequest<{ webhooks: { name: string; clientConfig: { url?: string; caBundle?: string } }[] }>(admin, {
        method: "GET",
        path: `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${WEBHOOK_CONFIGURATION}`,
      }),
      `get MutatingWebhookConfiguration ${WEBHOOK_CONFIGURATION}`,
    ).body;
    expect(registered.webhooks.map((w) => [w.name, w.clientConfig])).toEqual([
      ["namespace.inject.hookpoint.dev", { url: `https://127.0.0.1:${port}/mutate`, caBundle: secret.data?.["ca.crt"] }],
      ["pod.inject.hookpoint.dev", { url: `https://127.0.0.1:${port}/mutate`, caBundle: secret.data?.["ca.crt"] }],
    ]);

    // The API server trusts the self-issued certificate: a pod is traced.
    const ns = await e2e.namespace("self-managed", { labels: { [INJECT]: "enabled" } });
    const traced = await pollUntil(
      () => createPod(kc, ns, probePod("probe"), { dryRun: true }),
      (r) => r.pod.metadata?.annotations?.[STATUS] !== undefined,
      { what: "the API server calling the self-managed webhook" },
    );
    expect(traced.value.warnings).toEqual([]);
  });
});
