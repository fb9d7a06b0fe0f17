// deploy/overlays/self-managed as the API server meets it: the webhook started
// with the overlay's Deployment arguments (--self-managed-certs), with the
// overlay's extra RBAC and nothing more (get/update of its one Secret, no
// create), issues its own CA and serving certificate into the empty Secret
// hookpoint-webhook-tls the overlay creates, writes them where
// --cert/--key point, sets the caBundle of zz-hookpoint, and the API server then
// calls it over TLS it trusts. Only what a pod provides is replaced: the port (a
// free one), the certificate paths (a temporary directory instead of the
// emptyDir), and loopback, kubeconfig and namespace instead of the pod network,
// the in-cluster credentials and POD_NAMESPACE.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { canI, describeAccess, type Access } from "./support/access.js";
import { serviceAccountKubeConfig } from "./support/cluster.js";
import { WEBHOOK_CONFIGURATION, WEBHOOK_NAMESPACE, WEBHOOK_SERVICE_ACCOUNT } from "./support/deploy.js";
import { kubeRequest, ok } from "./support/kube-http.js";
import { createPod, probePod } from "./support/pods.js";
import { pollUntil } from "./support/poll.js";
import { useCluster } from "./support/e2e.js";
import { TLS_SECRET_PATH as SECRET_PATH, useSelfManaged } from "./support/self-managed.js";
import { INJECT, STATUS } from "./support/webhook.js";

const e2e = useCluster();

const selfManaged = useSelfManaged(e2e, "hookpoint-e2e-self-managed-");

interface Secret {
  type?: string;
  data?: Record<string, string>;
}

describe("deploy/overlays/self-managed: certificates managed by the webhook itself", () => {
  it("started with the overlay's arguments, it issues its certificate into the Secret, sets zz-hookpoint's caBundle, and the API server calls it", async (ctx) => {
    const { admin, setup } = await selfManaged.start(ctx);
    const { port, args, certFile, keyFile } = setup;
    expect(args).toContain("--self-managed-certs");
    const kc = admin;

    const secret = ok(await kubeRequest<Secret>(admin, { method: "GET", path: SECRET_PATH }), "get Secret hookpoint-webhook-tls").body;
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

  it("its ServiceAccount may get and update the one Secret hookpoint-webhook-tls and nothing else about Secrets", async (ctx) => {
    await selfManaged.start(ctx);
    const sa = await serviceAccountKubeConfig(WEBHOOK_NAMESPACE, WEBHOOK_SERVICE_ACCOUNT);
    const secret = (verb: string, name?: string, namespace = WEBHOOK_NAMESPACE): Access => ({ verb, group: "", resource: "secrets", namespace, ...(name ? { name } : {}) });
    const asked = [
      secret("get", "hookpoint-webhook-tls"),
      secret("update", "hookpoint-webhook-tls"),
      secret("patch", "hookpoint-webhook-tls"),
      secret("delete", "hookpoint-webhook-tls"),
      secret("get", "another-secret"),
      secret("update", "another-secret"),
      secret("create"),
      secret("list"),
      secret("watch"),
      secret("get", "hookpoint-webhook-tls", "default"),
    ];
    const allowed: string[] = [];
    for (const a of asked) if (await canI(sa.kubeConfig, a)) allowed.push(describeAccess(a));
    expect(allowed).toEqual(["get core/secrets hookpoint-webhook-tls in hookpoint-system", "update core/secrets hookpoint-webhook-tls in hookpoint-system"]);
  });
});
