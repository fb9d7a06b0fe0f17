// `hookpoint certs rotate-ca` against the real kube-apiserver and the webhook
// started with deploy/overlays/self-managed's arguments (checking every 2 s
// instead of every minute): the command, run as a ServiceAccount granted only
// get/patch on the one Secret (as the README documents), records the request;
// the webhook adds a new CA to the caBundle of zz-hookpoint next to the old
// one, and moves its serving certificate to the new CA only after that. A real
// TLS client verifies every connection against the caBundle of zz-hookpoint as
// the API server holds it at that moment: none may fail. The request is then
// gone, and later checks rotate nothing more.
import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { issuedBy, splitPemCertificates } from "../../src/certs/inspect.js";
import { runCliAsync } from "../support/cli.js";
import { loadPod } from "../support/pods.js";
import { atCreate, podReview, verifiedLoad } from "../integration/server/support.js";
import { serviceAccountKubeConfig } from "./support/cluster.js";
import { WEBHOOK_CONFIGURATION, WEBHOOK_NAMESPACE } from "./support/deploy.js";
import { useCluster } from "./support/e2e.js";
import { apply, kubeRequest, ok, remove } from "./support/kube-http.js";
import { pollUntil, sleep } from "./support/poll.js";
import { TLS_SECRET_PATH, useSelfManaged } from "./support/self-managed.js";

const e2e = useCluster();
const CHECK_SECONDS = 2;
const selfManaged = useSelfManaged(e2e, "hookpoint-e2e-rotate-ca-", { extraArgs: ["--cert-check-interval", String(CHECK_SECONDS)] });

const ANNOTATION = "hookpoint.dev/rotate-ca-requested-at";
const MAX_REQUESTS = 5_000;
const MAX_MS = 90_000;

interface Secret {
  metadata: { annotations?: Record<string, string> };
  data?: Record<string, string>;
}

const fp = (pem: string) => new X509Certificate(pem).fingerprint256;

describe("hookpoint certs rotate-ca on a self-managed install", () => {
  it("new CA into the caBundle first, the serving certificate after, 0 verification failures, the request consumed once", async (ctx) => {
    const { admin, setup, webhook } = await selfManaged.start(ctx);
    const { cluster } = e2e.require(ctx);

    const configBundle = async (): Promise<string> => {
      const mwc = ok(
        await kubeRequest<{ webhooks: { clientConfig: { caBundle?: string } }[] }>(admin, {
          method: "GET",
          path: `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${WEBHOOK_CONFIGURATION}`,
        }),
        "get zz-hookpoint",
      ).body;
      const bundles = new Set(mwc.webhooks.map((w) => w.clientConfig.caBundle ?? ""));
      if (bundles.size !== 1) throw new Error(`the entries of ${WEBHOOK_CONFIGURATION} disagree on the caBundle`);
      return Buffer.from([...bundles][0] ?? "", "base64").toString("utf8");
    };
    const secret = async () => ok(await kubeRequest<Secret>(admin, { method: "GET", path: TLS_SECRET_PATH }), "get Secret").body;
    const secretText = (s: Secret, key: string) => Buffer.from(s.data?.[key] ?? "", "base64").toString("utf8");

    const before = await secret();
    const oldCa = secretText(before, "ca.crt");
    const oldLeaf = secretText(before, "tls.crt");
    expect(splitPemCertificates(await configBundle())).toEqual([oldCa]);

    // The operator: a ServiceAccount with get/patch on the one Secret and nothing else.
    const role = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "hookpoint-e2e-rotate-ca", namespace: WEBHOOK_NAMESPACE },
      rules: [{ apiGroups: [""], resources: ["secrets"], resourceNames: ["hookpoint-webhook-tls"], verbs: ["get", "patch"] }],
    };
    const binding = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "hookpoint-e2e-rotate-ca", namespace: WEBHOOK_NAMESPACE },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "hookpoint-e2e-rotate-ca" },
      subjects: [{ kind: "ServiceAccount", name: "hookpoint-e2e-rotator", namespace: WEBHOOK_NAMESPACE }],
    };
    ok(await apply(admin, role), "apply Role");
    ok(await apply(admin, binding), "apply RoleBinding");
    ctx.onTestFinished(async () => {
      await remove(admin, binding);
      await remove(admin, role);
    });
    const rotator = await serviceAccountKubeConfig(WEBHOOK_NAMESPACE, "hookpoint-e2e-rotator");
    const unbound = await serviceAccountKubeConfig(WEBHOOK_NAMESPACE, "hookpoint-e2e-nobody");

    // Refusals first, nothing requested: no RBAC (exit 1, naming what is needed), no Secret there (exit 1).
    const denied = await runCliAsync(["certs", "rotate-ca", "--kubeconfig", unbound.kubeconfigPath]);
    expect(denied.code).toBe(1);
    expect(denied.stdout).toBe("");
    expect(denied.stderr).toMatch(
      /^hookpoint certs rotate-ca: reading Secret hookpoint-system\/hookpoint-webhook-tls was refused: HTTP 403: .*; rotate-ca needs get and patch on secrets\/hookpoint-webhook-tls in namespace hookpoint-system \(see the README, "hookpoint certs rotate-ca"\)\n$/,
    );
    const elsewhere = await runCliAsync(["certs", "rotate-ca", "--kubeconfig", cluster.kubeconfigPath, "-n", "default"]);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toBe(
      "hookpoint certs rotate-ca: Secret default/hookpoint-webhook-tls not found: rotate-ca applies to installs with self-managed certificates (deploy/overlays/self-managed) in that namespace; pass -n for another namespace\n",
    );
    expect((await secret()).metadata.annotations?.[ANNOTATION]).toBeUndefined();

    // A real client, a new connection per request, verifying against zz-hookpoint's caBundle as read just before.
    const body = JSON.stringify(podReview(atCreate(loadPod("classic-sidecar"))));
    const load = verifiedLoad({ port: setup.port, ca: configBundle, body, workers: 1, maxRequests: MAX_REQUESTS, maxMs: MAX_MS });
    const { failures, seen } = load;
    await pollUntil(async () => load.total(), (n) => n > 20, { what: "requests before the rotation", timeoutMs: 30_000, intervalMs: 50 });

    const requested = await runCliAsync(["certs", "rotate-ca", "--kubeconfig", rotator.kubeconfigPath]);
    expect(requested.stderr).toBe("");
    expect(requested.code).toBe(0);
    const lines = requested.stdout.split("\n");
    expect(lines[0]).toMatch(/^requested a CA rotation on Secret hookpoint-system\/hookpoint-webhook-tls: annotation hookpoint\.dev\/rotate-ca-requested-at=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(lines[1]).toBe(
      `current CA: SHA-256 ${fp(oldCa)}, issued ${new Date(new X509Certificate(oldCa).validFrom).toISOString()}, valid until ${new Date(new X509Certificate(oldCa).validTo).toISOString()}`,
    );
    expect(lines.slice(2).join("\n")).toContain("kubectl -n hookpoint-system get secret hookpoint-webhook-tls");

    // Step 1: the new CA joins the old one, in the Secret and in zz-hookpoint; the request is consumed with it.
    const step1 = await pollUntil(configBundle, (b) => splitPemCertificates(b).length === 2, { what: "the new CA in zz-hookpoint's caBundle", timeoutMs: 30_000, intervalMs: 100 });
    const [newCa = "", kept = ""] = splitPemCertificates(step1.value);
    expect(kept).toBe(oldCa);
    const afterStep1 = await secret();
    expect(afterStep1.metadata.annotations?.[ANNOTATION]).toBeUndefined();

    // Step 2: the serving certificate moves to the new CA, and clients are shown it.
    const moved = await pollUntil(secret, (s) => secretText(s, "tls.crt") !== oldLeaf, { what: "the serving certificate to move", timeoutMs: 30_000, intervalMs: 100 });
    const newLeaf = secretText(moved.value, "tls.crt");
    expect(issuedBy(new X509Certificate(newLeaf), new X509Certificate(newCa))).toBe(true);
    await pollUntil(async () => seen.includes(fp(newLeaf)), (x) => x, { what: "a connection served the new certificate", timeoutMs: 30_000, intervalMs: 100 });

    // Consumed: three more checks rotate nothing.
    await sleep(3 * CHECK_SECONDS * 1000 + 500);
    await load.stop();
    const after = await secret();
    expect(splitPemCertificates(secretText(after, "ca.crt"))).toEqual([newCa, oldCa]);
    expect(secretText(after, "tls.crt")).toBe(newLeaf);
    expect(splitPemCertificates(await configBundle())).toEqual([newCa, oldCa]);
    const issued = webhook
      .logLines()
      .filter((l) => l.msg === "issuing webhook certificate")
      .map((l) => l["action"]);
    expect(issued).toEqual(["create", "rotate-ca", "switch-serving"]);

    expect(failures).toEqual([]);
    expect(seen).toEqual([fp(oldLeaf), fp(newLeaf)]);
    console.log(`rotate-ca: ${load.total()} requests verified against zz-hookpoint's caBundle, 0 failed`);
  });
});
