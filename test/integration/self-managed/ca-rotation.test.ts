// A CA rotation seen from the client's side: the real webhook on 127.0.0.1
// serves the certificate the self-managed module hands it (through the files
// and the TLS reload), and a real client verifies every connection against the
// caBundle of the webhook configuration as it is at that moment (the fake API
// server's), the way the API server does. Through both steps of the rotation no
// connection may fail; a client still holding only the old bundle would fail
// once the serving certificate has moved, which is why it moves last.
import { mkdtempSync, rmSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeServingFiles } from "../../../src/certs/files.js";
import { issuedBy, splitPemCertificates } from "../../../src/certs/inspect.js";
import { startSelfManagedCerts, type SelfManagedCerts, type ServingTls } from "../../../src/k8s/self-managed-certs.js";
import { loadPod } from "../../support/pods.js";
import { atCreate, podReview, post, startTestWebhook, verifiedLoad, waitFor, type TestWebhook } from "../server/support.js";
import { FakeApiServer, webhookConfig } from "./fake-apiserver.js";

const NS = "hookpoint-system";
const DAY = 86_400_000;
const MAX_REQUESTS = 20_000;
const MAX_MS = 60_000;

let api: FakeApiServer;
let dir: string;
const cleanups: Array<() => Promise<void> | void> = [];

beforeEach(async () => {
  api = new FakeApiServer();
  await api.start();
  api.putWebhookConfig(webhookConfig("zz-hookpoint"));
  api.secrets.set(`${NS}/hookpoint-webhook-tls`, { apiVersion: "v1", kind: "Secret", metadata: { name: "hookpoint-webhook-tls", namespace: NS, resourceVersion: "1" }, type: "Opaque" });
  dir = mkdtempSync(join(tmpdir(), "hookpoint-ca-rotation-"));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The caBundle every entry of the configuration holds now (they must agree), as PEM. */
function configBundle(): string {
  const mwc = api.webhookConfigs.get("zz-hookpoint") as unknown as { webhooks: { clientConfig: { caBundle?: string } }[] };
  const bundles = new Set(mwc.webhooks.map((w) => w.clientConfig.caBundle ?? ""));
  if (bundles.size !== 1) throw new Error(`the entries disagree on the caBundle: ${bundles.size} different ones`);
  return Buffer.from([...bundles][0] ?? "", "base64").toString("utf8");
}

const fp = (pem: string) => new X509Certificate(pem).fingerprint256;

describe("CA rotation, verified by a real client against the configuration's caBundle", () => {
  it("never shows a client a certificate from a CA its caBundle lacks", async () => {
    // The clock of the certificate module; the webhook and the client use the real one.
    // The CA (10 years) is made 2,440 days ago, so that it is due for rotation today.
    const real = Date.now();
    let now = new Date(real - 2440 * DAY);
    const certFile = join(dir, "tls.crt");
    const keyFile = join(dir, "tls.key");
    const delivered: ServingTls[] = [];
    const certs: SelfManagedCerts = await startSelfManagedCerts({
      kubeConfig: api.kubeConfig(),
      namespace: NS,
      checkIntervalMs: 3_600_000,
      now: () => now,
      onCertificate: (tls) => {
        delivered.push(tls);
        writeServingFiles({ certFile, keyFile }, tls);
      },
      log: { info: () => {}, warn: () => {}, error: () => {} },
    });
    cleanups.push(() => certs.stop());
    const oldCa = configBundle();
    // A month ago the serving certificate was renewed (same CA); the CA was not yet due.
    now = new Date(real - 30 * DAY);
    await certs.sync();
    expect(configBundle()).toBe(oldCa);
    const oldLeaf = delivered.at(-1)?.cert ?? "";

    const webhook: TestWebhook = await startTestWebhook(certFile, keyFile, 100);
    cleanups.push(() => webhook.close());
    const body = JSON.stringify(podReview(atCreate(loadPod("classic-sidecar"))));

    // Load: a new connection per request, each verified against the configuration's caBundle of that moment.
    const load = verifiedLoad({ port: webhook.port, ca: configBundle, body, workers: 4, maxRequests: MAX_REQUESTS, maxMs: MAX_MS });
    const { failures, seen } = load;
    const total = () => load.total();
    await waitFor("requests before the rotation", () => total() > 100);

    // Step 1 (today): the new CA joins the bundle, in the Secret and the configuration; the serving certificate stays.
    now = new Date(real);
    await certs.sync();
    const bundle = splitPemCertificates(configBundle());
    expect(bundle).toHaveLength(2);
    expect(bundle[1]).toBe(oldCa);
    expect(delivered.at(-1)?.cert).toBe(oldLeaf);
    const afterStep1 = total();
    await waitFor("requests between the steps", () => total() > afterStep1 + 200);

    // Step 2 (the next pass reads the new CA back from the configuration): the serving certificate moves.
    await certs.sync();
    const newLeaf = delivered.at(-1)?.cert ?? "";
    expect(newLeaf).not.toBe(oldLeaf);
    expect(issuedBy(new X509Certificate(newLeaf), new X509Certificate(bundle[0] ?? ""))).toBe(true);
    await waitFor("a new connection to be served the new certificate", () => seen.includes(fp(newLeaf)));
    const afterStep2 = total();
    await waitFor("requests after the switch", () => total() > afterStep2 + 200);
    await load.stop();

    expect(failures).toEqual([]);
    expect(seen).toEqual([fp(oldLeaf), fp(newLeaf)]);
    // Why the order matters: a client that had only the old CA would refuse the new certificate.
    await expect(post(webhook.port, oldCa, body, false)).rejects.toThrow(/unable to (verify|get issuer)|self.signed/i);
    console.log(`CA rotation: ${total()} requests verified against the configuration's caBundle, 0 failed`);
  });
});
